package localenv

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestParseScriptExports(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    map[string]string
		wantErr string
	}{
		{"plain", "export A='1'\nexport B_2='x y'\n", map[string]string{"A": "1", "B_2": "x y"}, ""},
		{"empty value", "export A=''\n", map[string]string{"A": ""}, ""},
		{"quote inside", `export P='it'\''s'` + "\n", map[string]string{"P": "it's"}, ""},
		{"only a quote", `export P=''\'''` + "\n", map[string]string{"P": "'"}, ""},
		{"shell characters stay literal", `export P='$HOME "x" \n'` + "\n", map[string]string{"P": `$HOME "x" \n`}, ""},
		{"not an export", "PGHOST=1\n", nil, `unexpected output line "PGHOST=1"`},
		{"unquoted", "export A=1\n", nil, "A: not single-quoted"},
		{"unterminated", "export A='1\n", nil, "A: unterminated quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseScriptExports([]byte(tt.out))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// What scripts/test-servers.sh prints for an instance that runs both servers.
var bothServers = map[string]string{
	"VX_TEST_RUN":    "/run/ts",
	"MINIO_ENDPOINT": "127.0.0.1:59101", "MINIO_ROOT_USER": "vxadmin", "MINIO_ROOT_PASSWORD": "secret-123",
	"MINIO_PID": "42", "MINIO": "/bin/minio", "MC": "/bin/mc", "MC_CONFIG_DIR": "/run/ts/mc", "MC_ALIAS": "local",
	"PGHOST": "127.0.0.1", "PGPORT": "55501", "PGUSER": "postgres", "PGBIN": "/usr/lib/postgresql/15/bin",
	"PGDATA": "/var/tmp/vxplatform/pg-55501/data", "PG_PID": "43",
}

func lookupIn(vars map[string]string, without ...string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		for _, w := range without {
			if name == w {
				return "", false
			}
		}
		v, ok := vars[name]
		return v, ok
	}
}

func TestServersFromTheScriptsVariables(t *testing.T) {
	s, err := serversFrom(lookupIn(bothServers), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir != "/run/ts" || s.Postgres == nil || s.MinIO == nil {
		t.Fatalf("got %+v", s)
	}
	if got, want := *s.Postgres, (Postgres{Host: "127.0.0.1", Port: 55501, User: "postgres", BinDir: "/usr/lib/postgresql/15/bin",
		DataDir: "/var/tmp/vxplatform/pg-55501/data", PID: 43}); got != want {
		t.Errorf("Postgres = %+v, want %+v", got, want)
	}
	if got, want := *s.MinIO, (MinIO{Endpoint: "127.0.0.1:59101", RootUser: "vxadmin", RootPassword: "secret-123", PID: 42,
		Binary: "/bin/minio", Client: "/bin/mc", ClientConfig: "/run/ts/mc", ClientAlias: "local"}); got != want {
		t.Errorf("MinIO = %+v, want %+v", got, want)
	}
	if got := s.Postgres.ConnString("db"); got != "host=127.0.0.1 port=55501 user=postgres dbname=db sslmode=disable" {
		t.Errorf("ConnString = %q", got)
	}
	if got := s.MinIO.URL(); got != "http://127.0.0.1:59101" {
		t.Errorf("URL = %q", got)
	}
}

func TestServersFromAnInstanceOfOneServer(t *testing.T) {
	s, err := serversFrom(lookupIn(bothServers, "PGHOST", "PGPORT", "PGUSER", "PGBIN", "PGDATA", "PG_PID"), []Server{MinIOServer})
	if err != nil {
		t.Fatal(err)
	}
	if s.Postgres != nil || s.MinIO == nil {
		t.Errorf("a MinIO-only instance gave Postgres=%v MinIO=%v", s.Postgres, s.MinIO)
	}
}

func TestServersFromRefusesWhatIsMissingOrMalformed(t *testing.T) {
	tests := []struct {
		name    string
		lookup  func(string) (string, bool)
		need    []Server
		wantErr string
	}{
		{"no MinIO", lookupIn(bothServers, "MINIO_ENDPOINT", "MC"), nil, "MINIO_ENDPOINT, MC not set"},
		{"no PostgreSQL when it is needed", lookupIn(bothServers, "PGPORT"), []Server{PostgresServer}, "PGPORT not set"},
		{"a port that is not a number", lookupIn(map[string]string{"PGHOST": "h", "PGPORT": "x", "PGUSER": "u", "PGBIN": "b", "PGDATA": "d", "PG_PID": "1"}),
			[]Server{PostgresServer}, `PGPORT="x" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := serversFrom(tt.lookup, tt.need)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	// A MinIO-only need does not ask for PostgreSQL's variables.
	if _, err := serversFrom(lookupIn(bothServers, "PGPORT"), []Server{MinIOServer}); err != nil {
		t.Errorf("MinIO only: %v", err)
	}
}

// Without the variables the error says what is missing and the command to run.
func TestSharedServersNameTheStartCommand(t *testing.T) {
	for name := range bothServers {
		t.Setenv(name, "")
	}
	_, err := SharedServers()
	if err == nil {
		t.Fatal("no error without any variable")
	}
	for _, want := range []string{"PGHOST", "MINIO_ENDPOINT", ServersStartCommand} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q: %v", want, err)
		}
	}
}

// The shared servers belong to whoever started them: Go never stops them.
func TestSharedServersCannotBeStoppedFromGo(t *testing.T) {
	for name, value := range bothServers {
		t.Setenv(name, value)
	}
	s, err := SharedServers()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, op := range map[string]func() error{
		"start":   func() error { return s.Start(ctx) },
		"stop":    func() error { return s.Stop(ctx) },
		"crash":   func() error { return s.Crash(ctx) },
		"destroy": func() error { return s.Destroy(ctx) },
	} {
		if err := op(); err == nil || !strings.Contains(err.Error(), "shared test servers") {
			t.Errorf("%s: error %v, want a refusal", name, err)
		}
	}
}

func TestInstanceName(t *testing.T) {
	for in, want := range map[string]string{
		"TestX/sub test#01":     "TestX-sub-test-01",
		"../..":                 "servers",
		strings.Repeat("a", 50): strings.Repeat("a", 40),
	} {
		if got := instanceName(in); got != want {
			t.Errorf("instanceName(%q) = %q, want %q", in, got, want)
		}
	}
}

// The variables only some instances print: the socket directory (newer
// scripts), and MinIO's CA when it speaks HTTPS, which makes its URL https.
func TestServersFromTheOptionalVariables(t *testing.T) {
	vars := map[string]string{"PG_SOCKET_DIR": "/var/tmp/vxplatform/pg-55501", "MINIO_ENDPOINT": "localhost:59101", "MINIO_CA_FILE": "/run/ts/tls/ca.crt"}
	lookup := func(name string) (string, bool) {
		if v, ok := vars[name]; ok {
			return v, true
		}
		return lookupIn(bothServers)(name)
	}
	s, err := serversFrom(lookup, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Postgres.SocketDir != vars["PG_SOCKET_DIR"] || s.MinIO.CAFile != vars["MINIO_CA_FILE"] || !s.MinIO.TLS() {
		t.Errorf("Postgres = %+v, MinIO = %+v", *s.Postgres, *s.MinIO)
	}
	if got := s.MinIO.URL(); got != "https://localhost:59101" {
		t.Errorf("URL = %q, want the https URL", got)
	}
}

func TestConfigurePostgresRefusesWhatTheScriptCannotTake(t *testing.T) {
	s := &Servers{Dir: t.TempDir(), private: []string{"VX_TEST_RUN=x"}}
	cases := []struct {
		name          string
		settings, env []string
		want          string
	}{
		{"a setting without a value", []string{"archive_mode"}, nil, `PostgreSQL setting "archive_mode": name=value`},
		{"a setting of two lines", []string{"a=1\nb=2"}, nil, `PostgreSQL setting "a=1\nb=2"`},
		{"a variable without a name", nil, []string{"=x"}, `PostgreSQL environment variable "=x": NAME=value`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.ConfigurePostgres(c.settings, c.env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
			if len(s.private) != 1 {
				t.Errorf("a refused configuration changed the instance: %v", s.private)
			}
		})
	}
	shared := &Servers{Dir: t.TempDir()}
	if err := shared.ConfigurePostgres([]string{"a=1"}, nil); err == nil {
		t.Error("the shared servers were configured from Go")
	}
}

func TestPortTakenIsWhatAStartIsRetriedFor(t *testing.T) {
	cases := []struct {
		log  string
		want bool
	}{
		{`LOG:  could not bind IPv4 address "127.0.0.1": Address already in use`, true},
		{"ERROR: ports in use; stop what holds them or choose other ports", true},
		{"FATAL Unable to start the server: listen tcp 127.0.0.1:9000: bind: address already in use", true},
		{"ERROR: initdb failed (log: /run/initdb.log)", false},
		{"ERROR: minio not ready (log: /run/minio.log)", false},
	}
	for _, c := range cases {
		if got := portTaken(errors.New("scripts/test-servers.sh start: exit status 1\n" + c.log)); got != c.want {
			t.Errorf("portTaken(%q) = %t, want %t", c.log, got, c.want)
		}
	}
}
