//go:build integration

package backup

// Helpers for the tests against real servers. The shared servers are the ones
// `scripts/test-servers.sh start` printed into the environment (read through
// internal/localenv; the tests fail, never skip, without them); a test that
// stops or kills a server gets servers of its own from the same script.
// Every test gets its own databases, buckets and identities, so tests are
// independent of each other and of anything else using the same servers.

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/virdx/vxplatform-infra/internal/localenv"
	"github.com/virdx/vxplatform-infra/stacks"
)

// shared are the test servers from scripts/test-servers.sh; toolPath is the
// vxbackup binary under test.
var (
	shared   *localenv.Servers
	toolPath string
)

func TestMain(m *testing.M) {
	os.Exit(runIntegrationTests(m))
}

func runIntegrationTests(m *testing.M) int {
	var err error
	if shared, err = localenv.SharedServers(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: the integration tests need the test servers:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "vxbackup-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	toolPath = filepath.Join(dir, "vxbackup")
	build := exec.Command("go", "build", "-o", toolPath, "github.com/virdx/vxplatform-infra/cmd/vxbackup")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: building vxbackup: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// ---------------------------------------------------------------- names ----

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// uniqueName is a lowercase name with the test's name in it (for whoever finds
// a leftover) and a random part (for independence).
func uniqueName(t testing.TB, sep string) string {
	base := strings.Trim(nonName.ReplaceAllString(strings.ToLower(t.Name()), sep), sep)
	if len(base) > 30 {
		base = base[len(base)-30:]
		base = strings.Trim(base, sep)
	}
	return "vxt" + sep + base + sep + randomHex(t, 4)
}

// ------------------------------------------------------------- postgres ----

// pgServer is a PostgreSQL server the tests may use.
type pgServer struct{ *localenv.Postgres }

func sharedPG() pgServer { return pgServer{shared.Postgres} }

func (s pgServer) connect(t testing.TB, database string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.ConnString(database))
	if err != nil {
		t.Fatalf("connect to %s on %s: %v", database, s.Address(), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func (s pgServer) exec(t testing.TB, database string, sql ...string) {
	t.Helper()
	conn := s.connect(t, database)
	for _, q := range sql {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v\n%s", database, err, q)
		}
	}
	conn.Close(context.Background())
}

// newDatabase creates an empty database that is dropped (with the scratch
// databases of its name) when the test ends.
func (s pgServer) newDatabase(t testing.TB) string {
	t.Helper()
	name := uniqueName(t, "_")
	s.exec(t, "postgres", "CREATE DATABASE "+quoteIdent(name))
	s.dropAtCleanup(t, name)
	return name
}

// dropAtCleanup drops a database and its scratch databases when the test ends.
func (s pgServer) dropAtCleanup(t testing.TB, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.ConnString("postgres"))
		if err != nil {
			return // the server is gone (a private one): nothing to clean
		}
		defer conn.Close(ctx)
		names := append(s.scratchOf(t, conn, name), name)
		for _, n := range names {
			if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(n)+" WITH (FORCE)"); err != nil {
				t.Logf("cleanup: drop %s: %v", n, err)
			}
		}
	})
}

func (s pgServer) scratchOf(t testing.TB, conn *pgx.Conn, target string) []string {
	rows, err := conn.Query(context.Background(), "SELECT datname FROM pg_database ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	all, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range all {
		if isScratchOf(n, target) {
			out = append(out, n)
		}
	}
	return out
}

// leftoverScratch lists the scratch databases of target that exist now.
func (s pgServer) leftoverScratch(t testing.TB, target string) []string {
	return s.scratchOf(t, s.connect(t, "postgres"), target)
}

func (s pgServer) databaseOID(t testing.TB, name string) uint32 {
	t.Helper()
	var oid uint32
	err := s.connect(t, "postgres").QueryRow(context.Background(), "SELECT oid FROM pg_database WHERE datname = $1", name).Scan(&oid)
	if err != nil {
		t.Fatalf("oid of database %s: %v", name, err)
	}
	return oid
}

// tableDigest is a table's row count and the md5 of its rows (order-independent).
type tableDigest struct {
	Rows int64
	MD5  string
}

