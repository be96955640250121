package main

import "strings"

var containerResourcesRule = resourceRule{
	name:        "kubernetes-container-resources",
	description: "Every container sets CPU and memory requests and limits.",
	scope:       sensitiveOnly,
	check:       checkContainerResources,
}

var requiredResources = [][]string{
	{"requests", "cpu"}, {"requests", "memory"}, {"limits", "cpu"}, {"limits", "memory"},
}

// checkContainerResources: a container without limits can starve its neighbours
// and without requests is the first evicted. Mandatory where patient data is
// served; elsewhere the namespace LimitRange supplies defaults, so it advises.
func checkContainerResources(_ target, r analyzed) []finding {
	return eachContainer(r, func(c container) {
		if c.ephemeral {
			return // ephemeral containers cannot declare resources
		}
		var missing []string
		for _, path := range requiredResources {
			full := append([]string{"resources"}, path...)
			quantity := stringAt(c.props, full...)
			if quantity.state == mistyped {
				// Quantities may also be plain numbers.
				if n := numberAt(c.props, full...); n.state == known {
					continue
				}
			}
			value, ok := judge(c.f, quantity)
			if quantity.state == absent || (ok && value == "") {
				missing = append(missing, strings.Join(full, "."))
			}
		}
		if len(missing) > 0 {
			c.f.violation("has no %s", strings.Join(missing, ", "))
		}
	})
}
