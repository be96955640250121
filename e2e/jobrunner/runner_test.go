package jobrunner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
)

const ns = "data-platform-production"

func objects() []runtime.Object {
	return []runtime.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "postgres-credentials", Namespace: ns},
			Data: map[string][]byte{"host": []byte("postgres.data-platform-production.svc"), "port": []byte("5432"), "password": []byte("pg-secret")}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s3-backup", Namespace: ns},
			Data: map[string][]byte{"accessKeyId": []byte("backup-user"), "secretAccessKey": []byte("s3-secret")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: ns}, Data: map[string]string{"mode": "fast", "level": "3"}},
	}
}

func secretRef(name, key string) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}
}

func configMapRef(name, key string) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}
}

// pod is a backup pod like components/backupjob.go's, changed by edit.
func pod(edit func(*corev1.PodSpec)) corev1.PodTemplateSpec {
	spec := corev1.PodSpec{
		Containers: []corev1.Container{{
			Name: "backup", Image: "ghcr.io/virdx/vxplatform-backup@sha256:abc", Command: []string{"vxbackup"}, Args: []string{"dump"},
			Env: []corev1.EnvVar{
				{Name: "S3_ENDPOINT", Value: "127.0.0.1:9000"},
				{Name: "AWS_ACCESS_KEY_ID", ValueFrom: secretRef("s3-backup", "accessKeyId")},
				{Name: "PGHOST", ValueFrom: secretRef("postgres-credentials", "host")},
				{Name: "PGPORT", ValueFrom: secretRef("postgres-credentials", "port")},
				{Name: "MODE", ValueFrom: configMapRef("settings", "mode")},
				{Name: "PGPASSWORD_FILE", Value: "/secrets/pg/password"},
			},
			EnvFrom:      []corev1.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}},
			VolumeMounts: []corev1.VolumeMount{{Name: "pg", MountPath: "/secrets/pg"}, {Name: "tmp", MountPath: "/tmp"}},
		}},
		Volumes: []corev1.Volume{
			{Name: "pg", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "postgres-credentials",
				Items: []corev1.KeyToPath{{Key: "password", Path: "password"}}}}},
			{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		},
	}
	if edit != nil {
		edit(&spec)
	}
	return corev1.PodTemplateSpec{Spec: spec}
}

func runner(t *testing.T, program string) *Runner {
	return &Runner{
		Client:   fake.NewSimpleClientset(objects()...),
		Images:   map[string]Image{"ghcr.io/virdx/vxplatform-backup": {Command: "vxbackup", Path: program, Env: map[string]string{"VXBACKUP_PG_BIN_DIR": "/pg", "MODE": "image-default"}}},
		Services: map[Service]string{{Namespace: ns, Name: "postgres", Port: 5432}: "127.0.0.1:55999"},
		Dir:      t.TempDir(),
	}
}

