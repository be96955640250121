package main

import "strings"

var podHostAccessRule = resourceRule{
	name:        "kubernetes-pod-no-host-access",
	description: "No pod uses hostNetwork, hostPID, hostIPC, hostPath volumes or container hostPorts.",
	scope:       everywhere,
	check:       checkPodHostAccess,
}

var containerSecurityContextRule = resourceRule{
	name: "kubernetes-container-restricted-security-context",
	description: "Every container runs as non-root, unprivileged, with privilege escalation off and no added capabilities " +
		"beyond NET_BIND_SERVICE.",
	scope: everywhere,
	check: checkContainerSecurityContext,
}

// checkPodHostAccess: host namespaces, host ports and host paths reach the node,
// and nodes are shared by every environment of the cluster; a preview pod with
// hostNetwork sits next to production's pods on the same network stack.
func checkPodHostAccess(_ target, r analyzed) []finding {
	f := newFindings()
	pod, containers, ok := workloadPod(r, f)
	if !ok {
		return f.all()
	}
	podF := f.in("pod")
	for _, field := range []struct{ name, shares string }{
		{"hostNetwork", "network"},
		{"hostPID", "process namespace"},
		{"hostIPC", "IPC namespace"},
	} {
		if on, ok := judge(podF, boolAt(pod, field.name)); ok && on {
			podF.violation("%s is true: the pod shares the node's %s", field.name, field.shares)
		}
	}
	if volumes, ok := judge(podF, listAt(pod, "volumes")); ok {
		for i, item := range elements(volumes, "volumes") {
			volume, ok := judge(podF, item.asMap())
			if !ok {
				continue
			}
			if hostPath := mapAt(volume, "hostPath"); hostPath.state != absent {
				podF.violation("volume %s mounts the node's filesystem (hostPath)", containerName(volume, i))
			}
		}
	}
	for _, c := range containers {
		if c.ephemeral {
			continue
		}
		ports, ok := judge(c.f, listAt(c.props, "ports"))
		if !ok {
			continue
		}
		for _, item := range elements(ports, "ports") {
			port, ok := judge(c.f, item.asMap())
			if !ok {
				continue
			}
			hostPort := numberAt(port, "hostPort")
			hostPort.path = item.path + ".hostPort"
			if n, ok := judge(c.f, hostPort); ok && n != 0 {
				c.f.violation("%s is %v: it opens a port on the node", hostPort.path, n)
			}
		}
	}
	return f.all()
}

// allowedAddedCapabilities is what the Kubernetes "restricted" pod security
// standard allows to add; the platform's namespaces enforce that standard.
var allowedAddedCapabilities = map[string]bool{"NET_BIND_SERVICE": true}

// checkContainerSecurityContext: the "restricted" pod security standard, checked
// at preview time rather than discovered when admission rejects a rollout halfway;
// and enforced where a namespace might lack the label.
func checkContainerSecurityContext(_ target, r analyzed) []finding {
	f := newFindings()
	pod, containers, ok := workloadPod(r, f)
	if !ok {
		return f.all()
	}
	podNonRoot := boolAt(pod, "securityContext", "runAsNonRoot")
	podNonRoot.path = "pod " + podNonRoot.path
	podUser := numberAt(pod, "securityContext", "runAsUser")
	podUser.path = "pod " + podUser.path
	for _, c := range containers {
		if privileged, ok := judge(c.f, boolAt(c.props, "securityContext", "privileged")); ok && privileged {
			c.f.violation("securityContext.privileged is true: the container has full access to the node")
		}
		escalation := boolAt(c.props, "securityContext", "allowPrivilegeEscalation")
		allowed, ok := judge(c.f, escalation)
		switch {
		case escalation.state == absent:
			c.f.violation("securityContext.allowPrivilegeEscalation is not set to false (Kubernetes allows escalation by default)")
		case ok && allowed:
			c.f.violation("securityContext.allowPrivilegeEscalation is true")
		}
		checkNonRoot(c, podNonRoot, podUser)
		if added, ok := judge(c.f, listAt(c.props, "securityContext", "capabilities", "add")); ok {
			names, complete := stringsOf(added)
			if !complete {
				c.f.undecided("securityContext.capabilities.add")
			}
			var forbidden []string
			for _, name := range names {
				if !allowedAddedCapabilities[strings.TrimPrefix(strings.ToUpper(name), "CAP_")] {
					forbidden = append(forbidden, name)
				}
			}
			if len(forbidden) > 0 {
				c.f.violation("securityContext.capabilities.add grants %s", strings.Join(forbidden, ", "))
			}
		}
	}
	return f.all()
}

// checkNonRoot: the container's own settings win over the pod's.
func checkNonRoot(c container, podNonRoot lookup[bool], podUser lookup[float64]) {
	nonRoot := boolAt(c.props, "securityContext", "runAsNonRoot")
	if nonRoot.state == absent {
		nonRoot = podNonRoot
	}
	switch value, ok := judge(c.f, nonRoot); {
	case nonRoot.state == absent:
		c.f.violation("runAsNonRoot is set to true neither for the container nor for the pod: it may run as root")
	case ok && !value:
		c.f.violation("%s is false: it may run as root", nonRoot.path)
	}
	user := numberAt(c.props, "securityContext", "runAsUser")
	if user.state == absent {
		user = podUser
	}
	if uid, ok := judge(c.f, user); ok && uid == 0 {
		c.f.violation("%s is 0: it runs as root", user.path)
	}
}
