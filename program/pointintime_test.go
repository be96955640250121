package program_test

import (
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/virdx/vxplatform-infra/internal/programtest"
)

// containerEnv is a container's environment: a plain value, or
// "secret:<Secret>/<key>" for a Secret reference.
func containerEnv(props resource.PropertyMap, container string) map[string]string {
	out := map[string]string{}
	v, ok := at(props, container+".env")
	if !ok || !v.IsArray() {
		return out
	}
	for _, e := range v.ArrayValue() {
		vars := unwrap(e).ObjectValue()
		name := str(vars, "name")
		if ref := str(vars, "valueFrom.secretKeyRef.name"); ref != "" {
			out[name] = "secret:" + ref + "/" + str(vars, "valueFrom.secretKeyRef.key")
			continue
		}
		out[name] = str(vars, "value")
	}
	return out
}

// containerNames lists the containers of a pod template at path.
func containerNames(props resource.PropertyMap, path string) []string {
	var names []string
	v, _ := at(props, path+".containers")
	if v.IsArray() {
		for _, c := range v.ArrayValue() {
			names = append(names, str(unwrap(c).ObjectValue(), "name"))
		}
	}
	return names
}

func secretValue(t *testing.T, run *programtest.Run, name, key string) string {
	t.Helper()
	res, ok := run.Find(tSecret, name)
	if !ok {
		t.Fatalf("no Secret %s", name)
	}
	data, _ := at(res.Inputs, "stringData") // keys hold dots: not part of the path
	v := ""
	if data.IsObject() {
		if value := unwrap(data.ObjectValue()[resource.PropertyKey(key)]); value.IsString() {
			v = value.StringValue()
		}
	}
	if v == "" {
		t.Fatalf("Secret %s has no %s", name, key)
	}
	return v
}

