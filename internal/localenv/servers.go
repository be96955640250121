package localenv

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The local PostgreSQL and MinIO servers of the tests. scripts/test-servers.sh is
// the one place that starts and stops them; Go only reads the variables it prints:
// from the environment, for the shared servers a developer or scripts/test.sh
// started (eval "$(scripts/test-servers.sh start)"), or from the script's output,
// for an instance of a test's own (StartPrivateServers), which Go also stops and
// removes again through the script.

// Server names a server as scripts/test-servers.sh takes it.
type Server string

const (
	PostgresServer Server = "postgres"
	MinIOServer    Server = "minio"
)

// Postgres is a PostgreSQL server on 127.0.0.1 whose User is a superuser with
// trust authentication (no password).
type Postgres struct {
	Host    string // PGHOST
	Port    int    // PGPORT
	User    string // PGUSER
	BinDir  string // PGBIN: initdb, pg_ctl, pg_dump, pg_restore, psql
	DataDir string // PGDATA
	PID     int    // PG_PID: the postmaster
	// SocketDir is the Unix socket directory (PG_SOCKET_DIR; "" from a script
	// older than that variable).
	SocketDir string
}

// Address is host:port.
func (p *Postgres) Address() string { return net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) }

// ConnString is a libpq keyword/value connection string for one database.
func (p *Postgres) ConnString(database string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", p.Host, p.Port, p.User, database)
}

// MinIO is a MinIO server on 127.0.0.1, with the mc client that goes with it.
type MinIO struct {
	Endpoint     string // MINIO_ENDPOINT: host:port, no scheme
	RootUser     string // MINIO_ROOT_USER
	RootPassword string // MINIO_ROOT_PASSWORD
	PID          int    // MINIO_PID
	Binary       string // MINIO: the minio server binary
	Client       string // MC: the mc binary
	ClientConfig string // MC_CONFIG_DIR: holds the alias ClientAlias for this server
	ClientAlias  string // MC_ALIAS
	// CAFile is the CA that signed the server's certificate (MINIO_CA_FILE): set
	// when the server speaks HTTPS only (PrivateConfig.MinIOTLS), "" for HTTP.
	CAFile string
}

// TLS reports whether the server speaks HTTPS.
func (m *MinIO) TLS() bool { return m.CAFile != "" }

// URL is the server's http:// or https:// URL.
func (m *MinIO) URL() string {
	if m.TLS() {
		return "https://" + m.Endpoint
	}
	return "http://" + m.Endpoint
}

