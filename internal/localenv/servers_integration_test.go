//go:build integration

package localenv

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A private instance through its whole life: started, a server crashed and
// started again with its data, stopped and started, destroyed without a trace.
func TestPrivateServersLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, destroyed := startPrivate(ctx, t, PrivateConfig{Name: t.Name()})
	if s.Postgres == nil || s.MinIO == nil {
		t.Fatalf("both servers asked for, got Postgres=%v MinIO=%v", s.Postgres, s.MinIO)
	}
	pgData := s.Postgres.DataDir
	requireMinIOReady(t, s.MinIO, true)
	execSQL(t, s.Postgres, "postgres", "CREATE DATABASE kept")

	if err := s.Crash(ctx, MinIOServer); err != nil {
		t.Fatal(err)
	}
	requireMinIOReady(t, s.MinIO, false)
	oldPID := s.MinIO.PID
	if err := s.Start(ctx, MinIOServer); err != nil {
		t.Fatal(err)
	}
	requireMinIOReady(t, s.MinIO, true)
	if s.MinIO.PID == oldPID {
		t.Errorf("MinIO's pid is still %d after a restart", oldPID)
	}

	for _, stop := range []func(context.Context, ...Server) error{s.Crash, s.Stop} {
		if err := stop(ctx, PostgresServer); err != nil {
			t.Fatal(err)
		}
		requireClosed(t, s.Postgres.Address())
		if err := s.Start(ctx, PostgresServer); err != nil {
			t.Fatal(err)
		}
		execSQL(t, s.Postgres, "kept", "SELECT 1") // the data survived
	}

	if err := s.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	*destroyed = true
	requireGone(t, s, pgData)
}

// startPrivate starts a private instance that the end of the test destroys,
// unless the test did (and set *destroyed).
func startPrivate(ctx context.Context, t *testing.T, config PrivateConfig) (s *Servers, destroyed *bool) {
	t.Helper()
	s, err := StartPrivate(ctx, config)
	if err != nil {
		t.Fatal(err)
	}
	destroyed = new(bool)
	t.Cleanup(func() {
		if !*destroyed {
			_ = s.Destroy(context.Background())
		}
	})
	return s, destroyed
}

// A private instance with what internal/pitr needs: MinIO over HTTPS only,
// verified against the instance's CA (by Go and by mc), certificates of the
// test's own signed by it, and PostgreSQL with settings and an environment of
// the test's own that survive a crash; destroy removes the certificates too.
func TestPrivateServersWithTLSAndServerSettings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, destroyed := startPrivate(ctx, t, PrivateConfig{Name: t.Name(), MinIOTLS: true})
	if !s.MinIO.TLS() || !strings.HasPrefix(s.MinIO.URL(), "https://localhost:") {
		t.Fatalf("MinIO with TLS: URL %s, CA file %q", s.MinIO.URL(), s.MinIO.CAFile)
	}
	requireMinIOReady(t, s.MinIO, true)
	// Verification is real: a client that does not hold the instance's CA is
	// refused the server's certificate.
	untrusting := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12}}}
	var unknownCA x509.UnknownAuthorityError
	if resp, err := untrusting.Get(s.MinIO.URL() + "/minio/health/ready"); !errors.As(err, &unknownCA) {
		if err == nil {
			resp.Body.Close()
		}
		t.Errorf("a client without the instance's CA: %v, want the certificate refused as signed by an unknown authority", err)
	}
	if resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + s.MinIO.Endpoint + "/minio/health/ready"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("MinIO with TLS also answers plain HTTP")
		}
	}
	mc := exec.CommandContext(ctx, s.MinIO.Client, "ls", s.MinIO.ClientAlias)
	mc.Env = append(os.Environ(), "MC_CONFIG_DIR="+s.MinIO.ClientConfig)
	if out, err := mc.CombinedOutput(); err != nil {
		t.Errorf("mc does not trust the instance's CA: %v\n%s", err, out)
	}

	certFile, keyFile, err := s.IssueCertificate(ctx, "tls-server", "localhost", "DNS:localhost")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Fatalf("the issued key pair: %v", err)
	}
	requireSignedBy(t, certFile, s.MinIO.CAFile, "localhost")
	if _, _, err := s.IssueCertificate(ctx, "bad", "x", "localhost"); err == nil || !strings.Contains(err.Error(), "SAN 'localhost'") {
		t.Errorf("a SAN without DNS:/IP: was not refused clearly: %v", err)
	}

	if err := s.Stop(ctx, PostgresServer); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfigurePostgres([]string{"archive_timeout=17s", "application_name=it's mine"}, []string{"VX_PROBE=a b"}); err != nil {
		t.Fatal(err)
	}
	for _, restart := range []func(context.Context, ...Server) error{s.Start, s.Crash, s.Start} {
		if err := restart(ctx, PostgresServer); err != nil {
			t.Fatal(err)
		}
	}
	for setting, want := range map[string]string{"archive_timeout": "17s", "application_name": "it's mine", "fsync": "off"} {
		if got := querySetting(t, s.Postgres, setting); got != want {
			t.Errorf("after a crash and a start, %s = %q, want %q", setting, got, want)
		}
	}
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", s.Postgres.PID))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(environ, []byte("\x00VX_PROBE=a b\x00")) {
		t.Error("the server's environment lacks VX_PROBE=a b")
	}
	if _, err := os.Stat(filepath.Join(s.Postgres.SocketDir, fmt.Sprintf(".s.PGSQL.%d", s.Postgres.Port))); err != nil {
		t.Errorf("no socket in PG_SOCKET_DIR: %v", err)
	}

	tlsDir := filepath.Dir(s.MinIO.CAFile)
	if err := s.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	*destroyed = true
	requireGone(t, s, s.Postgres.DataDir)
	if _, err := os.Stat(tlsDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the certificates in %s are still there (%v)", tlsDir, err)
	}
}

