//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/virdx/vxplatform-infra/stacks"
)

// archiveLink is one database's pgBackRest TLS link as deployed: what the
// sidecar serves and admits, what the jobs dial and present.
type archiveLink struct {
	stack      string
	server     tls.Certificate
	clientCAs  *x509.CertPool // the CA the sidecar admits clients of
	admits     string         // PGBACKREST_TLS_SERVER_AUTH: <cn>=<stanza>
	client     tls.Certificate
	serverCAs  *x509.CertPool // the CA the jobs verify the sidecar with
	dialedHost string         // PGBACKREST_PG1_HOST of the jobs
}

// checkArchiveLinks: for production and staging, the certificates the engine
// wrote complete a mutual TLS handshake exactly as pgBackRest does it (the jobs
// verify the sidecar's name, the sidecar requires the jobs' certificate), the
// job's CN is the one the sidecar admits, and neither environment's job is
// admitted by the other's sidecar.
func (h *harness) checkArchiveLinks(ctx context.Context, t *testing.T, cfgs map[string]stacks.Config) {
	links := map[string]archiveLink{}
	for _, stack := range []string{"production", "staging"} {
		links[stack] = h.archiveLink(ctx, t, stack, cfgs[stack])
	}
	for _, server := range links {
		for _, client := range links {
			cn, err := handshake(server, client)
			if server.stack == client.stack {
				if err != nil {
					t.Fatalf("%s: the jobs cannot reach the sidecar over TLS: %v", server.stack, err)
				}
				if want := cn + "=" + server.stack; server.admits != want {
					t.Errorf("%s: the sidecar admits %q, the jobs present CN %q", server.stack, server.admits, cn)
				}
				t.Logf("%s: mutual TLS to %s with client %q", server.stack, client.dialedHost, cn)
			} else if err == nil {
				t.Errorf("%s's job completed a handshake with %s's sidecar", client.stack, server.stack)
			}
		}
	}
}

func (h *harness) archiveLink(ctx context.Context, t *testing.T, stack string, cfg stacks.Config) archiveLink {
	t.Helper()
	env, err := stacks.Load(stack, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns := env.Namespace
	set, err := h.cs.AppsV1().StatefulSets(ns).Get(ctx, env.ResourceName("postgres"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cron, err := h.cs.BatchV1().CronJobs(ns).Get(ctx, env.ResourceName("pitr-full"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sidecar := containerNamed(t, set.Spec.Template.Spec, "pgbackrest")
	job := cron.Spec.JobTemplate.Spec.Template.Spec
	link := archiveLink{stack: stack, admits: envValue(sidecar, "PGBACKREST_TLS_SERVER_AUTH"), dialedHost: envValue(job.Containers[0], "PGBACKREST_PG1_HOST")}
	link.server, link.clientCAs = h.mountedTLS(ctx, t, ns, set.Spec.Template.Spec)
	link.client, link.serverCAs = h.mountedTLS(ctx, t, ns, job)
	return link
}

func containerNamed(t *testing.T, pod corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range pod.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s", name)
	return corev1.Container{}
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// mountedTLS reads the certificate Secret a pod mounts for pgBackRest.
func (h *harness) mountedTLS(ctx context.Context, t *testing.T, ns string, pod corev1.PodSpec) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	for _, v := range pod.Volumes {
		if v.Name != "pgbackrest-tls" || v.Secret == nil {
			continue
		}
		secret, err := h.cs.CoreV1().Secrets(ns).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pair, err := tls.X509KeyPair(secret.Data["tls.crt"], secret.Data["tls.key"])
		if err != nil {
			t.Fatalf("Secret %s/%s: %v", ns, secret.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(secret.Data["ca.crt"]) {
			t.Fatalf("Secret %s/%s: no CA certificate", ns, secret.Name)
		}
		return pair, pool
	}
	t.Fatal("the pod mounts no pgbackrest-tls Secret")
	return tls.Certificate{}, nil
}

// handshake runs the sidecar's side and the job's side of a TLS connection on
// loopback and returns the client CN the server saw.
func handshake(server, client archiveLink) (string, error) {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{server.server}, ClientCAs: server.clientCAs,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		return "", err
	}
	defer ln.Close()
	seen := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			seen <- ""
			return
		}
		defer conn.Close()
		tc := conn.(*tls.Conn)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if tc.Handshake() != nil || len(tc.ConnectionState().PeerCertificates) == 0 {
			seen <- ""
			return
		}
		seen <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
		_, _ = tc.Write([]byte{1}) // the client reads this: the server accepted it
	}()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(), &tls.Config{
		Certificates: []tls.Certificate{client.client}, RootCAs: client.serverCAs,
		ServerName: strings.TrimSpace(client.dialedHost), MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		<-seen
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != nil {
		<-seen
		return "", fmt.Errorf("the server refused the client: %w", err)
	}
	return <-seen, nil
}
