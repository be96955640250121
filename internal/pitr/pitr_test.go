package pitr

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func validSettings() Settings {
	return Settings{
		Stanza:            "dataplatform",
		Repo:              Repository{Endpoint: "minio.internal:9000", Bucket: "dataplatform-backups-production", Prefix: "pgbackrest/", VerifyTLS: true},
		ArchiveTimeout:    60 * time.Second,
		RetentionFullDays: 30, RetentionDiff: 7,
		DataDir: "/var/lib/postgresql/data/pgdata", SocketDir: "/var/run/postgresql", Port: 5432,
	}
}

func TestSettingsValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Settings)
		want string // "" means valid
	}{
		{"valid", func(*Settings) {}, ""},
		{"archive timeout above the RPO", func(s *Settings) { s.ArchiveTimeout = 5 * time.Minute }, `archive timeout="5m0s": whole seconds from 1s to 1m0s`},
		{"archive timeout zero", func(s *Settings) { s.ArchiveTimeout = 0 }, `archive timeout="0s"`},
		{"archive timeout fractional", func(s *Settings) { s.ArchiveTimeout = 1500 * time.Millisecond }, `archive timeout="1.5s"`},
		{"endpoint with a scheme", func(s *Settings) { s.Repo.Endpoint = "https://minio:9000" }, `repository endpoint="https://minio:9000": host:port without a scheme`},
		{"endpoint without a port", func(s *Settings) { s.Repo.Endpoint = "minio" }, `repository endpoint="minio"`},
		{"the bucket's root", func(s *Settings) { s.Repo.Prefix = "" }, `repository prefix="": one or more path segments`},
		{"prefix without slash", func(s *Settings) { s.Repo.Prefix = "pgbackrest" }, `repository prefix="pgbackrest"`},
		{"bucket name", func(s *Settings) { s.Repo.Bucket = "Backups" }, `repository bucket="Backups"`},
		{"stanza", func(s *Settings) { s.Stanza = "Data Platform" }, `stanza="Data Platform"`},
		{"retention days", func(s *Settings) { s.RetentionFullDays = 0 }, `full backup retention days="0": 1 to 3650`},
		{"diff count", func(s *Settings) { s.RetentionDiff = 100 }, `differential backups kept="100": 1 to 60`},
		{"relative data dir", func(s *Settings) { s.DataDir = "data" }, `data directory="data": an absolute path`},
		{"port", func(s *Settings) { s.Port = 0 }, `port="0": 1 to 65535`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := validSettings()
			c.edit(&s)
			err := s.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("valid settings refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
	s := validSettings()
	s.Port, s.Stanza = 0, ""
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "stanza=") || !strings.Contains(err.Error(), "port=") {
		t.Fatalf("every problem must be reported at once, got %v", err)
	}
}

func TestSettingsRender(t *testing.T) {
	s := validSettings()
	args := strings.Join(s.PostgresArgs(), " ")
	for _, want := range []string{"-c archive_mode=on", "-c archive_command=pgbackrest archive-push %p", "-c archive_timeout=60s", "-c wal_level=replica", "-c track_commit_timestamp=on"} {
		if !strings.Contains(args, want) {
			t.Errorf("postgres arguments %q lack %q", args, want)
		}
	}
	env := s.RepositoryEnv()
	for k, want := range map[string]string{
		"PGBACKREST_REPO1_PATH": "/pgbackrest", "PGBACKREST_REPO1_S3_ENDPOINT": "minio.internal", "PGBACKREST_REPO1_STORAGE_PORT": "9000",
		"PGBACKREST_REPO1_S3_URI_STYLE": "path", "PGBACKREST_REPO1_STORAGE_VERIFY_TLS": "y", "PGBACKREST_REPO1_RETENTION_FULL_TYPE": "time",
		"PGBACKREST_REPO1_RETENTION_FULL": "30", "PGBACKREST_REPO1_RETENTION_DIFF": "7", "PGBACKREST_STANZA": "dataplatform",
	} {
		if env[k] != want {
			t.Errorf("%s=%q, want %q", k, env[k], want)
		}
	}
	for k := range env {
		if k == EnvS3Key || k == EnvS3KeySecret {
			t.Errorf("%s must come from a Secret, not from the settings", k)
		}
	}
	job := s.BackupJobEnv(TLSClient{Host: "postgres.ns.svc", Port: 8432})
	if job["PGBACKREST_PG1_HOST"] != "postgres.ns.svc" || job["PGBACKREST_PG1_HOST_TYPE"] != "tls" {
		t.Errorf("a backup job reaches the data through the TLS server: %v", job)
	}
	side := s.SidecarEnv(TLSServer{ClientCN: "vx-backup-job"})
	if side["PGBACKREST_TLS_SERVER_AUTH"] != "vx-backup-job=dataplatform" {
		t.Errorf("the TLS server admits only the job's certificate for this stanza: %q", side["PGBACKREST_TLS_SERVER_AUTH"])
	}
}

// A `pgbackrest info --output=json` of 2.45 (shape as printed by the tool), with
// one backup that failed and must be ignored.
const infoSample = `[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000010000000000000009","min":"000000010000000000000001"}],
"backup":[
 {"archive":{"start":"000000010000000000000007","stop":"000000010000000000000009"},"error":false,"label":"20261203-080934F_20261203-081006D","timestamp":{"start":1764749406,"stop":1764749408},"type":"diff"},
 {"archive":{"start":"000000010000000000000003","stop":"000000010000000000000003"},"error":false,"label":"20261203-080934F","timestamp":{"start":1764749374,"stop":1764749383},"type":"full"},
 {"error":true,"label":"20261203-090000F","timestamp":{"start":1764752400,"stop":1764752410},"type":"full"}],
"cipher":"none","name":"dataplatform","status":{"code":0,"message":"ok"}}]`

func fakeRunner(info string, files map[string]int64) Runner {
	return func(_ context.Context, args ...string) ([]byte, error) {
		switch args[0] {
		case "info":
			return []byte(info), nil
		case "repo-ls":
			var b strings.Builder
			b.WriteString(`{".":{"type":"path"}`)
			for name, at := range files {
				b.WriteString(`,"` + name + `":{"type":"file","size":100,"time":` + strconv.FormatInt(at, 10) + `}`)
			}
			b.WriteString("}")
			return []byte(b.String()), nil
		}
		return nil, errors.New("unexpected " + args[0])
	}
}

func TestInspectAndWindow(t *testing.T) {
	walAt := int64(1764749500)
	run := fakeRunner(infoSample, map[string]int64{"000000010000000000000009-0123456789abcdef.lz4": walAt, "000000010000000000000008-aa.lz4": walAt - 60})
	info, w, err := Inspect(context.Background(), run, "dataplatform")
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Backups) != 2 || info.Backups[0].Label != "20261203-080934F" {
		t.Fatalf("backups oldest first, failed ones left out: %+v", info.Backups)
	}
	if got := w.Earliest.Unix(); got != 1764749384 {
		t.Errorf("earliest = %d, want the oldest backup's stop + 1 s", got)
	}
	if w.Latest.Unix() != walAt || w.NewestBackup.Type != "diff" {
		t.Errorf("latest %v, newest backup %+v", w.Latest, w.NewestBackup)
	}
	cases := []struct {
		target Target
		want   string
	}{
		{Target{Latest: true}, ""},
		{Target{Time: w.Earliest}, ""},
		{Target{Time: w.Latest}, ""},
		{Target{Time: w.Earliest.Add(-time.Second)}, "is before the archive begins: restorable from 2025-12-03T08:09:44Z"},
		{Target{Time: w.Latest.Add(time.Second)}, "is after the archive ends"},
	}
	for _, c := range cases {
		err := w.Admit(c.target)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Admit(%s) = %v, want %q", c.target, err, c.want)
		}
	}
	if _, _, err := Inspect(context.Background(), run, "other"); err == nil || !strings.Contains(err.Error(), `no stanza "other"`) {
		t.Errorf("unknown stanza: %v", err)
	}
	if _, _, err := Inspect(context.Background(), fakeRunner(infoSample, nil), "dataplatform"); err == nil || !strings.Contains(err.Error(), "does not hold it") {
		t.Errorf("newest segment missing from its directory: %v", err)
	}
}

