//go:build integration

package localenv

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	s, err := StartPrivateServers(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			_ = s.Destroy(context.Background())
		}
	})
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
	destroyed = true
	requireGone(t, s, pgData)
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
