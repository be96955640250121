package main

import (
	"regexp"
	"strings"
)

var imageTaggedRule = resourceRule{
	name:        "kubernetes-container-image-tagged",
	description: "Every container image names a tag other than latest, or a digest.",
	scope:       everywhere,
	check:       checkImageTagged,
}

var imageDigestRule = resourceRule{
	name:        "kubernetes-container-image-digest",
	description: "Every container image is pinned by digest (repository@sha256:...).",
	scope:       sensitiveOnly,
	check:       checkImageDigest,
}

var digestPattern = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

// imageReference splits an image into the part that names a tag and its digest:
// "registry:5000/repo:tag@sha256:..." has tag "tag".
func imageReference(image string) (tag string, digest bool) {
	name, _, digest := strings.Cut(image, "@")
	lastSlash := strings.LastIndex(name, "/")
	if colon := strings.LastIndex(name, ":"); colon > lastSlash {
		tag = name[colon+1:]
	}
	return tag, digest
}

// checkImageTagged: latest (or no tag, which means latest) changes under the same
// reference, so what a review approved is not what runs, and a rollback cannot
// name what ran before.
func checkImageTagged(_ target, r analyzed) []finding {
	return eachContainer(r, func(c container) {
		image := stringAt(c.props, "image")
		value, ok := judge(c.f, image)
		switch tag, digest := imageReference(value); {
		case image.state == absent || (ok && value == ""):
			c.f.violation("has no image")
		case !ok || digest:
		case tag == "":
			c.f.violation("image %q has no tag, which means latest", value)
		case tag == "latest":
			c.f.violation("image %q uses the latest tag", value)
		}
	})
}

// checkImageDigest: a tag can be pushed again; only a digest guarantees that
// production runs the bytes that were tested. The message leaves the image out:
// it is the same finding whatever the tag is.
func checkImageDigest(_ target, r analyzed) []finding {
	return eachContainer(r, func(c container) {
		image := stringAt(c.props, "image")
		if value, ok := judge(c.f, image); ok && !digestPattern.MatchString(value) {
			c.f.violation("image is not pinned by digest (repository@sha256:...)")
		}
	})
}
