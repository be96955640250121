//go:build integration

package program_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/virdx/vxplatform-infra/internal/localenv"
)

// TestPreviewStoreInitScriptOnRealMinIO runs the script of a preview's
// object-store init Job, exactly as the program declares it, against a real MinIO
// with the real mc, twice (a restarted pod must converge), and checks what the
// identities it creates may do.
func TestPreviewStoreInitScriptOnRealMinIO(t *testing.T) {
	servers, serversErr := localenv.SharedServers(localenv.MinIOServer)
	if serversErr != nil {
		t.Fatal(serversErr)
	}
	endpoint, rootUser, rootPassword, mc := servers.MinIO.Endpoint, servers.MinIO.RootUser, servers.MinIO.RootPassword, servers.MinIO.Client
	const stack = "pr-98765"
	run := runStack(t, stack)
	job, ok := run.Find(tJob, stack+"-object-store-init")
	if !ok {
		t.Fatal("no object-store init Job")
	}
	script := str(job.Inputs, "spec.template.spec.containers.0.args.0")
	policies := t.TempDir()
	cm, _ := run.Find(tConfigMap, stack+"-object-store-policies")
	data, _ := at(cm.Inputs, "data")
	for file, doc := range data.ObjectValue() {
		if err := os.WriteFile(filepath.Join(policies, string(file)), []byte(unwrap(doc).StringValue()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The ConfigMap is mounted at /policies in the pod; here it is a temp dir.
	script = strings.ReplaceAll(script, " /policies/", " "+policies+"/")

	keys := map[string]string{
		"APP_ACCESS_KEY": "dataplatform-" + stack + "-app", "APP_SECRET_KEY": "app-secret-key-0123456789",
		"VIEWER_ACCESS_KEY": "dataplatform-" + stack + "-viewer", "VIEWER_SECRET_KEY": "viewer-secret-key-0123456789",
		"ROOT_USER": rootUser, "ROOT_PASSWORD": rootPassword,
	}
	env := []string{"PATH=" + filepath.Dir(mc) + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
	for _, v := range list(job.Inputs, "spec.template.spec.containers.0.env") {
		e := unwrap(v).ObjectValue()
		name := str(e, "name")
		switch value, fromSecret := keys[name]; {
		case fromSecret:
			env = append(env, name+"="+value)
		case name == "STORE_URL":
			env = append(env, name+"=http://"+endpoint)
		case name == "MC_CONFIG_DIR":
			env = append(env, name+"="+t.TempDir())
		case str(e, "valueFrom.secretKeyRef.name") != "":
			t.Fatalf("env %s comes from a Secret the test does not know", name)
		default:
			env = append(env, name+"="+str(e, "value"))
		}
	}
	for attempt := 1; attempt <= 2; attempt++ {
		cmd := exec.Command("/bin/sh", "-c", script)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("init script, run %d: %v\n%s", attempt, err, out)
		}
	}

	ctx := context.Background()
	client := func(access, secret string) *minio.Client {
		c, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(access, secret, ""), Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	app := client(keys["APP_ACCESS_KEY"], keys["APP_SECRET_KEY"])
	viewer := client(keys["VIEWER_ACCESS_KEY"], keys["VIEWER_SECRET_KEY"])
	object := "init-test/" + stack
	if _, err := app.PutObject(ctx, "preview-data", object, bytes.NewReader([]byte("x")), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("app cannot write its bucket: %v", err)
	}
	if _, err := viewer.StatObject(ctx, "preview-data", object, minio.StatObjectOptions{}); err != nil {
		t.Fatalf("viewer cannot read the bucket: %v", err)
	}
	_, err := viewer.PutObject(ctx, "preview-data", object+"-viewer", bytes.NewReader([]byte("x")), 1, minio.PutObjectOptions{})
	if resp := minio.ToErrorResponse(err); resp.Code != "AccessDenied" {
		t.Fatalf("viewer write: got %v, want AccessDenied", err)
	}
	if err := viewer.RemoveObject(ctx, "preview-data", object, minio.RemoveObjectOptions{}); minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("viewer delete: got %v, want AccessDenied", err)
	}
	if err := app.RemoveObject(ctx, "preview-data", object, minio.RemoveObjectOptions{}); err != nil {
		t.Fatalf("app cannot delete in its bucket: %v", err)
	}
}
