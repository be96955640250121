//go:build integration

package jobrunner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// A database started from a StatefulSet gets the role, password and database of
// the pod's Secret, and refuses any other password; the backup tool run by the
// job runner with that Secret dumps it to the test MinIO.
func TestDatabaseFromStatefulSetAndABackupRun(t *testing.T) {
	pgBin, endpoint, user, password := os.Getenv("PGBIN"), os.Getenv("MINIO_ENDPOINT"), os.Getenv("MINIO_ROOT_USER"), os.Getenv("MINIO_ROOT_PASSWORD")
	if pgBin == "" || endpoint == "" {
		t.Fatal(`PGBIN and MINIO_ENDPOINT must be set: eval "$(scripts/test-servers.sh start)"`)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "postgres-credentials", Namespace: ns}, Data: map[string][]byte{
		"host": []byte("postgres.data-platform-production.svc"), "port": []byte("5432"), "username": []byte("dataplatform"),
		"password": []byte("generated-Password-1"), "database": []byte("dataplatform")}}
	s3 := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s3-backup", Namespace: ns}, Data: map[string][]byte{
		"accessKeyId": []byte(user), "secretAccessKey": []byte(password)}}
	set := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "postgres", Namespace: ns}, Spec: appsv1.StatefulSetSpec{
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "postgres:15", Env: []corev1.EnvVar{
			{Name: "POSTGRES_USER", ValueFrom: secretRef("postgres-credentials", "username")},
			{Name: "POSTGRES_PASSWORD", ValueFrom: secretRef("postgres-credentials", "password")},
			{Name: "POSTGRES_DB", ValueFrom: secretRef("postgres-credentials", "database")},
		}}}}}}}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	vxbackup := filepath.Join(dir, "vxbackup")
	if out, err := exec.Command("go", "build", "-o", vxbackup, "github.com/virdx/vxplatform-infra/cmd/vxbackup").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	r := &Runner{Client: fake.NewSimpleClientset(secret, s3, set), Dir: t.TempDir(), Services: map[Service]string{},
		Images: map[string]Image{"ghcr.io/virdx/vxplatform-backup": {Command: "vxbackup", Path: vxbackup, Env: map[string]string{"VXBACKUP_PG_BIN_DIR": pgBin}}}}
	ctx := context.Background()
	db, err := r.StartDatabase(ctx, ns, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Stop() })
	conn, err := db.Connect(ctx, "dataplatform")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t AS SELECT generate_series(1, 100) AS i"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	wrong := *db
	wrong.Password = "not-the-password"
	if c, err := wrong.Connect(ctx, "dataplatform"); err == nil {
		c.Close(ctx)
		t.Fatal("a wrong password connected; want password authentication failed")
	} else if !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("a wrong password: %v, want password authentication failed", err)
	}
	r.Services[Service{Namespace: ns, Name: "postgres", Port: 5432}] = db.Addr

	bucket := "jobrunner-it-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))[:10]
	mc := func(args ...string) {
		cmd := exec.Command(os.Getenv("MC"), args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mc %v: %v\n%s", args, err, out)
		}
	}
	mc("mb", "--ignore-existing", os.Getenv("MC_ALIAS")+"/"+bucket)
	t.Cleanup(func() { exec.Command(os.Getenv("MC"), "rb", "--force", os.Getenv("MC_ALIAS")+"/"+bucket).Run() })
	env := []corev1.EnvVar{
		{Name: "BACKUP_ENVIRONMENT", Value: "production"}, {Name: "S3_ENDPOINT", Value: endpoint}, {Name: "S3_USE_TLS", Value: "false"},
		{Name: "S3_BUCKET", Value: bucket}, {Name: "S3_PREFIX", Value: "postgres/"},
		{Name: "AWS_ACCESS_KEY_ID", ValueFrom: secretRef("s3-backup", "accessKeyId")},
		{Name: "AWS_SECRET_ACCESS_KEY", ValueFrom: secretRef("s3-backup", "secretAccessKey")},
		{Name: "PGHOST", ValueFrom: secretRef("postgres-credentials", "host")}, {Name: "PGPORT", ValueFrom: secretRef("postgres-credentials", "port")},
		{Name: "PGDATABASE", ValueFrom: secretRef("postgres-credentials", "database")}, {Name: "PGUSER", ValueFrom: secretRef("postgres-credentials", "username")},
		{Name: "PGPASSWORD", ValueFrom: secretRef("postgres-credentials", "password")},
	}
	res, err := r.Run(ctx, ns, "backup-1", corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "backup", Image: "ghcr.io/virdx/vxplatform-backup:v1", Command: []string{"vxbackup"}, Args: []string{"dump"}, Env: env}}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 || !strings.HasPrefix(res.Stdout, "20") {
		t.Fatalf("vxbackup dump: exit %d, stdout %q\n%s", res.ExitCode, res.Stdout, res.Stderr)
	}
}
