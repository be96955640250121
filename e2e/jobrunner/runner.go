// Package jobrunner is a TEST DOUBLE for the kubelet, for the project's own
// image only: the end-to-end test's pods run on kwok's fake nodes, where no
// container ever starts, so the job runner reads a Job's or CronJob's pod
// template from the API server, resolves its environment from the real Secrets
// and ConfigMaps exactly as the kubelet would (env, envFrom, secretKeyRef,
// configMapKeyRef, Secret and ConfigMap volume files), maps in-cluster Service
// addresses to local test servers, and runs the locally built program of the
// image with exactly that environment and command.
//
// It refuses what it cannot resolve, naming it: a missing Secret, ConfigMap or
// key (unless the reference is optional, when the kubelet leaves the variable
// unset too), an image it has no local build of, an in-cluster address without
// a local server, a trust store (Runner.TrustedCAFile) it cannot read or that
// an image names itself, and every pod feature it does not implement. Nothing
// is ever defaulted. Nothing in the program may import it.
package jobrunner

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Image is the local build of one container image.
type Image struct {
	// Command is the image's program as pod specs name it (e.g. vxbackup), Path
	// the locally built binary that runs in its place.
	Command, Path string
	// Env is the image's own environment (its Dockerfile's ENV lines); the
	// container's variables override it, as in a container runtime.
	Env map[string]string
}

// Service is one in-cluster Service port.
type Service struct {
	Namespace, Name string
	Port            int
}

// Runner runs pod templates of the project's own images.
type Runner struct {
	Client kubernetes.Interface
	// Images maps an image repository (without tag or digest) to its local build.
	Images map[string]Image
	// Services maps in-cluster Service ports to local servers (host:port).
	Services map[Service]string
	// Dir is where a run's volume files are written; each run removes its own.
	Dir string
	// TrustedCAFile stands in for the images' trust store: the PEM file of the
	// CAs a real image's system roots would hold (the test MinIO's CA, where a
	// real cluster's central MinIO chains to the public roots). When set, every
	// process gets SSL_CERT_FILE naming it, which Go (minio-go) and OpenSSL
	// (pgBackRest, libpq) read as their roots; a container's own SSL_CERT_FILE
	// still wins, as it would over the image's store. An image whose ENV sets
	// SSL_CERT_FILE (a path inside the image) is refused: its store has no local
	// stand-in. "" leaves the host's system roots.
	TrustedCAFile string
}

// trustVariable is how the runner hands a process its trust store.
const trustVariable = "SSL_CERT_FILE"

// Process is a resolved pod: what would run, and with what.
type Process struct {
	Path string
	Args []string
	// Env is exactly the process environment, KEY=VALUE, sorted: the image's,
	// SSL_CERT_FILE for the image's trust store (Runner.TrustedCAFile), then
	// the container's.
	Env []string
	// Mounts maps a container mount path to the local directory holding its files.
	Mounts map[string]string
}

// Lookup is the value of a variable in the resolved environment.
func (p *Process) Lookup(name string) (string, bool) {
	for _, kv := range p.Env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v, true
		}
	}
	return "", false
}

// Result is how a run ended.
type Result struct {
	ExitCode       int
	Stdout, Stderr string
	Process        *Process
}

// JobPod is the pod template of a Job on the API server.
func (r *Runner) JobPod(ctx context.Context, namespace, name string) (corev1.PodTemplateSpec, error) {
	job, err := r.Client.BatchV1().Jobs(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return corev1.PodTemplateSpec{}, fmt.Errorf("Job %s/%s: %w", namespace, name, err)
	}
	return job.Spec.Template, nil
}

// CronJobPod is the pod template of a CronJob's jobs.
func (r *Runner) CronJobPod(ctx context.Context, namespace, name string) (corev1.PodTemplateSpec, error) {
	cron, err := r.Client.BatchV1().CronJobs(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return corev1.PodTemplateSpec{}, fmt.Errorf("CronJob %s/%s: %w", namespace, name, err)
	}
	return cron.Spec.JobTemplate.Spec.Template, nil
}

