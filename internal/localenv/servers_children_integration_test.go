//go:build integration

package localenv

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A server's children end with it. PostgreSQL archives with pgBackRest to a
// repository that accepts connections and never answers (an unreachable MinIO),
// so `pgbackrest archive-push` hangs, as it would until its timeout. Neither
// Crash (an immediate shutdown) nor Stop (a fast shutdown, which cannot finish
// while the archiver waits and ends in SIGKILL) may leave the archiver, its
// shell or pgBackRest running: each PostgreSQL child is a session of its own,
// which killing the server or its process group does not reach.
func TestCrashAndStopLeaveNoChildOfTheServerRunning(t *testing.T) {
	if _, err := exec.LookPath("pgbackrest"); err != nil {
		t.Fatal("pgbackrest is not installed (apt-get install -y pgbackrest; scripts/test.sh installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	repository := silentListener(t)
	s, _ := startPrivate(ctx, t, PrivateConfig{Name: t.Name(), Servers: []Server{PostgresServer}})
	if err := s.Stop(ctx, PostgresServer); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(repository.Addr().String())
	settings := []string{"wal_level=replica", "archive_mode=on", "archive_command=pgbackrest archive-push %p"}
	env := []string{
		"PGBACKREST_CONFIG=/dev/null",
		"PGBACKREST_STANZA=children",
		"PGBACKREST_PG1_PATH=" + s.Postgres.DataDir,
		"PGBACKREST_REPO1_TYPE=s3",
		"PGBACKREST_REPO1_PATH=/pgbackrest",
		"PGBACKREST_REPO1_S3_ENDPOINT=localhost",
		"PGBACKREST_REPO1_S3_PORT=" + port,
		"PGBACKREST_REPO1_S3_BUCKET=silent",
		"PGBACKREST_REPO1_S3_REGION=us-east-1",
		"PGBACKREST_REPO1_S3_KEY=key",
		"PGBACKREST_REPO1_S3_KEY_SECRET=secret",
		// Far longer than the test: pgBackRest must not end by itself.
		"PGBACKREST_IO_TIMEOUT=3600",
		"PGBACKREST_LOG_LEVEL_FILE=off",
	}
	if err := s.ConfigurePostgres(settings, env); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		stop func(context.Context, ...Server) error
	}{
		{"crash", s.Crash},
		{"stop", s.Stop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Start(ctx, PostgresServer); err != nil {
				t.Fatal(err)
			}
			execSQL(t, s.Postgres, "postgres", "CREATE TABLE IF NOT EXISTS written (n int)")
			execSQL(t, s.Postgres, "postgres", "INSERT INTO written VALUES (1)")
			execSQL(t, s.Postgres, "postgres", "SELECT pg_switch_wal()")
			children := waitForArchivePush(t, s.Postgres.PID)
			if err := tc.stop(ctx, PostgresServer); err != nil {
				t.Fatal(err)
			}
			requireClosed(t, s.Postgres.Address())
			for _, c := range children {
				if c.running() {
					t.Errorf("%s left process %d (%s) of the server running", tc.name, c.pid, c.args)
				}
			}
		})
	}
}

// silentListener accepts TCP connections on 127.0.0.1 and never answers them.
func silentListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range held {
			c.Close()
		}
	})
	return ln
}

// process is one process, told apart from a later one with the same pid by its
// start time.
type process struct {
	pid, ppid int
	start     string
	args      string
}

// running: the same process still exists and is not a zombie.
func (p process) running() bool {
	now, ok := readProcess(p.pid)
	return ok && now.start == p.start && !zombie(p.pid)
}

func readProcess(pid int) (process, bool) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return process{}, false
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 20 {
		return process{}, false
	}
	ppid, _ := strconv.Atoi(fields[1])
	cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return process{pid: pid, ppid: ppid, start: fields[19], args: strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))}, true
}

// descendants are the processes below root.
func descendants(root int) []process {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]process{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProcess(pid); ok {
			children[p.ppid] = append(children[p.ppid], p)
		}
	}
	var out []process
	for queue := []int{root}; len(queue) > 0; queue = queue[1:] {
		for _, c := range children[queue[0]] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
	}
	return out
}

// waitForArchivePush waits until a `pgbackrest archive-push` runs below the
// postmaster and returns every descendant then.
func waitForArchivePush(t *testing.T, postmaster int) []process {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		procs := descendants(postmaster)
		for _, p := range procs {
			if strings.HasPrefix(p.args, "pgbackrest archive-push") {
				return procs
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no pgbackrest archive-push below postmaster %d after 60s", postmaster)
	return nil
}
