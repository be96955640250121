//go:build integration

package pitr_test

// The servers of the point-in-time-recovery tests, all real and all private to
// one test. scripts/test-servers.sh (through internal/localenv) starts and
// stops the servers: a MinIO with TLS (pgBackRest's S3 client speaks HTTPS
// only) and a PostgreSQL 15 cluster archiving with pgBackRest 2.45, and it signs
// the certificates of pgBackRest's TLS server and client with the instance's
// CA. The tests run the product: the sidecar script of the database image
// serving pgBackRest's TLS protocol, backup "CronJob" commands that reach the
// cluster only through it, and vxpitr. Everything listens on 127.0.0.1.

import (
	"context"
	"crypto/rand"
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

	"github.com/virdx/vxplatform-infra/internal/localenv"
	"github.com/virdx/vxplatform-infra/internal/pitr"
	"github.com/virdx/vxplatform-infra/internal/pki"
	"github.com/virdx/vxplatform-infra/internal/testconfig"
	"github.com/virdx/vxplatform-infra/stacks"
)

var tools struct {
	pgbackrest, vxpitr, sidecar string
	base                        string // a directory the postgres user can enter
	asRoot                      bool
}

func TestMain(m *testing.M) { os.Exit(runIntegration(m)) }

func runIntegration(m *testing.M) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", a...)
		return 1
	}
	repo, err := localenv.RepoRoot()
	if err != nil {
		return fail("%v", err)
	}
	if tools.pgbackrest, err = exec.LookPath("pgbackrest"); err != nil {
		return fail("pgbackrest is not installed (apt-get install -y pgbackrest; scripts/test.sh installs it)")
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

// ----------------------------------------------------------------- servers

// privateServers starts an instance of scripts/test-servers.sh of the test's
// own, destroyed when the test ends (and by the script's guard if this process
// dies first).
func privateServers(t testing.TB, config localenv.PrivateConfig) *localenv.Servers {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	config.Name = t.Name()
	s, err := localenv.StartPrivate(ctx, config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Destroy(context.Background()); err != nil {
			t.Errorf("destroying the test servers: %v", err)
		}
	})
	return s
}

// control stops or starts servers of a private instance, or fails the test.
func control(t testing.TB, do func(context.Context, ...localenv.Server) error, which ...localenv.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := do(ctx, which...); err != nil {
		t.Fatal(err)
	}
}

// freePort is a port on 127.0.0.1 that nothing listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	ports, err := localenv.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	return ports[0]
}

// ----------------------------------------------------------------- processes

// asPostgres is a command run as the postgres user when the tests run as root
// (pgBackRest must own what it writes next to the cluster). The environment is
// passed as is.
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