func TestParseTarget(t *testing.T) {
	for _, bad := range []string{"", "yesterday", "2026-12-03 08:00:00", "2026-12-03T08:00:00"} {
		if _, err := ParseTarget(bad); err == nil || !strings.Contains(err.Error(), EnvTargetTime) {
			t.Errorf("ParseTarget(%q) = %v, want an error naming %s", bad, err, EnvTargetTime)
		}
	}
	if tt, err := ParseTarget("2026-12-03T08:15:00.5+01:00"); err != nil || tt.Time.UTC().Format(time.RFC3339Nano) != "2026-12-03T07:15:00.5Z" {
		t.Errorf("zone honoured: %v %v", tt, err)
	}
}

func TestCheckFreshness(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	window := func(backupAge, walAge time.Duration) Window {
		return Window{Latest: now.Add(-walAge), NewestBackup: BackupSet{Label: "L", Stop: now.Add(-backupAge)}}
	}
	ok := RepoInfo{Stanza: "dataplatform", StatusMessage: "ok"}
	bounds := Bounds{NewestBackup: 26 * time.Hour, NewestWAL: 5 * time.Minute}
	cases := []struct {
		name string
		info RepoInfo
		w    Window
		want []string
	}{
		{"fresh", ok, window(3*time.Hour, 30*time.Second), nil},
		{"old backup", ok, window(27*time.Hour, 30*time.Second), []string{"is 27h0m0s old, more than VXPITR_MAX_BACKUP_AGE=26h0m0s"}},
		{"archiving stopped", ok, window(time.Hour, 10*time.Minute), []string{"arrived 10m0s ago", "VXPITR_MAX_WAL_AGE=5m0s"}},
		{"both and unhealthy", RepoInfo{Stanza: "dataplatform", StatusCode: 2, StatusMessage: "missing stanza data"}, window(48*time.Hour, time.Hour),
			[]string{`"missing stanza data" (code 2)`, "VXPITR_MAX_BACKUP_AGE", "VXPITR_MAX_WAL_AGE"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := CheckFreshness(c.info, c.w, now, bounds)
			if len(c.want) == 0 && err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v lacks %q", err, w)
				}
			}
			if !strings.Contains(f.Metrics(), "pitr_newest_wal_age_seconds=") {
				t.Errorf("metrics line: %q", f.Metrics())
			}
		})
	}
}

// The sidecar refuses to start without its settings, naming every missing one.
func TestSidecarNamesMissingSettings(t *testing.T) {
	cmd := exec.Command("bash", "../../images/postgres/pgbackrest-sidecar.sh")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "PGBACKREST_STANZA=dataplatform"}
	out, err := cmd.CombinedOutput()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != 1 {
		t.Fatalf("want exit 1, got %v:\n%s", err, out)
	}
	for _, want := range []string{"ERROR: not set:", "PGBACKREST_REPO1_S3_KEY ", "PGBACKREST_TLS_SERVER_AUTH"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "PGBACKREST_STANZA ") {
		t.Errorf("a set variable is reported missing:\n%s", out)
	}
}