// RootCAs is a pool of exactly the server's CA, for a TLS client that trusts
// this server and nothing else; an error without one (an HTTP server) or when
// the file holds no certificate.
func (m *MinIO) RootCAs() (*x509.CertPool, error) {
	if !m.TLS() {
		return nil, fmt.Errorf("MinIO at %s speaks plain HTTP: it has no CA (MINIO_CA_FILE); start it with VX_MINIO_TLS=1", m.Endpoint)
	}
	pem, err := os.ReadFile(m.CAFile)
	if err != nil {
		return nil, fmt.Errorf("MinIO's CA (MINIO_CA_FILE): %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("MinIO's CA (MINIO_CA_FILE=%s) holds no PEM certificate", m.CAFile)
	}
	return pool, nil
}

// Servers are the servers of one instance of scripts/test-servers.sh.
type Servers struct {
	// Dir is the instance's run directory (VX_TEST_RUN).
	Dir string
	// Postgres and MinIO are nil when the instance does not run that server.
	Postgres *Postgres
	MinIO    *MinIO
	// private is the script's environment for an instance of our own; nil for
	// the shared servers, which this process must never stop.
	private []string
	// servers are what a private instance runs: the default of Start, Stop, Crash.
	servers []Server
}

// ServersStartCommand is how a developer starts the shared servers.
const ServersStartCommand = `eval "$(scripts/test-servers.sh start)"`

var serverVariables = map[Server][]string{
	PostgresServer: {"PGHOST", "PGPORT", "PGUSER", "PGBIN", "PGDATA", "PG_PID"},
	MinIOServer:    {"MINIO_ENDPOINT", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_PID", "MINIO", "MC", "MC_CONFIG_DIR", "MC_ALIAS"},
}

// SharedServers are the servers whose variables `scripts/test-servers.sh start`
// printed into this process's environment. Every server in need (default: both)
// must be there; the error names the missing variables and the command to run.
func SharedServers(need ...Server) (*Servers, error) {
	s, err := serversFrom(os.LookupEnv, need)
	if err != nil {
		return nil, fmt.Errorf("%w; start the test servers with %s (another instance: set VX_TEST_RUN and the VX_*_PORT variables, see scripts/test-servers.sh help)", err, ServersStartCommand)
	}
	return s, nil
}

// serversFrom builds Servers from the script's variables; every server in need
// (default: both) must be complete.
func serversFrom(lookup func(string) (string, bool), need []Server) (*Servers, error) {
	if len(need) == 0 {
		need = []Server{PostgresServer, MinIOServer}
	}
	get := func(name string) string { v, _ := lookup(name); return v }
	s := &Servers{Dir: get("VX_TEST_RUN")}
	var missing, malformed []string
	number := func(name string) int {
		n, err := strconv.Atoi(get(name))
		if err != nil && get(name) != "" {
			malformed = append(malformed, fmt.Sprintf("%s=%q is not a number", name, get(name)))
		}
		return n
	}
	for _, server := range need {
		for _, name := range serverVariables[server] {
			if get(name) == "" {
				missing = append(missing, name)
			}
		}
	}
	if serversPresent(lookup, PostgresServer) {
		s.Postgres = &Postgres{Host: get("PGHOST"), Port: number("PGPORT"), User: get("PGUSER"),
			BinDir: get("PGBIN"), DataDir: get("PGDATA"), PID: number("PG_PID"), SocketDir: get("PG_SOCKET_DIR")}
	}
	if serversPresent(lookup, MinIOServer) {
		s.MinIO = &MinIO{Endpoint: get("MINIO_ENDPOINT"), RootUser: get("MINIO_ROOT_USER"), RootPassword: get("MINIO_ROOT_PASSWORD"),
			PID: number("MINIO_PID"), Binary: get("MINIO"), Client: get("MC"), ClientConfig: get("MC_CONFIG_DIR"), ClientAlias: get("MC_ALIAS"),
			CAFile: get("MINIO_CA_FILE")}
	}
	switch {
	case len(missing) > 0:
		return nil, fmt.Errorf("the local test servers are not set up: %s not set", strings.Join(missing, ", "))
	case len(malformed) > 0:
		return nil, fmt.Errorf("the local test servers' variables are not valid: %s", strings.Join(malformed, "; "))
	}
	return s, nil
}

// serversPresent reports whether every variable of server is set.
func serversPresent(lookup func(string) (string, bool), server Server) bool {
	for _, name := range serverVariables[server] {
		if v, _ := lookup(name); v == "" {
			return false
		}
	}
	return true
}

// StartPrivateServers starts an instance of scripts/test-servers.sh of this
// process's own: the named servers (default: both) on free ports, in a new run
// directory under $VX_CACHE/run/private named after name. The script's guard
// destroys the instance when this process ends, even if Destroy is never called
// (a test that was killed or timed out).
func StartPrivateServers(ctx context.Context, name string, which ...Server) (*Servers, error) {
	return StartPrivate(ctx, PrivateConfig{Name: name, Servers: which})
}

// PrivateConfig is a private instance of scripts/test-servers.sh.
type PrivateConfig struct {
	// Name names the run directory (a test's name).
	Name string
	// Servers are what the instance runs (default: both).
	Servers []Server
	// MinIOTLS makes MinIO speak HTTPS only, with a CA of the instance's own
	// (MinIO.CAFile; Servers.IssueCertificate signs more with it).
	MinIOTLS bool
	// PostgresSuperuser names the cluster's superuser (default postgres), as the
	// postgres image names it from POSTGRES_USER.
	PostgresSuperuser string
	// PostgresPassword, when set, is the superuser's password, and every
	// connection must authenticate with it (scram-sha-256) instead of trust.
	PostgresPassword string
}

// portAttempts bounds the starts of a private instance: a port picked free can
// be taken by another process of this shared machine before the server binds it,
// and a start that fails for that alone is tried again on other ports.
const portAttempts = 3

// StartPrivate starts a private instance as StartPrivateServers does, configured.
func StartPrivate(ctx context.Context, config PrivateConfig) (*Servers, error) {
	var err error
	for range portAttempts {
		var s *Servers
		if s, err = startPrivateOnce(ctx, config); err == nil || !portTaken(err) {
			return s, err
		}
	}
	return nil, err
}

// portTaken reports whether a start failed because a port was in use (the
// script's own check, or PostgreSQL's or MinIO's bind).
func portTaken(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "address already in use") || strings.Contains(msg, "ports in use")
}

func startPrivateOnce(ctx context.Context, config PrivateConfig) (*Servers, error) {
	ports, err := FreePorts(3)
	if err != nil {
		return nil, err
	}
	root := privateRunRoot()
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(root, instanceName(config.Name)+"-")
	if err != nil {
		return nil, err
	}
	which := config.Servers
	if len(which) == 0 {
		which = []Server{PostgresServer, MinIOServer}
	}
	s := &Servers{Dir: dir, servers: which, private: []string{
		"VX_TEST_RUN=" + dir,
		"VX_PG_PORT=" + strconv.Itoa(ports[0]),
		"VX_MINIO_PORT=" + strconv.Itoa(ports[1]),
		"VX_MINIO_CONSOLE_PORT=" + strconv.Itoa(ports[2]),
		"VX_TS_OWNER_PID=" + strconv.Itoa(os.Getpid()),
		"VX_TS_FRESH=1",
	}}
	if config.MinIOTLS {
		s.private = append(s.private, "VX_MINIO_TLS=1")
	}
	if err := s.configureSuperuser(config); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	if err := s.start(ctx, which); err != nil {
		if derr := s.Destroy(context.WithoutCancel(ctx)); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, err
	}
	return s, nil
}

// configureSuperuser hands the superuser and its password to the script; the
// password goes through a file of the instance (0600), never a command line.
func (s *Servers) configureSuperuser(config PrivateConfig) error {
	if config.PostgresSuperuser != "" {
		if !oneLineAssignment("u=" + config.PostgresSuperuser) {
			return fmt.Errorf("PostgreSQL superuser %q: one line", config.PostgresSuperuser)
		}
		s.private = append(s.private, "VX_PG_SUPERUSER="+config.PostgresSuperuser)
	}
	if config.PostgresPassword == "" {
		return nil
	}
	if strings.ContainsAny(config.PostgresPassword, "\r\n") {
		return errors.New("PostgreSQL password: one line (it is read as the first line of a file)")
	}
	path := filepath.Join(s.Dir, "pg-password")
	if err := os.WriteFile(path, []byte(config.PostgresPassword+"\n"), 0o600); err != nil {
		return err
	}
	s.private = append(s.private, "VX_PG_PASSWORD_FILE="+path)
	return nil
}

// Start starts the named servers of a private instance again (default: all)
// after Stop or Crash, with the data they had.
func (s *Servers) Start(ctx context.Context, which ...Server) error {
	if err := s.mustBePrivate("start"); err != nil {
		return err
	}
	return s.start(ctx, which, "VX_TS_FRESH=0")
}

// Stop stops the named servers of a private instance (default: all) the way an
// operator would: PostgreSQL with a fast shutdown, MinIO with SIGTERM.
func (s *Servers) Stop(ctx context.Context, which ...Server) error {
	if err := s.mustBePrivate("stop"); err != nil {
		return err
	}
	_, err := s.script(ctx, nil, append([]string{"stop"}, s.serverNames(which)...)...)
	return err
}

// Crash stops the named servers of a private instance (default: all) the way a
// failing machine would: SIGKILL to MinIO, an immediate shutdown of PostgreSQL.
func (s *Servers) Crash(ctx context.Context, which ...Server) error {
	if err := s.mustBePrivate("crash"); err != nil {
		return err
	}
	_, err := s.script(ctx, nil, append([]string{"stop", "--crash"}, s.serverNames(which)...)...)
	return err
}

// Destroy stops every server of a private instance and removes its data and run
// directory.
func (s *Servers) Destroy(ctx context.Context) error {
	if err := s.mustBePrivate("destroy"); err != nil {
		return err
	}
	if _, err := s.script(ctx, nil, "destroy"); err != nil {
		return err
	}
	_ = os.Remove(filepath.Dir(s.Dir)) // the private/ folder, once no instance is left in it
	return nil
}

// ConfigurePostgres sets the server settings ("name=value", passed as -c after
// the script's defaults, so they win) and the server's environment ("NAME=value",
// e.g. what its archive_command needs) of a private instance's PostgreSQL. They
// apply from its next Start on (Stop it first if it runs), and to every later one.
func (s *Servers) ConfigurePostgres(settings, env []string) error {
	if err := s.mustBePrivate("configure"); err != nil {
		return err
	}
	for _, kv := range settings {
		if !oneLineAssignment(kv) {
			return fmt.Errorf("PostgreSQL setting %q: name=value on one line", kv)
		}
	}
	for _, kv := range env {
		if !oneLineAssignment(kv) {
			return fmt.Errorf("PostgreSQL environment variable %q: NAME=value on one line", kv)
		}
	}
	// Named where the script's destroy (and its guard's) removes them.
	for _, file := range []struct {
		name, variable string
		lines          []string
	}{{"pg-settings", "VX_PG_SETTINGS_FILE", settings}, {"pg-env", "VX_PG_ENV_FILE", env}} {
		path := filepath.Join(s.Dir, file.name)
		if err := os.WriteFile(path, []byte(strings.Join(file.lines, "\n")+"\n"), 0o600); err != nil {
			return err
		}
		s.private = append(s.private, file.variable+"="+path)
	}
	return nil
}

// oneLineAssignment is name=value with a name, on one line (the script reads
// one a line and checks the names itself).
func oneLineAssignment(kv string) bool {
	name, _, ok := strings.Cut(kv, "=")
	return ok && name != "" && !strings.Contains(kv, "\n")
}

// IssueCertificate has the instance's CA (PrivateConfig.MinIOTLS) sign a
// certificate for a TLS server or client of the test: cn is its common name,
// san openssl's subjectAltName (e.g. "DNS:localhost,IP:127.0.0.1"). The files
// are readable by the postgres user.
func (s *Servers) IssueCertificate(ctx context.Context, name, cn, san string) (certFile, keyFile string, err error) {
	if err := s.mustBePrivate("issue a certificate for"); err != nil {
		return "", "", err
	}
	out, err := s.script(ctx, nil, "cert", name, cn, san)
	if err != nil {
		return "", "", err
	}
	vars, err := ParseScriptExports(out)
	if err != nil {
		return "", "", fmt.Errorf("scripts/test-servers.sh cert: %w", err)
	}
	if vars["TLS_CERT_FILE"] == "" || vars["TLS_KEY_FILE"] == "" {
		return "", "", fmt.Errorf("scripts/test-servers.sh cert printed no TLS_CERT_FILE and TLS_KEY_FILE: %q", out)
	}
	return vars["TLS_CERT_FILE"], vars["TLS_KEY_FILE"], nil
}

func (s *Servers) start(ctx context.Context, which []Server, env ...string) error {
	out, err := s.script(ctx, env, append([]string{"start"}, s.serverNames(which)...)...)
	if err != nil {
		return err
	}
	vars, err := ParseScriptExports(out)
	if err != nil {
		return fmt.Errorf("scripts/test-servers.sh start: %w", err)
	}
	lookup := func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	if len(which) == 0 {
		which = s.servers
	}
	started, err := serversFrom(lookup, which)
	if err != nil {
		return fmt.Errorf("scripts/test-servers.sh start printed: %w", err)
	}
	s.Postgres, s.MinIO = started.Postgres, started.MinIO
	return nil
}

func (s *Servers) mustBePrivate(op string) error {
	if s.private == nil {
		return fmt.Errorf("cannot %s the shared test servers from Go: they belong to whoever started them (scripts/test-servers.sh)", op)
	}
	return nil
}

// script runs scripts/test-servers.sh for this instance and returns its stdout;
// an error carries the end of its log.
func (s *Servers) script(ctx context.Context, env []string, args ...string) ([]byte, error) {
	repo, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(repo, "scripts", "test-servers.sh"), args...)
	cmd.Env = append(append(os.Environ(), s.private...), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("VX_TEST_RUN=%s scripts/test-servers.sh %s: %w\n%s", s.Dir, strings.Join(args, " "), err, scriptLogTail(stderr.String(), 20))
	}
	return stdout.Bytes(), nil
}