// digest fingerprints every user table of a database.
func (s pgServer) digest(t testing.TB, database string) map[string]tableDigest {
	t.Helper()
	conn := s.connect(t, database)
	ctx := context.Background()
	rows, err := conn.Query(ctx, userTablesQuery)
	if err != nil {
		t.Fatal(err)
	}
	type table struct{ schema, name string }
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var tb table
		return tb, r.Scan(&tb.schema, &tb.name)
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]tableDigest{}
	for _, tb := range tables {
		var d tableDigest
		q := "SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') FROM " + pgx.Identifier{tb.schema, tb.name}.Sanitize() + " t"
		if err := conn.QueryRow(ctx, q).Scan(&d.Rows, &d.MD5); err != nil {
			t.Fatalf("digest of %s.%s: %v", tb.schema, tb.name, err)
		}
		out[tb.schema+"."+tb.name] = d
	}
	conn.Close(ctx)
	return out
}

func sameDigest(a, b map[string]tableDigest) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// fillRandom adds a table of incompressible rows (1 MiB each), so that a dump
// of it takes long enough to be interrupted.
func (s pgServer) fillRandom(t testing.TB, database, table string, mib int) {
	t.Helper()
	conn := s.connect(t, database)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "CREATE TABLE "+quoteIdent(table)+" (id int PRIMARY KEY, data bytea)"); err != nil {
		t.Fatal(err)
	}
	// bytea is stored compressed when it can be: random bytes cannot.
	if _, err := conn.Exec(ctx, "ALTER TABLE "+quoteIdent(table)+" ALTER COLUMN data SET STORAGE EXTERNAL"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	for i := 0; i < mib; i++ {
		if _, err := rand.Read(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO "+quoteIdent(table)+" VALUES ($1, $2)", i, buf); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close(ctx)
}

// smallDataset is a few tables with some rows: enough for a meaningful backup
// that takes a fraction of a second.
var smallDataset = []string{
	`CREATE TABLE patients (id bigserial PRIMARY KEY, name text NOT NULL)`,
	`INSERT INTO patients (name) SELECT 'Zoë Müller ' || g FROM generate_series(1, 2000) g`,
	`CREATE TABLE visits (id bigserial PRIMARY KEY, patient_id bigint REFERENCES patients(id), at timestamptz)`,
	`INSERT INTO visits (patient_id, at) SELECT 1 + g % 2000, timestamptz '2026-01-01' + g * interval '1 hour' FROM generate_series(1, 5000) g`,
}

// -------------------------------------------------------------------- s3 ----

func s3Client(t testing.TB, endpoint, accessKey, secretKey string) *minio.Client {
	t.Helper()
	c, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(accessKey, secretKey, ""), MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rootClient(t testing.TB, s3 *localenv.MinIO) *minio.Client {
	return s3Client(t, s3.Endpoint, s3.RootUser, s3.RootPassword)
}

// newBucket creates a bucket that is removed, with its contents, at the end.
func newBucket(t testing.TB, s3 *localenv.MinIO) string {
	t.Helper()
	root := rootClient(t, s3)
	name := uniqueName(t, "-")
	if err := root.MakeBucket(context.Background(), name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = root.RemoveBucketWithOptions(ctx, name, minio.RemoveBucketOptions{ForceDelete: true})
	})
	return name
}

// latestBackup is what "latest" is, computed by the test from the manifest names
// (read with the root identity).
func latestBackup(t testing.TB, s3 *localenv.MinIO, bucket, prefix string) string {
	t.Helper()
	id, _ := LatestBackupID(prefix, listKeys(t, s3, bucket, ManifestsPrefix(prefix)))
	return id
}

func listKeys(t testing.TB, s3 *localenv.MinIO, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	for o := range rootClient(t, s3).ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list s3://%s/%s: %v", bucket, prefix, o.Err)
		}
		keys = append(keys, o.Key)
	}
	sort.Strings(keys)
	return keys
}

func getObject(t testing.TB, s3 *localenv.MinIO, bucket, key string) []byte {
	t.Helper()
	obj, err := rootClient(t, s3).GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read s3://%s/%s: %v", bucket, key, err)
	}
	return data
}

