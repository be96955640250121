//go:build integration

package pitr

// The servers of the point-in-time-recovery tests, all real and all private to
// one test: a MinIO with TLS (pgBackRest's S3 client speaks HTTPS only), a
// PostgreSQL 15 cluster archiving with pgBackRest 2.45, the sidecar script of
// the database image serving pgBackRest's TLS protocol, and backup "CronJob"
// commands that reach the cluster only through it. Everything listens on
// 127.0.0.1, on ports picked free, and is stopped by its pid.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/virdx/vxplatform-infra/stacks"
)

var tools struct {
	minio, mc, pgbackrest, pgBin, vxpitr, sidecar string
	base                                          string // a directory the postgres user can enter
	asRoot                                        bool
}

func TestMain(m *testing.M) { os.Exit(runIntegration(m)) }

func runIntegration(m *testing.M) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", a...)
		return 1
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		return fail("%v", err)
	}
	tools.minio = os.Getenv("MINIO")
	tools.mc = os.Getenv("MC")
	for _, p := range []struct {
		v    *string
		name string
	}{{&tools.minio, "minio"}, {&tools.mc, "mc"}} {
		if *p.v == "" {
			out, err := exec.Command(filepath.Join(repo, "scripts/tools.sh"), "path", p.name).Output()
			if err != nil {
				return fail("no %s: set %s or build it with scripts/tools.sh %s", p.name, strings.ToUpper(p.name), p.name)
			}
			*p.v = strings.TrimSpace(string(out))
		}
	}
	if tools.pgbackrest, err = exec.LookPath("pgbackrest"); err != nil {
		return fail("pgbackrest is not installed (apt-get install -y pgbackrest; scripts/test.sh installs it)")
	}
	tools.pgBin = os.Getenv("PGBIN")
	if tools.pgBin == "" {
		tools.pgBin = "/usr/lib/postgresql/15/bin"
	}
	tools.sidecar = filepath.Join(repo, "images/postgres/pgbackrest-sidecar.sh")
	tools.asRoot = os.Getuid() == 0
	// The postgres user must be able to enter it, so not under a 0700 $HOME or TMPDIR.
	if tools.base, err = os.MkdirTemp("/var/tmp", "vxpitr-it-"); err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(tools.base)
	if err := os.Chmod(tools.base, 0o755); err != nil {
		return fail("%v", err)
	}
	tools.vxpitr = filepath.Join(tools.base, "vxpitr")
	if out, err := exec.Command("go", "build", "-o", tools.vxpitr, "github.com/virdx/vxplatform-infra/cmd/vxpitr").CombinedOutput(); err != nil {
		return fail("building vxpitr: %v\n%s", err, out)
	}
	return m.Run()
}

// ----------------------------------------------------------------- processes

