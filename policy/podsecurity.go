package main

import (
	"slices"
	"strings"
)

var podHostAccessRule = resourceRule{
	name: "kubernetes-pod-no-host-access",
	description: "No pod uses hostNetwork, hostPID, hostIPC, hostPath (directly or through a PersistentVolume), volume types beyond " +
		"the restricted standard's, or container hostPorts.",
	scope: everywhere,
	check: checkPodHostAccess,
}

var containerSecurityContextRule = resourceRule{
	name: "kubernetes-container-restricted-security-context",
	description: "Every container runs as non-root, unprivileged, with privilege escalation off, all capabilities dropped and none added " +
		"beyond NET_BIND_SERVICE, under a RuntimeDefault or Localhost seccomp profile.",
	scope: everywhere,
	check: checkContainerSecurityContext,
}

// checkPodHostAccess: host namespaces, host ports and host paths reach the node,
// and nodes are shared by every environment of the cluster; a preview pod with
// hostNetwork sits next to production's pods on the same network stack.
func checkPodHostAccess(_ target, r analyzed) []finding {
	f := newFindings()
	if r.isKube("PersistentVolume", "core") {
		checkPersistentVolumeSource(r, f)
		return f.all()
	}
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
				continue
			}
			for source, value := range volume.AllStable {
				if source != "name" && !value.IsNull() && !restrictedVolumeSources[source] {
					podF.violation("volume %s is of type %s, which the restricted pod security standard does not allow", containerName(volume, i), source)
				}
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

// restrictedVolumeSources are the volume types the "restricted" standard allows.
var restrictedVolumeSources = map[string]bool{
	"configMap": true, "csi": true, "downwardAPI": true, "emptyDir": true, "ephemeral": true,
	"persistentVolumeClaim": true, "projected": true, "secret": true,
}

// nodeVolumeSources are PersistentVolume sources that are a directory or disk of
// one node: a claim bound to such a volume mounts the node's filesystem into a
// pod that itself declares only a persistentVolumeClaim.
var nodeVolumeSources = []string{"hostPath", "local"}

func checkPersistentVolumeSource(r analyzed, f findings) {
	for _, source := range nodeVolumeSources {
		if v := mapAt(r.Props, "spec", source); v.state != absent {
			f.violation("spec.%s: the PersistentVolume mounts the node's filesystem into whatever pod claims it", source)
		}
	}
}

// allowedSeccompProfiles are the profile types the "restricted" standard allows.
var allowedSeccompProfiles = map[string]bool{"RuntimeDefault": true, "Localhost": true}

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
	podSeccomp := stringAt(pod, "securityContext", "seccompProfile", "type")
	podSeccomp.path = "pod " + podSeccomp.path
	for _, c := range containers {
		checkSeccomp(c, podSeccomp)
		checkDropAll(c)
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

// checkSeccomp: without a seccomp profile (or with Unconfined) every system call
// of the kernel the node shares with production is open to the container. The
// container's profile wins over the pod's.
func checkSeccomp(c container, podProfile lookup[string]) {
	profile := stringAt(c.props, "securityContext", "seccompProfile", "type")
	if profile.state == absent {
		profile = podProfile
	}
	switch value, ok := judge(c.f, profile); {
	case profile.state == absent:
		c.f.violation("seccompProfile.type is set neither for the container nor for the pod: use RuntimeDefault")
	case ok && !allowedSeccompProfiles[value]:
		c.f.violation("%s is %q: only RuntimeDefault or Localhost confine system calls", profile.path, value)
	}
}

// checkDropAll: the restricted standard drops every capability and adds back at
// most NET_BIND_SERVICE.
func checkDropAll(c container) {
	drop := listAt(c.props, "securityContext", "capabilities", "drop")
	values, ok := judge(c.f, drop)
	if !ok && drop.state != absent {
		return
	}
	names, complete := stringsOf(values)
	if !complete {
		c.f.undecided(drop.path)
		return
	}
	if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, "ALL") }) {
		c.f.violation("securityContext.capabilities.drop does not include ALL")
	}
}