func putObject(t testing.TB, s3 *localenv.MinIO, bucket, key string, data []byte) {
	t.Helper()
	_, err := rootClient(t, s3).PutObject(context.Background(), bucket, key, strings.NewReader(string(data)), int64(len(data)), minio.PutObjectOptions{})
	if err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// -------------------------------------------------------------------- mc ----

// mcCommand is the MinIO client against s3 as root (alias vxt), with the
// config directory given (throwaway: the alias comes from the environment).
func mcCommand(s3 *localenv.MinIO, configDir string, args ...string) *exec.Cmd {
	cmd := exec.Command(s3.Client, append([]string{"--no-color", "--quiet"}, args...)...)
	cmd.Env = append(os.Environ(), "MC_CONFIG_DIR="+configDir,
		fmt.Sprintf("MC_HOST_vxt=http://%s:%s@%s", s3.RootUser, s3.RootPassword, s3.Endpoint))
	return cmd
}

// mc runs the MinIO client against s3 as root.
func mc(t testing.TB, s3 *localenv.MinIO, args ...string) string {
	t.Helper()
	cmd := mcCommand(s3, t.TempDir(), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// createIdentity makes a MinIO user whose only policy is the given document, the
// way the bucket component does, and returns its keys.
func createIdentity(t testing.TB, s3 *localenv.MinIO, name, policyJSON string) (accessKey, secretKey string) {
	t.Helper()
	secretKey = randomHex(t, 16)
	policyFile := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(policyFile, []byte(policyJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	// The cleanup is registered first so that a failure half-way (a policy that
	// MinIO refuses) leaves no user behind; its config directory is made before
	// it, so that it is removed after the cleanup ran.
	cleanupConfig := t.TempDir()
	t.Cleanup(func() {
		// Best effort: a private server may already be gone.
		for _, args := range [][]string{{"admin", "user", "rm", "vxt", name}, {"admin", "policy", "rm", "vxt", name}} {
			_ = mcCommand(s3, cleanupConfig, args...).Run()
		}
	})
	mc(t, s3, "admin", "user", "add", "vxt", name, secretKey)
	mc(t, s3, "admin", "policy", "create", "vxt", name, policyFile)
	mc(t, s3, "admin", "policy", "attach", "vxt", name, "--user", name)
	return name, secretKey
}

// backupIdentities creates the two identities of a backup prefix from the same
// policy function the components use: write-only for dumps, read for restores.
func backupIdentities(t testing.TB, s3 *localenv.MinIO, bucket string) (backup, restore [2]string) {
	return backupIdentitiesFor(t, s3, []string{bucket})
}

// backupIdentitiesFor is backupIdentities with one grant per bucket, so that a
// test with many independent buckets needs only two identities (creating one
// takes several mc calls).
func backupIdentitiesFor(t testing.TB, s3 *localenv.MinIO, buckets []string) (backup, restore [2]string) {
	t.Helper()
	for _, id := range []struct {
		purpose stacks.Purpose
		access  stacks.Access
		keys    *[2]string
	}{{stacks.PurposeBackup, stacks.AccessWriteOnly, &backup}, {stacks.PurposeRestore, stacks.AccessRead, &restore}} {
		identity := stacks.Identity{Name: uniqueName(t, "-") + "-" + string(id.purpose), Purpose: id.purpose, Store: stacks.StoreCentral}
		for _, b := range buckets {
			identity.Grants = append(identity.Grants, stacks.Grant{Bucket: b, Prefix: stacks.BackupObjectPrefix, Access: id.access})
		}
		doc, err := identity.PolicyJSON()
		if err != nil {
			t.Fatal(err)
		}
		a, s := createIdentity(t, s3, identity.Name, doc)
		*id.keys = [2]string{a, s}
	}
	return backup, restore
}

// ------------------------------------------------------------------ tool ----

// toolEnv is the environment components/backupjob.go gives the tool.
func toolEnv(s3 *localenv.MinIO, bucket string, keys [2]string, pg pgServer, database string) map[string]string {
	return map[string]string{
		EnvEnvironment:  "production",
		EnvS3Endpoint:   s3.Endpoint,
		EnvS3UseTLS:     "false",
		EnvS3Bucket:     bucket,
		EnvS3Prefix:     stacks.BackupObjectPrefix,
		EnvS3AccessKey:  keys[0],
		EnvS3SecretKey:  keys[1],
		EnvPGHost:       pg.Host,
		EnvPGPort:       strconv.Itoa(pg.Port),
		EnvPGDatabase:   database,
		EnvPGUser:       pg.User,
		EnvPGBinDir:     pg.BinDir,
		EnvS3MaxRetries: "2", // a dead endpoint fails in seconds, not a minute
	}
}

func with(env map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

type toolResult struct {
	code           int
	stdout, stderr string
}

func (r toolResult) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// toolCommand prepares a run of the built binary with exactly env (plus PATH
// and HOME): nothing leaks in from the test's own environment.
func toolCommand(ctx context.Context, verb string, env map[string]string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, toolPath, verb)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

func runTool(t testing.TB, verb string, env map[string]string) toolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := toolCommand(ctx, verb, env)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := toolResult{stdout: strings.TrimSpace(stdout.String()), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	default:
		t.Fatalf("run vxbackup %s: %v", verb, err)
	}
	return res
}

// mustRun runs the tool and fails the test unless it succeeded.
func mustRun(t testing.TB, verb string, env map[string]string) toolResult {
	t.Helper()
	res := runTool(t, verb, env)
	if res.code != 0 {
		t.Fatalf("vxbackup %s failed:\n%s", verb, res)
	}
	return res
}

// runningTool is a tool run in the background whose stderr is watched.
type runningTool struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *strings.Builder
	mu     *sync.Mutex
	done   chan toolResult
}

func startTool(t testing.TB, verb string, env map[string]string) *runningTool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	cmd := toolCommand(ctx, verb, env)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &runningTool{cmd: cmd, lines: make(chan string, 1000), stderr: &strings.Builder{}, mu: &sync.Mutex{}, done: make(chan toolResult, 1)}
	go func() {
		defer cancel()
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			r.mu.Lock()
			r.stderr.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			select {
			case r.lines <- sc.Text():
			default:
			}
		}
		err := cmd.Wait()
		res := toolResult{stdout: strings.TrimSpace(stdout.String())}
		r.mu.Lock()
		res.stderr = r.stderr.String()
		r.mu.Unlock()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			res.code = exitErr.ExitCode()
		} else if err != nil {
			res.code = -1
		}
		close(r.lines)
		r.done <- res
	}()
	return r
}

// waitForLine blocks until the tool logs a line containing text.
func (r *runningTool) waitForLine(t testing.TB, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-r.lines:
			if !ok {
				res := <-r.done
				r.done <- res
				t.Fatalf("vxbackup ended before logging %q:\n%s", text, res)
			}
			if strings.Contains(line, text) {
				return
			}
		case <-deadline:
			t.Fatalf("vxbackup did not log %q within %s", text, timeout)
		}
	}
}