// asPostgres is a command run as the postgres user when the tests run as root
// (initdb and postgres refuse root). The environment is passed as is.
func asPostgres(ctx context.Context, env []string, name string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if tools.asRoot {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, name, args...)
	}
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func run(t testing.TB, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := asPostgres(ctx, env, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ownedDir is a new directory of the test that the postgres user owns.
func ownedDir(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(tools.base, fmt.Sprintf("%s-%d", name, time.Now().UnixNano()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	chownPostgres(t, dir)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func chownPostgres(t testing.TB, paths ...string) {
	t.Helper()
	if !tools.asRoot {
		return
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatal("no postgres user: ", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range paths {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// background starts a long-running server and stops it (by its pid, and only
// it) when the test ends.
func background(t testing.TB, logPath string, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logFile.Close(); close(done) }()
	t.Cleanup(func() {
		// The process group: runuser's child is the server.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	return cmd
}

func waitFor(t testing.TB, what string, timeout time.Duration, ready func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ready() {
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// --------------------------------------------------------------------- TLS

// certificates makes a CA and a certificate for each name it signs; the files
// are readable by the postgres user only.
type certificates struct{ dir, ca string }

func newCA(t testing.TB) certificates {
	t.Helper()
	dir := ownedDir(t, "tls")
	c := certificates{dir: dir, ca: filepath.Join(dir, "ca.crt")}
	openssl(t, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=vxpitr-test-ca",
		"-keyout", filepath.Join(dir, "ca.key"), "-out", c.ca)
	return c
}

// issue returns the certificate and key files for a common name and its
// subject alternative names (e.g. "DNS:localhost,IP:127.0.0.1").
func (c certificates) issue(t testing.TB, name, cn, san string) (cert, key string) {
	t.Helper()
	cert, key = filepath.Join(c.dir, name+".crt"), filepath.Join(c.dir, name+".key")
	csr, ext := filepath.Join(c.dir, name+".csr"), filepath.Join(c.dir, name+".ext")
	if err := os.WriteFile(ext, []byte("subjectAltName="+san+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	openssl(t, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN="+cn, "-keyout", key, "-out", csr)
	openssl(t, "x509", "-req", "-in", csr, "-CA", c.ca, "-CAkey", filepath.Join(c.dir, "ca.key"), "-CAcreateserial",
		"-days", "2", "-extfile", ext, "-out", cert)
	entries, _ := os.ReadDir(c.dir)
	for _, e := range entries {
		chownPostgres(t, filepath.Join(c.dir, e.Name()))
	}
	return cert, key
}

func openssl(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// ------------------------------------------------------------------- MinIO

const (
	minioRoot         = "vxpitr-admin"
	minioRootPassword = "vxpitr-admin-secret"
)

type minioServer struct {
	endpoint string // localhost:port: pgBackRest checks certificate names, not IP addresses
	ca       string
	mcConfig string
	admin    *minio.Client
}

// startMinIO starts a private MinIO with TLS on 127.0.0.1.
func startMinIO(t testing.TB, ca certificates) *minioServer {
	t.Helper()
	dir := ownedDir(t, "minio")
	certsDir := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cert, key := ca.issue(t, "minio", "localhost", "DNS:localhost,IP:127.0.0.1")
	for src, dst := range map[string]string{cert: "public.crt", key: "private.key"} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(certsDir, dst), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	port, console := freePort(t), freePort(t)
	cmd := exec.Command(tools.minio, "server", "--quiet", "--certs-dir", certsDir,
		"--address", fmt.Sprintf("127.0.0.1:%d", port), "--console-address", fmt.Sprintf("127.0.0.1:%d", console), filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+minioRoot, "MINIO_ROOT_PASSWORD="+minioRootPassword,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1")
	background(t, filepath.Join(dir, "minio.log"), cmd)
	s := &minioServer{endpoint: fmt.Sprintf("localhost:%d", port), ca: ca.ca, mcConfig: filepath.Join(dir, "mc")}
	s.admin = s.client(t, minioRoot, minioRootPassword)
	waitFor(t, "minio", 60*time.Second, func() bool {
		_, err := s.admin.ListBuckets(context.Background())
		return err == nil
	})
	s.mc(t, "alias", "set", "central", "https://"+s.endpoint, minioRoot, minioRootPassword)
	return s
}

func (s *minioServer) client(t testing.TB, key, secret string) *minio.Client {
	t.Helper()
	pem, err := os.ReadFile(s.ca)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	c, err := minio.New(s.endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(key, secret, ""), Secure: true, Region: "us-east-1",
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mc runs the MinIO client (a separate AGPL process; never imported) against
// this server.
func (s *minioServer) mc(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command(tools.mc, append([]string{"--insecure", "--config-dir", s.mcConfig}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// versionedBucket creates a bucket with versioning, as the bucket component
// creates every backup bucket.
func (s *minioServer) versionedBucket(t testing.TB, name string) {
	t.Helper()
	ctx := context.Background()
	if err := s.admin.MakeBucket(ctx, name, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.admin.EnableVersioning(ctx, name); err != nil {
		t.Fatal(err)
	}
}

// identity creates a user with exactly the IAM policy the program gives it
// (stacks.Identity.PolicyJSON) and returns its keys.
func (s *minioServer) identity(t testing.TB, id stacks.Identity) (key, secret string) {
	t.Helper()
	doc, err := id.PolicyJSON()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(filepath.Dir(s.mcConfig), id.Name+".json")
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	secret = id.Name + "-secret-key"
	s.mc(t, "admin", "policy", "create", "central", id.Name, file)
	s.mc(t, "admin", "user", "add", "central", id.Name, secret)
	s.mc(t, "admin", "policy", "attach", "central", id.Name, "--user", id.Name)
	return id.Name, secret
}

// ---------------------------------------------------------------- the model

func stackConfig() stacks.Config {
	return stacks.Config{
		"kubeContext": "vx-cluster", "frontendTag": "v1.4.2", "apiTag": "v1.4.2", "backupTag": "v0.3.0",
		"s3Endpoint": "192.168.10.101:10000", "minioUser": "admin", "minioPassword": "s3cr3t",
	}
}

func environment(t testing.TB, stack string) stacks.Environment {
	t.Helper()
	env, err := stacks.Load(stack, stackConfig())
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func archiveIdentity(t testing.TB, env stacks.Environment) stacks.Identity {
	t.Helper()
	id, ok := env.Storage.Identity(stacks.PurposeArchive, stacks.StoreCentral)
	if !ok {
		t.Fatalf("%s has no archive identity", env.Namespace)
	}
	return id
}

// ------------------------------------------------------------- the database

const stanza = "dataplatform"

// rig is one environment's database with point-in-time recovery.
type rig struct {
	minio    *minioServer
	settings Settings
	keys     []string // the archive identity's keys, as the Secret hands them in
	pgPort   int
	pgDir    string
	postgres *exec.Cmd
	job      []string // the environment of a backup CronJob
}

// newRig starts MinIO, creates production's backup bucket and archive identity
// as the program does, and starts a PostgreSQL cluster archiving through them
// with its pgBackRest sidecar.
func newRig(t testing.TB, archiveTimeout time.Duration) *rig {
	t.Helper()
	ca := newCA(t)
	r := &rig{minio: startMinIO(t, ca)}
	env := environment(t, "production")
	id := archiveIdentity(t, env)
	r.minio.versionedBucket(t, env.Backup.Bucket)
	key, secret := r.minio.identity(t, id)
	// The keys as the Secret hands them in, and a lock directory of this
	// database's own (in a pod, /tmp is the container's).
	r.keys = []string{EnvS3Key + "=" + key, EnvS3KeySecret + "=" + secret, "PGBACKREST_LOCK_PATH=" + ownedDir(t, "lock")}
	r.pgDir = ownedDir(t, "pg")
	r.pgPort = freePort(t)
	r.settings = Settings{
		Stanza:            stanza,
		Repo:              Repository{Endpoint: r.minio.endpoint, Bucket: env.Backup.Bucket, Prefix: stacks.ArchiveObjectPrefix, VerifyTLS: true, CAFile: ca.ca},
		ArchiveTimeout:    archiveTimeout,
		RetentionFullDays: 30, RetentionDiff: 7,
		DataDir: filepath.Join(r.pgDir, "data"), SocketDir: r.pgDir, Port: r.pgPort,
	}
	if err := r.settings.Validate(); err != nil {
		t.Fatal(err)
	}
	run(t, nil, filepath.Join(tools.pgBin, "initdb"), "-D", r.settings.DataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale")
	r.startPostgres(t)

	serverCert, serverKey := ca.issue(t, "pgbackrest-server", "localhost", "DNS:localhost")
	clientCert, clientKey := ca.issue(t, "pgbackrest-client", "vx-backup-job", "DNS:vx-backup-job")
	tlsPort := freePort(t)
	sidecarEnv := r.settings.SidecarEnv(TLSServer{Address: "127.0.0.1", Port: tlsPort, CertFile: serverCert, KeyFile: serverKey, CAFile: ca.ca, ClientCN: "vx-backup-job"})
	sidecarEnv["VX_PG_BIN_DIR"] = tools.pgBin
	sidecarEnv["VX_STANZA_ATTEMPTS"] = "1"
	background(t, filepath.Join(r.pgDir, "sidecar.log"), asPostgres(context.Background(), append(EnvList(sidecarEnv), r.keys...), tools.sidecar))
	waitFor(t, "the pgBackRest sidecar's TLS server", 3*time.Minute, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tlsPort))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	jobEnv := r.settings.BackupJobEnv(TLSClient{Host: "localhost", Port: tlsPort, CertFile: clientCert, KeyFile: clientKey, CAFile: ca.ca})
	// Another pod in production: its own lock directory.
	r.job = append(append(EnvList(jobEnv), r.keys...), "PGBACKREST_LOCK_PATH="+ownedDir(t, "job-lock"))
	return r
}

func (r *rig) dbEnv() []string { return append(EnvList(r.settings.DatabaseEnv()), r.keys...) }

// startPostgres starts the cluster the way the database container does: the
// archive settings as server arguments, the pgBackRest variables in its
// environment (the archiver inherits them).
func (r *rig) startPostgres(t testing.TB) {
	t.Helper()
	args := append([]string{"-D", r.settings.DataDir, "-p", strconv.Itoa(r.pgPort), "-k", r.pgDir, "-c", "listen_addresses=127.0.0.1"}, r.settings.PostgresArgs()...)
	r.postgres = background(t, filepath.Join(r.pgDir, "postgres.log"), asPostgres(context.Background(), r.dbEnv(), filepath.Join(tools.pgBin, "postgres"), args...))
	waitFor(t, "postgres", time.Minute, func() bool {
		c, err := pgx.Connect(context.Background(), r.dsn("postgres"))
		if err == nil {
			c.Close(context.Background())
		}
		return err == nil
	})
}

func (r *rig) dsn(db string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=%s sslmode=disable", r.pgPort, db)
}

// backup runs a scheduled backup the way its CronJob does, from outside the
// database "pod": repository directly, data directory through the sidecar.
func (r *rig) backup(t testing.TB, kind BackupType) {
	t.Helper()
	cmd := BackupCommand(kind)
	run(t, r.job, cmd[0], append([]string{"--start-fast"}, cmd[1:]...)...)
}

// check is the scheduled `pgbackrest check`: it switches WAL and waits until
// the segment is in the repository.
func (r *rig) check(t testing.TB) { run(t, r.job, "pgbackrest", "check") }

// pgbackrestAs runs a pgBackRest command with the repository settings and the
// given keys (a restore Job of the environment).
func (r *rig) restoreEnv(extra ...string) []string {
	env := r.settings.RepositoryEnv()
	env["VXPITR_PG_BIN_DIR"] = tools.pgBin
	return append(append(EnvList(env), r.keys...), extra...)
}

// vxpitr runs the command under test as the postgres user.
func (r *rig) vxpitr(t testing.TB, env []string, verb string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := asPostgres(ctx, env, tools.vxpitr, verb).CombinedOutput()
	code := 0
	if err != nil {
		exit, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("vxpitr %s: %v", verb, err)
		}
		code = exit.ExitCode()
	}
	return string(out), code
}

// startCopy starts a restored data directory on a port of its own and returns
// its DSN for a database.
func startCopy(t testing.TB, dataDir string) func(db string) string {
	t.Helper()
	port := freePort(t)
	sock := ownedDir(t, "copy-sock")
	background(t, filepath.Join(sock, "postgres.log"), asPostgres(context.Background(), nil, filepath.Join(tools.pgBin, "postgres"),
		"-D", dataDir, "-p", strconv.Itoa(port), "-k", sock, "-c", "listen_addresses=127.0.0.1", "-c", "archive_mode=off"))
	dsn := func(db string) string {
		return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=%s sslmode=disable", port, db)
	}
	waitFor(t, "the restored copy", 2*time.Minute, func() bool {
		c, err := pgx.Connect(context.Background(), dsn("postgres"))
		if err == nil {
			c.Close(context.Background())
		}
		return err == nil
	})
	return dsn
}
