package main

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// podSpecPaths says where each workload kind keeps its pod spec. Only the groups
// that define these kinds count; a CRD that happens to be called "Deployment" is
// not a workload.
var podSpecPaths = map[string][]string{
	"Pod":                   {"spec"},
	"PodTemplate":           {"template", "spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
}

var workloadGroups = map[string]bool{"core": true, "apps": true, "extensions": true, "batch": true}

// podSpec is the pod spec of a workload, if the resource is one.
func podSpec(r analyzed) (lookup[property.Map], bool) {
	group, kind, ok := r.objectType()
	if !ok || !workloadGroups[group] {
		return lookup[property.Map]{}, false
	}
	path, ok := podSpecPaths[kind]
	if !ok {
		return lookup[property.Map]{}, false
	}
	return mapAt(r.Props, path...), true
}

// containerList names one list of containers in a pod spec.
type containerList struct {
	field string
	label string
	// ephemeral containers cannot have resources or ports.
	ephemeral bool
}

var containerLists = []containerList{
	{field: "initContainers", label: "init container"},
	{field: "containers", label: "container"},
	{field: "ephemeralContainers", label: "ephemeral container", ephemeral: true},
}

// container is one container of a pod spec, with the findings collector that
// names it in messages.
type container struct {
	props     property.Map
	ephemeral bool
	f         findings
}

// workloadPod reads a workload's pod spec and its containers. ok is false when the
// resource is not a workload or its pod spec cannot be read, in which case the
// reason is already recorded in f.
func workloadPod(r analyzed, f findings) (pod property.Map, containers []container, ok bool) {
	spec, isWorkload := podSpec(r)
	if !isWorkload {
		return property.Map{}, nil, false
	}
	if spec.state == absent && r.isPatch() {
		return property.Map{}, nil, false // the patch leaves the pod spec as it is
	}
	pod, ok = judge(f, spec)
	if !ok {
		if spec.state == absent {
			f.violation("%s is missing", spec.path)
		}
		return property.Map{}, nil, false
	}
	return pod, podContainers(pod, f), true
}

// eachContainer runs check on every container of a workload and collects what it
// and the pod lookup find; a resource that is not a workload yields nothing.
func eachContainer(r analyzed, check func(container)) []finding {
	f := newFindings()
	if _, containers, ok := workloadPod(r, f); ok {
		for _, c := range containers {
			check(c)
		}
	}
	return f.all()
}

func podContainers(pod property.Map, f findings) []container {
	var out []container
	for _, list := range containerLists {
		items, ok := judge(f.in("pod"), listAt(pod, list.field))
		if !ok {
			continue
		}
		for i, item := range elements(items, list.field) {
			props, ok := judge(f.in("pod"), item.asMap())
			if !ok {
				continue
			}
			label := fmt.Sprintf("%s %s", list.label, containerName(props, i))
			out = append(out, container{props: props, ephemeral: list.ephemeral, f: f.in(label)})
		}
	}
	return out
}

// containerName is the container's name quoted, or its position when the name is
// not a known string.
func containerName(props property.Map, i int) string {
	if name := stringAt(props, "name"); name.state == known && name.value != "" {
		return fmt.Sprintf("%q", name.value)
	}
	return fmt.Sprintf("#%d", i)
}