// The environment is exactly what the kubelet would give the container, with
// in-cluster addresses and mount paths mapped to their local stand-ins.
func TestRunGivesExactlyThePodsEnvironment(t *testing.T) {
	r := runner(t, "/usr/bin/env")
	res, err := r.Run(context.Background(), ns, "backup-1", pod(func(s *corev1.PodSpec) { s.Containers[0].Args = nil }))
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 {
		t.Fatalf("exit %d: %s", res.ExitCode, res.Stderr)
	}
	got := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	var pgFile string
	for _, kv := range got {
		if v, ok := strings.CutPrefix(kv, "PGPASSWORD_FILE="); ok {
			pgFile = v
		}
	}
	want := []string{
		"AWS_ACCESS_KEY_ID=backup-user", "CFG_level=3", "CFG_mode=fast", "MODE=fast", "PGHOST=127.0.0.1",
		"PGPASSWORD_FILE=" + pgFile, "PGPORT=55999", "S3_ENDPOINT=127.0.0.1:9000", "VXBACKUP_PG_BIN_DIR=/pg",
	}
	slices.Sort(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("environment:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(pgFile, r.Dir) || !strings.HasSuffix(pgFile, "/password") {
		t.Errorf("PGPASSWORD_FILE=%s: want the local copy of the mounted Secret under %s", pgFile, r.Dir)
	}
	if entries, _ := os.ReadDir(r.Dir); len(entries) != 0 {
		t.Errorf("the run left %d entries in %s: Secret files must be removed", len(entries), r.Dir)
	}
}

func TestMountedSecretFileHasTheSecretsValue(t *testing.T) {
	r := runner(t, "/bin/cat")
	res, err := r.Run(context.Background(), ns, "backup-1", pod(func(s *corev1.PodSpec) { s.Containers[0].Args = []string{"/secrets/pg/password"} }))
	if err != nil || res.ExitCode != 0 || res.Stdout != "pg-secret" {
		t.Errorf("cat of the mounted file: %q, exit %d, %v %s", res.Stdout, res.ExitCode, err, res.Stderr)
	}
}

func TestOptionalMissingReferenceLeavesTheVariableUnset(t *testing.T) {
	optional := true
	r := runner(t, "/usr/bin/env")
	proc, err := r.Resolve(context.Background(), ns, "p", pod(func(s *corev1.PodSpec) {
		ref := secretRef("s3-backup", "sessionToken")
		ref.SecretKeyRef.Optional = &optional
		s.Containers[0].Env = append(s.Containers[0].Env, corev1.EnvVar{Name: "AWS_SESSION_TOKEN", ValueFrom: ref})
	}).Spec, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := proc.Lookup("AWS_SESSION_TOKEN"); ok {
		t.Errorf("AWS_SESSION_TOKEN=%q; an optional missing key leaves it unset", v)
	}
}

// Every reference the runner cannot resolve is refused, naming it; nothing runs.
func TestRefusesWhatItCannotResolve(t *testing.T) {
	cases := []struct {
		name string
		edit func(*corev1.PodSpec)
		want string
	}{
		{"a missing Secret key", func(s *corev1.PodSpec) {
			s.Containers[0].Env[1].ValueFrom = secretRef("s3-backup", "accessKey")
		}, `Secret data-platform-production/s3-backup has no key "accessKey" (it has accessKeyId, secretAccessKey)`},
		{"a missing Secret", func(s *corev1.PodSpec) {
			s.Containers[0].Env[1].ValueFrom = secretRef("s3-restore", "accessKeyId")
		}, `Secret data-platform-production/s3-restore: secrets "s3-restore" not found`},
		{"a missing ConfigMap key", func(s *corev1.PodSpec) {
			s.Containers[0].Env[4].ValueFrom = configMapRef("settings", "speed")
		}, `ConfigMap data-platform-production/settings has no key "speed"`},
		{"a missing envFrom Secret", func(s *corev1.PodSpec) {
			s.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}}}}
		}, `Secret data-platform-production/gone`},
		{"a missing Secret volume item", func(s *corev1.PodSpec) {
			s.Volumes[0].Secret.Items[0].Key = "pass"
		}, `Secret data-platform-production/postgres-credentials has no key "pass"`},
		{"a Service without a local server", func(s *corev1.PodSpec) {
			s.Containers[0].Env[0].Value = "object-store.data-platform-production.svc:9000"
		}, "Service data-platform-production/object-store port 9000 has no local server"},
		{"a Service host without its port variable", func(s *corev1.PodSpec) {
			s.Containers[0].Env = append(s.Containers[0].Env, corev1.EnvVar{Name: "DB_ADDRESS", Value: "postgres.data-platform-production.svc"})
		}, "DB_ADDRESS=postgres.data-platform-production.svc names a Service without a port variable"},
		{"an image without a local build", func(s *corev1.PodSpec) {
			s.Containers[0].Image = "ghcr.io/virdx/vxplatform-api:v1"
		}, "no local build of ghcr.io/virdx/vxplatform-api"},
		{"another command than the image's program", func(s *corev1.PodSpec) {
			s.Containers[0].Command = []string{"/bin/sh", "-c"}
		}, `runs only [vxbackup]`},
		{"variable expansion", func(s *corev1.PodSpec) {
			s.Containers[0].Env[0].Value = "$(HOST):9000"
		}, "$(...) expansion is not implemented"},
		{"an unimplemented volume type", func(s *corev1.PodSpec) {
			s.Volumes[1] = corev1.Volume{Name: "tmp", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}
		}, "only secret, configMap and emptyDir volumes"},
		{"two containers", func(s *corev1.PodSpec) {
			s.Containers = append(s.Containers, s.Containers[0])
		}, "exactly one container"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "ran")
			r := runner(t, "/usr/bin/touch")
			res, err := r.Run(context.Background(), ns, "backup-1", pod(func(s *corev1.PodSpec) {
				s.Containers[0].Args = []string{marker}
				c.edit(s)
			}))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v (exit %d), want an error containing %q", err, res.ExitCode, c.want)
			}
			if _, statErr := os.Stat(marker); statErr == nil {
				t.Error("the program ran although the pod could not be resolved")
			}
		})
	}
}

func TestCreateJobFromCronJobCopiesTheTemplate(t *testing.T) {
	cron := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "restore-from-production", Namespace: ns, UID: "u1"},
		Spec: batchv1.CronJobSpec{Suspend: new(bool), JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: pod(nil)}}}}
	r := &Runner{Client: fake.NewSimpleClientset(cron)}
	job, err := r.CreateJobFromCronJob(context.Background(), ns, "restore-from-production", "restore-1")
	if err != nil {
		t.Fatal(err)
	}
	if job.Spec.Template.Spec.Containers[0].Image != "ghcr.io/virdx/vxplatform-backup@sha256:abc" ||
		job.OwnerReferences[0].Name != "restore-from-production" || job.Annotations["cronjob.kubernetes.io/instantiate"] != "manual" {
		t.Errorf("job %+v", job)
	}
	tmpl, err := r.JobPod(context.Background(), ns, "restore-1")
	if err != nil || len(tmpl.Spec.Containers) != 1 {
		t.Errorf("JobPod: %v %v", tmpl, err)
	}
}
