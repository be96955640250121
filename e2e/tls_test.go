//go:build e2e

package e2e

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The central MinIO speaks HTTPS only, as production and staging require (#10:
// pgBackRest's S3 client speaks nothing else), with a CA of the test servers'
// instance (MINIO_CA_FILE). The program names no CA: in a real cluster the
// central MinIO's certificate chains to the system roots of the runner and the
// images. So trust reaches each client the way system roots would, and nothing
// ever skips verification:
//   - the engine and its plugins (the minio test double: minio-go and mc):
//     SSL_CERT_FILE in the Pulumi environment (localenv.Env.TrustedCAFile);
//   - the jobs: the job runner's stand-in for the image's trust store
//     (jobrunner.Runner.TrustedCAFile, SSL_CERT_FILE in the process);
//   - the harness's own mc: SSL_CERT_FILE in its environment (mcEnv);
//   - the harness's own S3 clients: a transport whose roots are the CA alone.

// s3Client is a client of the test MinIO with the given keys that trusts the
// instance's CA and nothing else.
func (h *harness) s3Client(key, secret string) *minio.Client {
	h.tb.Helper()
	c, err := minio.New(h.minio.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(key, secret, ""),
		Secure: true, Transport: h.s3Transport(h.minioRoots)})
	if err != nil {
		h.tb.Fatal(err)
	}
	return c
}

// s3Transport is minio-go's transport with roots as its only trust anchors
// (nil would mean the system roots: never used here).
func (h *harness) s3Transport(roots *x509.CertPool) http.RoundTripper {
	h.tb.Helper()
	tr, err := minio.DefaultTransport(true)
	if err != nil {
		h.tb.Fatal(err)
	}
	tr.TLSClientConfig.RootCAs = roots
	return tr
}

// withTrust is environ with SSL_CERT_FILE naming exactly caFile (none: unset),
// whatever the caller's environment said.
func withTrust(environ []string, caFile string) []string {
	out := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "SSL_CERT_FILE=") {
			out = append(out, kv)
		}
	}
	if caFile != "" {
		out = append(out, "SSL_CERT_FILE="+caFile)
	}
	return out
}

// requireVerifiedTLS: the test MinIO speaks HTTPS only, and its certificate is
// really verified: an S3 client whose roots lack the instance's CA, and mc
// without it, are refused; a plain-HTTP client gets no answer.
func (h *harness) requireVerifiedTLS() {
	h.tb.Helper()
	if !h.minio.TLS() {
		h.tb.Fatalf("the test MinIO at %s speaks plain HTTP: the e2e's central MinIO speaks HTTPS only (production and staging require s3UseTLS); "+
			`restart the test servers with TLS: scripts/test-servers.sh stop && eval "$(VX_MINIO_TLS=1 scripts/test-servers.sh start)"`, h.minio.Endpoint)
	}
	roots, err := h.minio.RootCAs()
	if err != nil {
		h.tb.Fatal(err)
	}
	h.minioRoots = roots
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	untrusting, err := minio.New(h.minio.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(h.minio.RootUser, h.minio.RootPassword, ""),
		Secure: true, Transport: h.s3Transport(x509.NewCertPool())})
	if err != nil {
		h.tb.Fatal(err)
	}
	var unknownCA x509.UnknownAuthorityError
	if _, err := untrusting.ListBuckets(ctx); !errors.As(err, &unknownCA) {
		h.tb.Fatalf("an S3 client without the instance's CA listed the buckets of %s: %v; want its certificate refused as signed by an unknown authority", h.minio.URL(), err)
	}
	plain, err := minio.New(h.minio.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(h.minio.RootUser, h.minio.RootPassword, ""), Secure: false})
	if err != nil {
		h.tb.Fatal(err)
	}
	if _, err := plain.ListBuckets(ctx); err == nil {
		h.tb.Fatalf("the test MinIO at %s answers plain HTTP too", h.minio.Endpoint)
	}
	// mc's S3 listing (its admin client retries a refused certificate for
	// minutes before it says so; both read the same roots).
	cmd := exec.CommandContext(ctx, h.minio.Client, "--json", "--no-color", "ls", "local")
	cmd.Env = withTrust(h.mcEnv(), "") // the harness's mc config dir holds no CA either
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "certificate signed by unknown authority") {
		h.tb.Fatalf("mc without the instance's CA: %v, %.300s; want the server's certificate refused", err, out)
	}
	h.tb.Logf("the test MinIO at %s speaks HTTPS only; without its CA, minio-go and mc refuse its certificate (plain HTTP: no answer)", h.minio.URL())
}