// background starts the product's pgBackRest sidecar (the database pod's
// second container, not a test server) and stops it, by its pid and only it,
// when the test ends.
func background(t testing.TB, logPath string, cmd *exec.Cmd) {
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
		// The process group: runuser's child is the sidecar.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
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

// ------------------------------------------------------------------- MinIO

// minioServer is the test's MinIO (HTTPS, its CA in server.CAFile) with an
// administrator's client.
type minioServer struct {
	server *localenv.MinIO
	admin  *minio.Client
}

func newMinIOServer(t testing.TB, server *localenv.MinIO) *minioServer {
	t.Helper()
	s := &minioServer{server: server}
	s.admin = s.client(t, server.RootUser, server.RootPassword)
	return s
}

func (s *minioServer) client(t testing.TB, key, secret string) *minio.Client {
	t.Helper()
	pem, err := os.ReadFile(s.server.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", s.server.CAFile)
	}
	c, err := minio.New(s.server.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(key, secret, ""), Secure: true, Region: "us-east-1",
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mc runs the MinIO client (a separate AGPL process; never imported) against
// this server, with the alias the script set up (it trusts the server's CA).
func (s *minioServer) mc(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command(s.server.Client, args...)
	cmd.Env = append(os.Environ(), "MC_CONFIG_DIR="+s.server.ClientConfig)
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
	file := filepath.Join(t.TempDir(), id.Name+".json")
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	secret = id.Name + "-secret-key"
	alias := s.server.ClientAlias
	s.mc(t, "admin", "policy", "create", alias, id.Name, file)
	s.mc(t, "admin", "user", "add", alias, id.Name, secret)
	s.mc(t, "admin", "policy", "attach", alias, id.Name, "--user", id.Name)
	return id.Name, secret
}

// ---------------------------------------------------------------- the model

func environment(t testing.TB, stack string) stacks.Environment {
	t.Helper()
	env, err := stacks.Load(stack, testconfig.Valid(stack))
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

// productionDurability undoes the test servers' speed settings (fsync and
// friends off): the database runs with PostgreSQL's defaults, and the recovery
// point measured at a crash must be the one it has.
var productionDurability = []string{"fsync=on", "synchronous_commit=on", "full_page_writes=on"}

// rig is one environment's database with point-in-time recovery.
type rig struct {
	servers  *localenv.Servers
	minio    *minioServer
	settings pitr.Settings
	keys     []string // the archive identity's keys, as the Secret hands them in
	job      []string // the environment of a backup CronJob
}

// newRig starts MinIO, creates production's backup bucket and archive identity
// as the program does, and has PostgreSQL archive through them (restarted with
// the archive settings, as a database that turns PITR on) with its pgBackRest
// sidecar.
func newRig(t testing.TB, archiveTimeout time.Duration) *rig {
	t.Helper()
	ctx := context.Background()
	servers := privateServers(t, localenv.PrivateConfig{MinIOTLS: true})
	r := &rig{servers: servers, minio: newMinIOServer(t, servers.MinIO)}
	env := environment(t, "production")
	id := archiveIdentity(t, env)
	r.minio.versionedBucket(t, env.Backup.Bucket)
	key, secret := r.minio.identity(t, id)
	// The keys as the Secret hands them in, and a lock directory of this
	// database's own (in a pod, /tmp is the container's).
	r.keys = []string{pitr.EnvS3Key + "=" + key, pitr.EnvS3KeySecret + "=" + secret, "PGBACKREST_LOCK_PATH=" + ownedDir(t, "lock")}
	pg := servers.Postgres
	r.settings = pitr.Settings{
		Stanza:            stanza,
		Repo:              pitr.Repository{Endpoint: servers.MinIO.Endpoint, Bucket: env.Backup.Bucket, Prefix: stacks.ArchiveObjectPrefix, VerifyTLS: true, CAFile: servers.MinIO.CAFile},
		ArchiveTimeout:    archiveTimeout,
		RetentionFullDays: 30, RetentionDiff: 7,
		DataDir: pg.DataDir, SocketDir: pg.SocketDir, Port: pg.Port,
	}
	if err := r.settings.Validate(); err != nil {
		t.Fatal(err)
	}
	// The database container's way: the archive settings as server arguments,
	// the pgBackRest variables in its environment (the archiver inherits them).
	control(t, servers.Stop, localenv.PostgresServer)
	if err := servers.ConfigurePostgres(append(append([]string{}, productionDurability...), r.settings.PostgresSettings()...), r.dbEnv()); err != nil {
		t.Fatal(err)
	}
	control(t, servers.Start, localenv.PostgresServer)

	// The program's own certificates (internal/pki, as components/archivecertificates.go
	// issues them): pgBackRest must accept their Ed25519 keys on both ends.
	link := r.linkCertificates(t)
	tlsPort := freePort(t)
	sidecarEnv := r.settings.SidecarEnv(pitr.TLSServer{Address: "127.0.0.1", Port: tlsPort, CertFile: link.serverCert, KeyFile: link.serverKey, CAFile: link.ca, ClientCN: linkClientCN})
	sidecarEnv["VX_PG_BIN_DIR"] = r.pgBin()
	sidecarEnv["VX_STANZA_ATTEMPTS"] = "1"
	background(t, filepath.Join(ownedDir(t, "sidecar"), "sidecar.log"), asPostgres(ctx, append(pitr.EnvList(sidecarEnv), r.keys...), tools.sidecar))
	waitFor(t, "the pgBackRest sidecar's TLS server", 3*time.Minute, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tlsPort))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	jobEnv := r.settings.BackupJobEnv(pitr.TLSClient{Host: "localhost", Port: tlsPort, CertFile: link.clientCert, KeyFile: link.clientKey, CAFile: link.ca})
	// Another pod in production: its own lock directory.
	r.job = append(append(pitr.EnvList(jobEnv), r.keys...), "PGBACKREST_LOCK_PATH="+ownedDir(t, "job-lock"))
	return r
}

// linkClientCN is the CN the program gives the jobs' certificate.
const linkClientCN = "vx-backup-job"

type linkFiles struct{ ca, serverCert, serverKey, clientCert, clientKey string }

// linkCertificates writes a pki bundle for "localhost" (the sidecar listens on
// 127.0.0.1 here) into files only the postgres user can read.
func (r *rig) linkCertificates(t testing.TB) linkFiles {
	t.Helper()
	seed := make([]byte, pki.MinSeedLength)
	if _, err := rand.Read(seed); err != nil {
		t.Fatal(err)
	}
	b, err := pki.Issue(seed, pki.Request{Authority: "vxplatform test pgBackRest CA", ServerNames: []string{"localhost"}, ClientCN: linkClientCN})
	if err != nil {
		t.Fatal(err)
	}
	dir := ownedDir(t, "link-tls")
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		chownPostgres(t, path)
		return path
	}
	return linkFiles{
		ca: write("ca.crt", b.CACert), serverCert: write("server.crt", b.ServerCert), serverKey: write("server.key", b.ServerKey),
		clientCert: write("client.crt", b.ClientCert), clientKey: write("client.key", b.ClientKey),
	}
}

func (r *rig) pgBin() string { return r.servers.Postgres.BinDir }

func (r *rig) dbEnv() []string { return append(pitr.EnvList(r.settings.DatabaseEnv()), r.keys...) }

func (r *rig) dsn(db string) string { return r.servers.Postgres.ConnString(db) }

// crash stops the database the way a failing machine does (an immediate
// shutdown: no checkpoint, no last WAL switch, the archiver stops at once).
func (r *rig) crash(t testing.TB) { control(t, r.servers.Crash, localenv.PostgresServer) }

// backup runs a scheduled backup the way its CronJob does, from outside the
// database "pod": repository directly, data directory through the sidecar.
func (r *rig) backup(t testing.TB, kind pitr.BackupType) {
	t.Helper()
	cmd := pitr.BackupCommand(kind)
	run(t, r.job, cmd[0], append([]string{"--start-fast"}, cmd[1:]...)...)
}

// check is the scheduled `pgbackrest check`: it switches WAL and waits until
// the segment is in the repository.
func (r *rig) check(t testing.TB) { run(t, r.job, "pgbackrest", "check") }

// restoreEnv is the environment of a restore Job of the environment: the
// repository settings and the archive identity's keys.
func (r *rig) restoreEnv(extra ...string) []string {
	env := r.settings.RepositoryEnv()
	env["VXPITR_PG_BIN_DIR"] = r.pgBin()
	return append(append(pitr.EnvList(env), r.keys...), extra...)
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

// restoredCopy is a PostgreSQL of the test servers whose data directory a
// restore fills, like the fresh volume of the runbook: stopped and empty until
// start, which runs the restored cluster.
type restoredCopy struct {
	servers *localenv.Servers
	DataDir string
}

func newRestoredCopy(t testing.TB) *restoredCopy {
	t.Helper()
	servers := privateServers(t, localenv.PrivateConfig{Servers: []localenv.Server{localenv.PostgresServer}})
	control(t, servers.Stop, localenv.PostgresServer)
	if err := os.RemoveAll(servers.Postgres.DataDir); err != nil {
		t.Fatal(err)
	}
	// The restore sets archive_mode=off in the copy; this keeps it off even if not.
	if err := servers.ConfigurePostgres([]string{"archive_mode=off"}, nil); err != nil {
		t.Fatal(err)
	}
	return &restoredCopy{servers: servers, DataDir: servers.Postgres.DataDir}
}

// start runs the restored cluster and returns its DSN for a database.
func (c *restoredCopy) start(t testing.TB) func(db string) string {
	t.Helper()
	control(t, c.servers.Start, localenv.PostgresServer)
	waitFor(t, "the restored copy", 2*time.Minute, func() bool {
		conn, err := pgx.Connect(context.Background(), c.servers.Postgres.ConnString("postgres"))
		if err == nil {
			conn.Close(context.Background())
		}
		return err == nil
	})
	return c.servers.Postgres.ConnString
}