func certificate(t *testing.T, pemText string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		t.Fatalf("not PEM: %q", pemText)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPointInTimeWiring follows the joints of point-in-time recovery through
// what the program registers: the database archives with the archive identity's
// keys, the jobs reach the sidecar by the name its certificate carries, with a
// certificate the sidecar admits, and all run the same database image.
func TestPointInTimeWiring(t *testing.T) {
	for _, stack := range []string{"production", "staging"} {
		t.Run(stack, func(t *testing.T) {
			run := runStack(t, stack)
			set := run.ByType(tStatefulSet)[0].Inputs
			pod := "spec.template.spec"
			if got := containerNames(set, pod); !slices.Equal(got, []string{"postgres", "pgbackrest"}) {
				t.Fatalf("database containers %v, want postgres and pgbackrest", got)
			}
			dbEnv := containerEnv(set, pod+".containers.0")
			sidecarEnv := containerEnv(set, pod+".containers.1")
			archiveKey := dbEnv["PGBACKREST_REPO1_S3_KEY"]
			if !strings.HasPrefix(archiveKey, "secret:") || !strings.Contains(archiveKey, "archive") || sidecarEnv["PGBACKREST_REPO1_S3_KEY"] != archiveKey {
				t.Errorf("archive keys: database %q, sidecar %q; want the archive identity's Secret in both", archiveKey, sidecarEnv["PGBACKREST_REPO1_S3_KEY"])
			}
			args := str(set, pod+".containers.0.args.0")
			var all []string
			if v, ok := at(set, pod+".containers.0.args"); ok {
				for _, a := range v.ArrayValue() {
					all = append(all, unwrap(a).StringValue())
				}
			}
			for _, want := range []string{"archive_mode=on", "archive_command=pgbackrest archive-push %p", "archive_timeout=60s"} {
				if args != "postgres" || !slices.Contains(all, want) {
					t.Errorf("database args %v lack %q", all, want)
				}
			}
			if dbEnv["PGBACKREST_STANZA"] != stack || dbEnv["PGBACKREST_REPO1_S3_BUCKET"] != "dataplatform-backups-"+stack || dbEnv["PGBACKREST_REPO1_PATH"] != "/pgbackrest" {
				t.Errorf("repository: stanza %q bucket %q path %q", dbEnv["PGBACKREST_STANZA"], dbEnv["PGBACKREST_REPO1_S3_BUCKET"], dbEnv["PGBACKREST_REPO1_PATH"])
			}
			image := str(set, pod+".containers.0.image")
			if !strings.Contains(image, "ghcr.io/virdx/vxplatform-postgres") || str(set, pod+".containers.1.image") != image {
				t.Errorf("images: database %q, sidecar %q", image, str(set, pod+".containers.1.image"))
			}

			full, ok := run.Find(tCronJob, "pitr-full")
			if !ok {
				t.Fatal("no CronJob pitr-full")
			}
			jobPod := "spec.jobTemplate.spec.template.spec"
			jobEnv := containerEnv(full.Inputs, jobPod+".containers.0")
			if jobEnv["PGBACKREST_REPO1_S3_KEY"] != archiveKey || str(full.Inputs, jobPod+".containers.0.image") != image {
				t.Errorf("pitr-full: key %q image %q", jobEnv["PGBACKREST_REPO1_S3_KEY"], str(full.Inputs, jobPod+".containers.0.image"))
			}
			serverSecret := volumeSecret(set, pod, "pgbackrest-tls")
			clientSecret := volumeSecret(full.Inputs, jobPod, "pgbackrest-tls")
			if serverSecret == "" || clientSecret == "" {
				t.Fatalf("certificate volumes: server %q, client %q", serverSecret, clientSecret)
			}
			roots := x509.NewCertPool()
			roots.AddCert(certificate(t, secretValue(t, run, clientSecret, "ca.crt")))
			host := jobEnv["PGBACKREST_PG1_HOST"]
			if _, err := certificate(t, secretValue(t, run, serverSecret, "tls.crt")).Verify(x509.VerifyOptions{
				Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				t.Errorf("the sidecar's certificate does not verify for %q with the jobs' CA: %v", host, err)
			}
			serverRoots := x509.NewCertPool()
			serverRoots.AddCert(certificate(t, secretValue(t, run, serverSecret, "ca.crt")))
			client := certificate(t, secretValue(t, run, clientSecret, "tls.crt"))
			if _, err := client.Verify(x509.VerifyOptions{Roots: serverRoots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("the jobs' certificate does not verify with the sidecar's CA: %v", err)
			}
			if want := client.Subject.CommonName + "=" + stack; sidecarEnv["PGBACKREST_TLS_SERVER_AUTH"] != want {
				t.Errorf("sidecar admits %q, the jobs present CN %q", sidecarEnv["PGBACKREST_TLS_SERVER_AUTH"], client.Subject.CommonName)
			}
			service, _ := run.Find(tService, "postgres")
			if host != "postgres.data-platform-"+stack+".svc" || !hasPort(service.Inputs, 8432) || jobEnv["PGBACKREST_PG1_HOST_PORT"] != "8432" {
				t.Errorf("jobs reach %s:%s; the Service must serve 8432", host, jobEnv["PGBACKREST_PG1_HOST_PORT"])
			}
			for _, name := range []string{"pitr-diff", "pitr-verify", "pitr-check", "pitr-restore"} {
				if _, ok := run.Find(tCronJob, name); !ok {
					t.Errorf("no CronJob %s", name)
				}
			}
		})
	}
}

// volumeSecret is the Secret of the pod's volume called name.
func volumeSecret(props resource.PropertyMap, pod, name string) string {
	v, _ := at(props, pod+".volumes")
	if v.IsArray() {
		for _, vol := range v.ArrayValue() {
			if o := unwrap(vol).ObjectValue(); str(o, "name") == name {
				return str(o, "secret.secretName")
			}
		}
	}
	return ""
}

func hasPort(props resource.PropertyMap, port float64) bool {
	v, ok := at(props, "spec.ports")
	if !ok {
		return false
	}
	for _, p := range v.ArrayValue() {
		if n := unwrap(p).ObjectValue()["port"]; unwrap(n).IsNumber() && unwrap(n).NumberValue() == port {
			return true
		}
	}
	return false
}

// Public and previews keep the official image and one container.
func TestNoPointInTimeRecoveryOutsidePatientData(t *testing.T) {
	for _, stack := range []string{"public", "pr-123"} {
		run := runStack(t, stack)
		set := run.ByType(tStatefulSet)
		for _, s := range set {
			if names := containerNames(s.Inputs, "spec.template.spec"); len(names) != 1 {
				t.Errorf("%s: database containers %v", stack, names)
			}
		}
		if _, ok := run.Find(tCronJob, "pitr-full"); ok {
			t.Errorf("%s has a pitr-full CronJob", stack)
		}
	}
}
