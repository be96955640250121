//go:build integration

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/virdx/vxplatform-infra/internal/localenv"
)

// The double verifies an HTTPS MinIO against the system roots, which the engine
// gives it as SSL_CERT_FILE (localenv.Env.TrustedCAFile): without the server's
// CA there, both of its clients (minio-go for S3, mc for IAM) refuse the
// server's certificate; with it, both work. The program names no CA.
func TestHTTPSMinIOIsVerifiedAgainstSSLCertFile(t *testing.T) {
	// Before any TLS client of this process: Go loads the system roots once,
	// from SSL_CERT_FILE as it is then.
	t.Setenv("SSL_CERT_FILE", "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := localenv.StartPrivate(ctx, localenv.PrivateConfig{Name: t.Name(), Servers: []localenv.Server{localenv.MinIOServer}, MinIOTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Destroy(context.Background()); err != nil {
			t.Error(err)
		}
	})
	m := s.MinIO
	// configure is the double as the engine starts it: a new process per
	// operation, so it reads SSL_CERT_FILE afresh.
	configure := func(t *testing.T) *server {
		p := newServer(m.Client, t.TempDir())
		args := props(t, resource.PropertyMap{"minioServer": strProp(m.Endpoint), "minioUser": strProp(m.RootUser),
			"minioPassword": resource.MakeSecret(strProp(m.RootPassword)), "minioSsl": boolProp(true)})
		if _, err := p.Configure(ctx, &pulumirpc.ConfigureRequest{Args: args}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const token = "minio:index/s3Bucket:S3Bucket"
	createBucket := func(t *testing.T, p *server) error {
		bucket := unique("mt-tls")
		_, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: "urn:pulumi:test::data-platform::" + token + "::" + bucket, Type: token,
			Properties: props(t, resource.PropertyMap{"bucket": strProp(bucket), "acl": strProp("private"), "forceDestroy": boolProp(true)})})
		return err
	}
	const unknownCA = "certificate signed by unknown authority"

	t.Run("without the CA", func(t *testing.T) {
		p := configure(t)
		if err := createBucket(t, p); err == nil || !strings.Contains(err.Error(), unknownCA) {
			t.Errorf("a bucket through minio-go: %v, want the server's certificate refused (%s)", err, unknownCA)
		}
		// mc's S3 client: its admin client retries a refused certificate for
		// minutes before it says so, from the same roots.
		if _, err := p.conn.mc.run(ctx, "", "ls", mcAlias); err == nil || !strings.Contains(err.Error(), unknownCA) {
			t.Errorf("mc ls: %v, want the server's certificate refused (%s)", err, unknownCA)
		}
	})
	t.Run("with the CA as SSL_CERT_FILE", func(t *testing.T) {
		t.Setenv("SSL_CERT_FILE", m.CAFile)
		p := configure(t)
		if err := createBucket(t, p); err != nil {
			t.Errorf("a bucket through minio-go: %v", err)
		}
		if _, err := p.conn.mc.run(ctx, "", "admin", "info", mcAlias); err != nil {
			t.Errorf("mc admin info: %v", err)
		}
	})
}
