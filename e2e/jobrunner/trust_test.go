package jobrunner

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// caFile writes a self-signed CA certificate (PEM) under dir; dir is under the
// pod's /tmp mount path when the system's temporary directory is /tmp, which
// the runner must not map.
func caFile(t *testing.T, dir string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "runner test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The runner stands in for the image's trust store: the process gets
// SSL_CERT_FILE naming TrustedCAFile, exactly that path; a container's own
// SSL_CERT_FILE wins as it would over an image's; without a TrustedCAFile the
// variable stays unset (the host's system roots).
func TestTrustedCAFileIsTheProcessesTrustStore(t *testing.T) {
	ca := caFile(t, t.TempDir())
	cases := []struct {
		name    string
		trusted string
		edit    func(*corev1.PodSpec)
		want    func(r *Runner) string // "" : unset
	}{
		{"the runner's CA", ca, nil, func(*Runner) string { return ca }},
		{"the container's own store", ca, func(s *corev1.PodSpec) {
			s.Containers[0].Env = append(s.Containers[0].Env, corev1.EnvVar{Name: "SSL_CERT_FILE", Value: "/secrets/pg/password"})
		}, func(r *Runner) string { return "under " + r.Dir }},
		{"no CA", "", nil, func(*Runner) string { return "" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runner(t, "/usr/bin/env")
			r.TrustedCAFile = c.trusted
			res, err := r.Run(context.Background(), ns, "backup-1", pod(func(s *corev1.PodSpec) {
				s.Containers[0].Args = nil
				if c.edit != nil {
					c.edit(s)
				}
			}))
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("exit %d, %v: %s", res.ExitCode, err, res.Stderr)
			}
			got, set := res.Process.Lookup("SSL_CERT_FILE")
			inEnv := strings.Contains("\n"+res.Stdout, "\nSSL_CERT_FILE="+got+"\n")
			switch want := c.want(r); {
			case want == "":
				if set || strings.Contains(res.Stdout, "SSL_CERT_FILE=") {
					t.Errorf("SSL_CERT_FILE=%q, want it unset", got)
				}
			case strings.HasPrefix(want, "under "):
				if !strings.HasPrefix(got, r.Dir) || !inEnv {
					t.Errorf("SSL_CERT_FILE=%q (in the process's environment: %t), want the local copy of the container's mount %s", got, inEnv, want)
				}
			default:
				if got != want || !inEnv {
					t.Errorf("SSL_CERT_FILE=%q (in the process's environment: %t), want %q", got, inEnv, want)
				}
			}
		})
	}
}

// A trust store the runner cannot stand in for is refused, naming it; nothing runs.
func TestRefusesATrustStoreItCannotResolve(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		trusted string
		image   map[string]string
		want    string
	}{
		{"a missing file", filepath.Join(t.TempDir(), "gone.crt"), nil, "the trust store TrustedCAFile: open"},
		{"no certificate in the file", notPEM, nil, "TrustedCAFile=" + notPEM + " holds no PEM certificate"},
		{"an image with a store of its own", caFile(t, t.TempDir()), map[string]string{"SSL_CERT_FILE": "/etc/ssl/certs/ca.pem"},
			"image ghcr.io/virdx/vxplatform-backup@sha256:abc sets SSL_CERT_FILE=/etc/ssl/certs/ca.pem"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "ran")
			r := runner(t, "/usr/bin/touch")
			r.TrustedCAFile = c.trusted
			for k, v := range c.image {
				r.Images["ghcr.io/virdx/vxplatform-backup"].Env[k] = v
			}
			res, err := r.Run(context.Background(), ns, "backup-1", pod(func(s *corev1.PodSpec) { s.Containers[0].Args = []string{marker} }))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v (exit %d), want an error containing %q", err, res.ExitCode, c.want)
			}
			if _, statErr := os.Stat(marker); statErr == nil {
				t.Error("the program ran although its trust store could not be resolved")
			}
		})
	}
}
