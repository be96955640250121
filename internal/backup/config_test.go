package backup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// completeEnv is what the backup CronJob of components/backupjob.go sets.
func completeEnv() map[string]string {
	return map[string]string{
		EnvEnvironment: "production",
		EnvS3Endpoint:  "192.168.10.101:10000",
		EnvS3UseTLS:    "true",
		EnvS3Bucket:    "dataplatform-backups-production",
		EnvS3Prefix:    "postgres/",
		EnvS3AccessKey: "dataplatform-production-backup",
		EnvS3SecretKey: "s3cr3t-key",
		EnvPGHost:      "postgres.data-platform-production.svc",
		EnvPGPort:      "5432",
		EnvPGDatabase:  "dataplatform",
		EnvPGUser:      "dataplatform",
		EnvPGPassword:  "pg-s3cr3t",
	}
}

func lookupIn(env map[string]string) LookupFunc {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestConfigFromCompleteEnvironment(t *testing.T) {
	cfg, err := ConfigFromEnv(VerbDump, lookupIn(completeEnv()))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Environment: "production",
		S3: S3Config{Endpoint: "192.168.10.101:10000", UseTLS: true, Bucket: "dataplatform-backups-production", Prefix: "postgres/",
			AccessKey: "dataplatform-production-backup", SecretKey: "s3cr3t-key"},
		Postgres: PostgresConfig{Host: "postgres.data-platform-production.svc", Port: 5432, Database: "dataplatform",
			User: "dataplatform", Password: "pg-s3cr3t", MaintenanceDatabase: "postgres"},
		BackupName: LatestBackup,
	}
	if cfg != want {
		t.Errorf("config:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestConfigFromSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := completeEnv()
	for _, k := range []string{EnvS3AccessKey, EnvS3SecretKey, EnvPGPassword, EnvPGUser} {
		delete(env, k)
	}
	// Secret files usually end with a newline that is not part of the value.
	env[EnvS3AccessKey+"_FILE"] = write("access", "from-file-access\n")
	env[EnvS3SecretKey+"_FILE"] = write("secret", "from-file-secret")
	env[EnvPGPassword+"_FILE"] = write("pgpass", "pg from file\r\n")
	env[EnvPGUser+"_FILE"] = write("pguser", "filed-user")
	cfg, err := ConfigFromEnv(VerbRestore, lookupIn(env))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.S3.AccessKey, cfg.S3.SecretKey, cfg.Postgres.Password, cfg.Postgres.User}
	want := []string{"from-file-access", "from-file-secret", "pg from file", "filed-user"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("values from files: got %q, want %q", got, want)
	}
}

func TestConfigProblems(t *testing.T) {
	tests := []struct {
		name   string
		verb   Verb
		change map[string]string // "" value with key prefixed "-" deletes
		want   []string          // every one must appear in the error
	}{
		{"missing secret key", VerbDump, map[string]string{"-" + EnvS3SecretKey: ""}, []string{"AWS_SECRET_ACCESS_KEY: is not set (set AWS_SECRET_ACCESS_KEY or AWS_SECRET_ACCESS_KEY_FILE)"}},
		{"every missing variable at once", VerbDump, map[string]string{"-" + EnvS3Bucket: "", "-" + EnvPGHost: "", "-" + EnvEnvironment: ""},
			[]string{"S3_BUCKET: is not set", "PGHOST: is not set", "BACKUP_ENVIRONMENT: is not set"}},
		{"empty database", VerbDump, map[string]string{EnvPGDatabase: " "}, []string{"PGDATABASE: is empty"}},
		{"endpoint with scheme", VerbDump, map[string]string{EnvS3Endpoint: "https://minio:9000"}, []string{"must be host:port without a scheme"}},
		{"endpoint without port", VerbDump, map[string]string{EnvS3Endpoint: "minio"}, []string{`S3_ENDPOINT: "minio" is not host:port`}},
		{"bad TLS flag", VerbDump, map[string]string{EnvS3UseTLS: "yes please"}, []string{"S3_USE_TLS: \"yes please\" is not true or false"}},
		{"bad port", VerbRestore, map[string]string{EnvPGPort: "70000"}, []string{"PGPORT: \"70000\" is not a whole number from 1 to 65535"}},
		{"both value and file", VerbDump, map[string]string{EnvPGPassword + "_FILE": "/run/secrets/pg"}, []string{"both PGPASSWORD and PGPASSWORD_FILE are set"}},
		{"unreadable file", VerbDump, map[string]string{"-" + EnvS3SecretKey: "", EnvS3SecretKey + "_FILE": "/nonexistent/secret"}, []string{"AWS_SECRET_ACCESS_KEY_FILE: cannot read the file"}},
		{"bad backup name", VerbRestore, map[string]string{EnvBackupName: "yesterday"}, []string{`BACKUP_NAME: "yesterday" is neither "latest" nor a backup ID`}},
		{"bad environment", VerbDump, map[string]string{EnvEnvironment: "Prod!"}, []string{"BACKUP_ENVIRONMENT: \"Prod!\" is not an environment name"}},
		{"target is the maintenance database", VerbRestore, map[string]string{EnvPGDatabase: "postgres"}, []string{"is also the maintenance database"}},
		{"part size too small", VerbDump, map[string]string{EnvPartSizeMiB: "1"}, []string{"VXBACKUP_PART_SIZE_MIB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := completeEnv()
			for k, v := range tt.change {
				if name, del := strings.CutPrefix(k, "-"); del {
					delete(env, name)
				} else {
					env[k] = v
				}
			}
			_, err := ConfigFromEnv(tt.verb, lookupIn(env))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, secret := range []string{"s3cr3t-key", "pg-s3cr3t"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q reveals a credential", err)
				}
			}
		})
	}
}

func TestListNeedsNoDatabase(t *testing.T) {
	env := completeEnv()
	for _, k := range []string{EnvPGHost, EnvPGPort, EnvPGDatabase, EnvPGUser, EnvPGPassword} {
		delete(env, k)
	}
	if _, err := ConfigFromEnv(VerbList, lookupIn(env)); err != nil {
		t.Errorf("list without PG settings: %v", err)
	}
	if _, err := ConfigFromEnv(VerbDump, lookupIn(env)); err == nil {
		t.Error("dump without PG settings: no error")
	}
}

func TestNormalizePrefix(t *testing.T) {
	for in, want := range map[string]string{"": "", "postgres": "postgres/", "postgres/": "postgres/", "/a/b": "a/b/"} {
		if got := normalizePrefix(in); got != want {
			t.Errorf("normalizePrefix(%q) = %q, want %q", in, got, want)
		}
	}
}