func requireSignedBy(t *testing.T, certFile, caFile, name string) {
	t.Helper()
	roots := x509.NewCertPool()
	caPEM, err := os.ReadFile(caFile)
	if err != nil || !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("the CA %s: %v", caFile, err)
	}
	pair, err := tls.LoadX509KeyPair(certFile, strings.TrimSuffix(certFile, ".crt")+".key")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("%s does not verify for %s against %s: %v", certFile, name, caFile, err)
	}
}

func querySetting(t *testing.T, p *Postgres, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.ConnString("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var value string
	if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&value); err != nil {
		t.Fatal(err)
	}
	return value
}

// A test process that is killed never runs its cleanup: the script's guard
// destroys the instance it started anyway.
func TestPrivateServersDieWithTheirProcess(t *testing.T) {
	if os.Getenv("VX_LOCALENV_CHILD") == "1" {
		runChild(t)
		return
	}
	child := exec.Command(os.Args[0], "-test.run=^TestPrivateServersDieWithTheirProcess$", "-test.count=1")
	child.Env = append(os.Environ(), "VX_LOCALENV_CHILD=1")
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var s Servers
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if json.Unmarshal(sc.Bytes(), &s) == nil && s.Postgres != nil {
			break
		}
	}
	if s.Postgres == nil || s.MinIO == nil {
		_ = child.Process.Kill()
		_ = child.Wait()
		t.Fatal("the child did not report its servers")
	}
	requireMinIOReady(t, s.MinIO, true)
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(s.Dir); errors.Is(err, os.ErrNotExist) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	requireGone(t, &s, s.Postgres.DataDir)
	_ = os.Remove(filepath.Dir(s.Dir)) // the private/ folder, as Destroy leaves it
}

// runChild starts servers, reports them on stdout and waits to be killed.
func runChild(t *testing.T) {
	s, err := StartPrivateServers(context.Background(), "killed-child")
	if err != nil {
		t.Fatal(err)
	}
	report := struct {
		Dir      string
		Postgres *Postgres
		MinIO    *MinIO
	}{s.Dir, s.Postgres, s.MinIO}
	if err := json.NewEncoder(os.Stdout).Encode(report); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Minute) // killed by the parent long before
}

func execSQL(t *testing.T, p *Postgres, database, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.ConnString(database))
	if err != nil {
		t.Fatalf("connect to %s on %s: %v", database, p.Address(), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func requireMinIOReady(t *testing.T, m *MinIO, want bool) {
	t.Helper()
	client := http.Client{Timeout: 2 * time.Second}
	if m.TLS() {
		roots, err := m.RootCAs()
		if err != nil {
			t.Fatal(err)
		}
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	}
	resp, err := client.Get(m.URL() + "/minio/health/ready")
	ready := err == nil && resp.StatusCode == http.StatusOK
	if err == nil {
		resp.Body.Close()
	}
	if ready != want {
		t.Fatalf("MinIO at %s ready=%t, want %t (%v)", m.Endpoint, ready, want, err)
	}
}

func requireClosed(t *testing.T, address string) {
	t.Helper()
	if conn, err := net.DialTimeout("tcp", address, time.Second); err == nil {
		conn.Close()
		t.Fatalf("something still listens on %s", address)
	}
}

// requireGone checks that nothing of an instance is left: no process, no port,
// no run directory, no PostgreSQL data (which lives in /var/tmp when run as root).
func requireGone(t *testing.T, s *Servers, pgData string) {
	t.Helper()
	for _, pid := range []int{s.Postgres.PID, s.MinIO.PID} {
		if err := syscall.Kill(pid, 0); err == nil && !zombie(pid) {
			t.Errorf("process %d still runs", pid)
		}
	}
	requireClosed(t, s.Postgres.Address())
	requireClosed(t, s.MinIO.Endpoint)
	for _, dir := range []string{s.Dir, pgData} {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there (%v)", dir, err)
		}
	}
}

func zombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	for i := len(stat) - 1; i > 0; i-- {
		if stat[i] == ')' {
			return i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X')
		}
	}
	return false
}
