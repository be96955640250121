package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// pkg is one package the stand-in impersonates.
type pkg struct {
	name string
	// version is what the program's SDK asks the engine for (pulumi.Version from the
	// generated SDK).
	version string
	// kinds are the resource types served.
	kinds map[string]kind
	// invokes are the functions served, by token.
	invokes map[string]func(args resource.PropertyMap) (resource.PropertyMap, error)
}

// kind is how one resource type behaves.
type kind struct {
	// computed returns the outputs the real provider computes on create; on update
	// they are carried over from the old state unless an input replaced them.
	computed func(inputs resource.PropertyMap) (resource.PropertyMap, error)
	// computedKeys are unknown during a preview of a create.
	computedKeys []resource.PropertyKey
	// replaceOn are inputs whose change forces a replacement ("*": any input).
	replaceOn []resource.PropertyKey
}

var packages = map[string]pkg{
	"random": {
		name: "random", version: "4.21.2",
		kinds: map[string]kind{
			"random:index/randomPassword:RandomPassword": {
				computed:     func(in resource.PropertyMap) (resource.PropertyMap, error) { return randomPassword(in, true) },
				computedKeys: []resource.PropertyKey{"result"},
				// Every input of the real random resources forces a new value.
				replaceOn: []resource.PropertyKey{"*"},
			},
			"random:index/randomString:RandomString": {
				computed:     func(in resource.PropertyMap) (resource.PropertyMap, error) { return randomPassword(in, false) },
				computedKeys: []resource.PropertyKey{"result"},
				replaceOn:    []resource.PropertyKey{"*"},
			},
		},
	},
	"docker": {
		name: "docker", version: "4.10.0",
		invokes: map[string]func(resource.PropertyMap) (resource.PropertyMap, error){
			"docker:index/getRegistryImage:getRegistryImage": registryImage,
		},
	},
}

func knownPackages() []string {
	var names []string
	for n := range packages {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FakeDigest is the digest the stand-in "resolves" an image reference to: the
// sha256 of the reference itself, so that a different tag gives a different digest
// and the same tag always the same one (as internal/programtest's mock does).
func FakeDigest(image string) string {
	sum := sha256.Sum256([]byte(image))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func registryImage(args resource.PropertyMap) (resource.PropertyMap, error) {
	name := str(args, "name")
	if name == "" {
		return nil, fmt.Errorf("getRegistryImage: name is required")
	}
	out := resource.PropertyMap{
		"id":           resource.NewStringProperty(FakeDigest(name)),
		"name":         resource.NewStringProperty(name),
		"sha256Digest": resource.NewStringProperty(FakeDigest(name)),
	}
	if v, ok := args["insecureSkipVerify"]; ok {
		out["insecureSkipVerify"] = v
	}
	return out, nil
}

const (
	lowerChars   = "abcdefghijklmnopqrstuvwxyz"
	upperChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digitChars   = "0123456789"
	specialChars = "!@#$%&*()-_=+[]{}<>:?"
	alphaNumeric = lowerChars + upperChars + digitChars
)

// randomPassword honours the inputs that shape the value (length, and which
// character classes) like the real provider; result is a secret for RandomPassword.
func randomPassword(in resource.PropertyMap, secret bool) (resource.PropertyMap, error) {
	length := 16
	if v, ok := in["length"]; ok && v.IsNumber() {
		length = int(v.NumberValue())
	}
	if length <= 0 || length > 4096 {
		return nil, fmt.Errorf("length must be from 1 to 4096, got %d", length)
	}
	chars := ""
	for _, class := range []struct {
		key   resource.PropertyKey
		chars string
	}{{"lower", lowerChars}, {"upper", upperChars}, {"numeric", digitChars}, {"special", specialChars}} {
		on := true
		if v, ok := in[class.key]; ok && v.IsBool() {
			on = v.BoolValue()
		}
		if on {
			if class.key == "special" && str(in, "overrideSpecial") != "" {
				chars += str(in, "overrideSpecial")
			} else {
				chars += class.chars
			}
		}
	}
	if chars == "" {
		return nil, fmt.Errorf("every character class is switched off")
	}
	text, err := randomText(length, chars)
	if err != nil {
		return nil, err
	}
	result := resource.NewStringProperty(text)
	if secret {
		result = resource.MakeSecret(result)
	}
	return resource.PropertyMap{"result": result}, nil
}

func randomText(n int, chars string) (string, error) {
	out := make([]byte, n)
	max := big.NewInt(int64(len(chars)))
	for i := range out {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		out[i] = chars[k.Int64()]
	}
	return string(out), nil
}

// str is a string input, or "" (unset, unknown or not a string).
func str(m resource.PropertyMap, key resource.PropertyKey) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}
