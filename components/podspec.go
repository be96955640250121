package components

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/stacks"
)

// containerSpec is what differs between the platform's containers; everything else
// (security context, scratch space, resources) is the same hardened shape for all.
type containerSpec struct {
	Name    string
	Image   pulumi.StringInput
	Command []string
	Args    []string
	Env     corev1.EnvVarArray
	Port    int
	// PortName names Port; "http" when empty.
	PortName  string
	Resources stacks.Resources
	Readiness corev1.ProbePtrInput
	Liveness  corev1.ProbePtrInput
	// WritablePaths get an emptyDir each, since the root filesystem is read-only.
	WritablePaths []string
	// Mounts are further volume mounts (persistent data, config).
	Mounts corev1.VolumeMountArray
}

// nonRootUser is the uid every container runs as unless its image needs another.
const nonRootUser = 10001

func (c containerSpec) container() corev1.ContainerArgs {
	mounts := corev1.VolumeMountArray{}
	for i, path := range c.WritablePaths {
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String(scratchVolumeName(c.Name, i)), MountPath: pulumi.String(path)})
	}
	mounts = append(mounts, c.Mounts...)
	container := corev1.ContainerArgs{
		Name:            pulumi.String(c.Name),
		Image:           c.Image,
		Env:             c.Env,
		Resources:       resourceRequirements(c.Resources),
		ReadinessProbe:  c.Readiness,
		LivenessProbe:   c.Liveness,
		VolumeMounts:    mounts,
		SecurityContext: restrictedContainerContext(),
	}
	if len(c.Command) > 0 {
		container.Command = pulumi.ToStringArray(c.Command)
	}
	if len(c.Args) > 0 {
		container.Args = pulumi.ToStringArray(c.Args)
	}
	if c.Port > 0 {
		portName := c.PortName
		if portName == "" {
			portName = "http"
		}
		container.Ports = corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String(portName), ContainerPort: pulumi.Int(c.Port)}}
	}
	return container
}

func (c containerSpec) scratchVolumes() corev1.VolumeArray {
	vols := corev1.VolumeArray{}
	for i := range c.WritablePaths {
		vols = append(vols, corev1.VolumeArgs{Name: pulumi.String(scratchVolumeName(c.Name, i)), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("256Mi")}})
	}
	return vols
}

func scratchVolumeName(container string, i int) string {
	return container + "-scratch-" + string(rune('a'+i))
}

// restartPolicy is a pod's restart policy.
type restartPolicy string

const (
	// restartByWorkload leaves the policy to the workload kind (Always for
	// Deployments and StatefulSets).
	restartByWorkload restartPolicy = ""
	restartNever      restartPolicy = "Never"
	restartOnFailure  restartPolicy = "OnFailure"
)

// podArgs is what differs between the platform's pods.
type podArgs struct {
	// RunAsUser is the uid the pod runs as, also its group and fsGroup.
	RunAsUser int
	Restart   restartPolicy
	// Volumes are volumes beyond the containers' scratch space (data, config).
	Volumes    corev1.VolumeArray
	Containers []containerSpec
}

// podSpec wraps containers in the restricted pod shape: non-root, no service
// account token, no host namespaces.
func podSpec(args podArgs) *corev1.PodSpecArgs {
	spec := &corev1.PodSpecArgs{
		AutomountServiceAccountToken: pulumi.Bool(false),
		EnableServiceLinks:           pulumi.Bool(false),
		SecurityContext: &corev1.PodSecurityContextArgs{
			RunAsNonRoot:   pulumi.Bool(true),
			RunAsUser:      pulumi.Int(args.RunAsUser),
			RunAsGroup:     pulumi.Int(args.RunAsUser),
			FsGroup:        pulumi.Int(args.RunAsUser),
			SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
	}
	if args.Restart != restartByWorkload {
		spec.RestartPolicy = pulumi.String(string(args.Restart))
	}
	volumes := corev1.VolumeArray{}
	var list corev1.ContainerArray
	for _, c := range args.Containers {
		list = append(list, c.container())
		volumes = append(volumes, c.scratchVolumes()...)
	}
	spec.Containers = list
	spec.Volumes = append(volumes, args.Volumes...)
	return spec
}

func restrictedContainerContext() *corev1.SecurityContextArgs {
	return &corev1.SecurityContextArgs{
		AllowPrivilegeEscalation: pulumi.Bool(false),
		Privileged:               pulumi.Bool(false),
		ReadOnlyRootFilesystem:   pulumi.Bool(true),
		RunAsNonRoot:             pulumi.Bool(true),
		Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
	}
}

func resourceRequirements(r stacks.Resources) *corev1.ResourceRequirementsArgs {
	return &corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String(r.CPURequest), "memory": pulumi.String(r.MemoryRequest)},
		Limits:   pulumi.StringMap{"cpu": pulumi.String(r.CPULimit), "memory": pulumi.String(r.MemoryLimit)},
	}
}

// httpProbe checks a path on the container's http port.
func httpProbe(path string, initialDelay int) *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		HttpGet:             &corev1.HTTPGetActionArgs{Path: pulumi.String(path), Port: pulumi.String("http")},
		InitialDelaySeconds: pulumi.Int(initialDelay),
		PeriodSeconds:       pulumi.Int(10),
		TimeoutSeconds:      pulumi.Int(3),
		FailureThreshold:    pulumi.Int(3),
	}
}

// execProbe runs a command in the container.
func execProbe(initialDelay int, command ...string) *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		Exec:                &corev1.ExecActionArgs{Command: pulumi.ToStringArray(command)},
		InitialDelaySeconds: pulumi.Int(initialDelay),
		PeriodSeconds:       pulumi.Int(10),
		TimeoutSeconds:      pulumi.Int(5),
		FailureThreshold:    pulumi.Int(6),
	}
}

// plainEnv is a non-secret environment variable.
func plainEnv(name, value string) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String(name), Value: pulumi.String(value)}
}

// secretEnv takes an environment variable from a Secret key: the only way a
// credential reaches a container.
func secretEnv(name string, secret pulumi.StringInput, key string) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String(name), ValueFrom: &corev1.EnvVarSourceArgs{
		SecretKeyRef: &corev1.SecretKeySelectorArgs{Name: secret, Key: pulumi.String(key)},
	}}
}