func (r *runningTool) wait(t testing.TB, timeout time.Duration) toolResult {
	t.Helper()
	go func() {
		for range r.lines { // keep draining so the tool never blocks on stderr
		}
	}()
	select {
	case res := <-r.done:
		return res
	case <-time.After(timeout):
		_ = r.cmd.Process.Kill()
		t.Fatalf("vxbackup did not finish within %s", timeout)
		return toolResult{}
	}
}

// ------------------------------------------------------- private servers ----

// privateServers starts servers of the test's own (scripts/test-servers.sh,
// through localenv), which the test may stop or crash. They are destroyed when
// the test ends, and by the script's guard if the test process dies first.
func privateServers(t testing.TB, which ...localenv.Server) *localenv.Servers {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := localenv.StartPrivateServers(ctx, t.Name(), which...)
	if err != nil {
		t.Fatalf("private test servers: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Destroy(context.Background()); err != nil {
			t.Errorf("destroying the private test servers: %v", err)
		}
	})
	return s
}

// control stops, crashes or restarts a private server and fails the test if
// that did not work.
func control(t testing.TB, do func(context.Context, ...localenv.Server) error, server localenv.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := do(ctx, server); err != nil {
		t.Fatal(err)
	}
}

// closedPort is a port on 127.0.0.1 that nothing listens on.
func closedPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// ---------------------------------------------------------------- checks ----

func requireContains(t testing.TB, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}