// CreateJobFromCronJob does what `kubectl create job NAME --from=cronjob/CRON`
// does: a Job with the CronJob's job template, owned by the CronJob.
func (r *Runner) CreateJobFromCronJob(ctx context.Context, namespace, cronJob, name string) (*batchv1.Job, error) {
	cron, err := r.Client.BatchV1().CronJobs(namespace).Get(ctx, cronJob, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("CronJob %s/%s: %w", namespace, cronJob, err)
	}
	annotations := map[string]string{"cronjob.kubernetes.io/instantiate": "manual"}
	maps.Copy(annotations, cron.Spec.JobTemplate.Annotations)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: namespace, Labels: cron.Spec.JobTemplate.Labels, Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cron, batchv1.SchemeGroupVersion.WithKind("CronJob"))},
		},
		Spec: cron.Spec.JobTemplate.Spec,
	}
	return r.Client.BatchV1().Jobs(namespace).Create(ctx, job, metav1.CreateOptions{})
}

// Run resolves a pod template and runs its container's program to the end.
func (r *Runner) Run(ctx context.Context, namespace, podName string, pod corev1.PodTemplateSpec) (Result, error) {
	dir, err := os.MkdirTemp(r.Dir, "run-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir) // volume files hold Secret values
	proc, err := r.Resolve(ctx, namespace, podName, pod.Spec, dir)
	if err != nil {
		return Result{}, err
	}
	cmd := exec.CommandContext(ctx, proc.Path, proc.Args...)
	cmd.Env = proc.Env
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	res := Result{Process: proc}
	err = cmd.Run()
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	if exit, ok := err.(*exec.ExitError); ok {
		res.ExitCode = exit.ExitCode()
		return res, nil
	}
	return res, err
}

// Resolve turns a pod spec into the process the kubelet would start, writing
// volume files under dir.
func (r *Runner) Resolve(ctx context.Context, namespace, podName string, spec corev1.PodSpec, dir string) (*Process, error) {
	if len(spec.InitContainers) > 0 || len(spec.Containers) != 1 {
		return nil, fmt.Errorf("pod %s/%s: the job runner runs exactly one container and no init containers; it has %d and %d",
			namespace, podName, len(spec.Containers), len(spec.InitContainers))
	}
	c := spec.Containers[0]
	img, err := r.image(c)
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s container %s: %w", namespace, podName, c.Name, err)
	}
	res := &resolver{ctx: ctx, client: r.Client, namespace: namespace, pod: podName, container: c.Name}
	env, err := res.environment(c)
	if err != nil {
		return nil, err
	}
	mounts, err := res.mounts(spec, c, dir)
	if err != nil {
		return nil, err
	}
	full := maps.Clone(img.Env)
	if full == nil {
		full = map[string]string{}
	}
	maps.Copy(full, env)
	args := slices.Clone(c.Args)
	if err := r.mapAddresses(namespace, full, args, mounts); err != nil {
		return nil, fmt.Errorf("pod %s/%s container %s: %w", namespace, podName, c.Name, err)
	}
	// After the mapping: the trust store is a local file already, never a
	// path under one of the pod's mounts.
	if err := r.trust(c.Image, img, full, env); err != nil {
		return nil, fmt.Errorf("pod %s/%s container %s: %w", namespace, podName, c.Name, err)
	}
	proc := &Process{Path: img.Path, Args: args, Mounts: mounts}
	for _, k := range slices.Sorted(maps.Keys(full)) {
		proc.Env = append(proc.Env, k+"="+full[k])
	}
	return proc, nil
}

// image finds the local build of the container's image and checks that the
// container runs that image's program.
func (r *Runner) image(c corev1.Container) (Image, error) {
	repo := imageRepository(c.Image)
	img, ok := r.Images[repo]
	if !ok {
		return Image{}, fmt.Errorf("image %s: the job runner has no local build of %s (it has %s)", c.Image, repo, strings.Join(slices.Sorted(maps.Keys(r.Images)), ", "))
	}
	if len(c.Command) != 1 || c.Command[0] != img.Command {
		return Image{}, fmt.Errorf("command %q: the local build of %s runs only [%s]", c.Command, repo, img.Command)
	}
	return img, nil
}