var scriptExportLine = regexp.MustCompile(`^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)

// ParseScriptExports reads the `export NAME='value'` lines the script prints:
// values are single-quoted, and a quote inside one ends the quoted run, follows
// as \' and starts the next run.
func ParseScriptExports(out []byte) (map[string]string, error) {
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := scriptExportLine.FindStringSubmatch(sc.Text())
		if m == nil {
			return nil, fmt.Errorf("unexpected output line %q", sc.Text())
		}
		value, err := unquoteScriptValue(m[2])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m[1], err)
		}
		vars[m[1]] = value
	}
	return vars, sc.Err()
}

// unquoteScriptValue undoes the script's quoting: single-quoted runs joined by \'.
func unquoteScriptValue(q string) (string, error) {
	var b strings.Builder
	for q != "" {
		switch {
		case strings.HasPrefix(q, `\'`):
			b.WriteByte('\'')
			q = q[2:]
		case q[0] == '\'':
			end := strings.IndexByte(q[1:], '\'')
			if end < 0 {
				return "", fmt.Errorf("unterminated quote in %q", q)
			}
			b.WriteString(q[1 : 1+end])
			q = q[2+end:]
		default:
			return "", fmt.Errorf("not single-quoted: %q", q)
		}
	}
	return b.String(), nil
}

// serverNames are the script's arguments for which (default: every server of
// the instance; never none, which would also stop the guard).
func (s *Servers) serverNames(which []Server) []string {
	if len(which) == 0 {
		which = s.servers
	}
	out := make([]string, len(which))
	for i, server := range which {
		out[i] = string(server)
	}
	return out
}

// FreePorts are n different ports on 127.0.0.1 that nothing listens on right now.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close() // held until all are chosen, so that they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// CacheDir is where the scripts keep tool builds and run directories: VX_CACHE,
// default ~/.cache/vxplatform (scripts/lib/common.sh).
func CacheDir() string {
	if cache := os.Getenv("VX_CACHE"); cache != "" {
		return cache
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "vxplatform")
}

// privateRunRoot holds the run directories of private instances: beside the
// scripts' other run directories, never in the system's temporary directory.
func privateRunRoot() string { return filepath.Join(CacheDir(), "run", "private") }

var notInInstanceName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// safeName makes a test name usable as a directory name (and short enough).
func instanceName(name string) string {
	name = strings.Trim(notInInstanceName.ReplaceAllString(name, "-"), "-.")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	if name == "" {
		name = "servers"
	}
	return name
}

func scriptLogTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