// trust gives the process the runner's stand-in for the image's trust store
// (TrustedCAFile) unless the container names its own; a store it cannot read
// as PEM certificates is refused.
func (r *Runner) trust(image string, img Image, full, containerEnv map[string]string) error {
	if v, ok := img.Env[trustVariable]; ok {
		return fmt.Errorf("image %s sets %s=%s: the job runner stands in for an image's trust store with its TrustedCAFile and has no local copy of that one", image, trustVariable, v)
	}
	if _, own := containerEnv[trustVariable]; own || r.TrustedCAFile == "" {
		return nil
	}
	pem, err := os.ReadFile(r.TrustedCAFile)
	if err != nil {
		return fmt.Errorf("the trust store TrustedCAFile: %w", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return fmt.Errorf("the trust store TrustedCAFile=%s holds no PEM certificate", r.TrustedCAFile)
	}
	full[trustVariable] = r.TrustedCAFile
	return nil
}

// imageRepository is an image reference without its tag or digest.
func imageRepository(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		return image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i]
	}
	return image
}

// svcHost matches an in-cluster Service host name: NAME.NAMESPACE.svc[.cluster.local].
var svcHost = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?$`)

// mapAddresses rewrites in-cluster addresses to the local servers and mount
// paths to their local directories. A Service host alone (PGHOST) is mapped
// with its port variable (PGPORT: the same name with HOST replaced by PORT). An
// in-cluster address without a local server is refused.
func (r *Runner) mapAddresses(namespace string, env map[string]string, args []string, mounts map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(env)) {
		value := env[name]
		if host, port, err := splitHostPort(value); err == nil && svcHost.MatchString(host) {
			local, err := r.local(host, port)
			if err != nil {
				return fmt.Errorf("%s=%s: %w", name, value, err)
			}
			env[name] = local
			continue
		}
		if svcHost.MatchString(value) {
			portVar := strings.Replace(name, "HOST", "PORT", 1)
			portValue, ok := env[portVar]
			if portVar == name || !ok {
				return fmt.Errorf("%s=%s names a Service without a port variable %s: the job runner cannot tell which local server it is", name, value, portVar)
			}
			port, err := strconv.Atoi(portValue)
			if err != nil {
				return fmt.Errorf("%s=%q is not a port (for %s=%s)", portVar, portValue, name, value)
			}
			local, err := r.local(value, port)
			if err != nil {
				return fmt.Errorf("%s=%s %s=%s: %w", name, value, portVar, portValue, err)
			}
			host, localPort, _ := splitHostPort(local)
			env[name], env[portVar] = host, strconv.Itoa(localPort)
			continue
		}
		if strings.Contains(value, ".svc") {
			return fmt.Errorf("%s=%s: an in-cluster address inside a value the job runner does not parse", name, value)
		}
		env[name] = localPath(value, mounts)
	}
	for i, a := range args {
		if strings.Contains(a, ".svc") {
			return fmt.Errorf("argument %q: the job runner does not map in-cluster addresses in arguments", a)
		}
		args[i] = localPath(a, mounts)
	}
	return nil
}

func (r *Runner) local(host string, port int) (string, error) {
	m := svcHost.FindStringSubmatch(host)
	svc := Service{Namespace: m[3], Name: m[1], Port: port}
	local, ok := r.Services[svc]
	if !ok {
		return "", fmt.Errorf("Service %s/%s port %d has no local server", svc.Namespace, svc.Name, port)
	}
	return local, nil
}

func splitHostPort(s string) (string, int, error) {
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("no port")
	}
	port, err := strconv.Atoi(s[i+1:])
	return s[:i], port, err
}

// localPath maps a path under a mount to the local copy of that mount.
func localPath(value string, mounts map[string]string) string {
	for _, mountPath := range slices.Sorted(maps.Keys(mounts)) {
		if value == mountPath || strings.HasPrefix(value, strings.TrimSuffix(mountPath, "/")+"/") {
			return filepath.Join(mounts[mountPath], strings.TrimPrefix(value, mountPath))
		}
	}
	return value
}

func notFound(err error) bool { return apierrors.IsNotFound(err) }
