package backup

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/virdx/vxplatform-infra/internal/backupenv"
)

// The environment the tool reads. The first block is the contract with the
// backup jobs (package backupenv); the rest are optional knobs with safe defaults.
// Every variable may instead be given as NAME_FILE, the path of a file (a mounted
// Secret) holding the value, so that no credential ever has to be an argument.
const (
	EnvEnvironment = backupenv.Environment
	EnvS3Endpoint  = backupenv.S3Endpoint
	EnvS3UseTLS    = backupenv.S3UseTLS
	EnvS3Bucket    = backupenv.S3Bucket
	EnvS3Prefix    = backupenv.S3Prefix
	EnvS3AccessKey = backupenv.S3AccessKey
	EnvS3SecretKey = backupenv.S3SecretKey
	EnvPGHost      = backupenv.PGHost
	EnvPGPort      = backupenv.PGPort
	EnvPGDatabase  = backupenv.PGDatabase
	EnvPGUser      = backupenv.PGUser
	EnvPGPassword  = backupenv.PGPassword

	// EnvBackupName selects the backup that restore and verify use: "latest"
	// (default) or a backup ID as printed by dump and list.
	EnvBackupName = "BACKUP_NAME"
	// EnvS3Region skips the bucket-location lookup when set.
	EnvS3Region = "S3_REGION"
	// EnvS3MaxRetries bounds how often a failed S3 request is retried (default 10,
	// with backoff); tests lower it so that a dead endpoint fails fast.
	EnvS3MaxRetries = "VXBACKUP_S3_MAX_RETRIES"
	// EnvPartSizeMiB overrides the multipart part size. The default grows with the
	// database so that 10,000 parts always suffice, starting at 16 MiB.
	EnvPartSizeMiB = "VXBACKUP_PART_SIZE_MIB"
	// EnvPGBinDir is where pg_dump and pg_restore are; default: found on PATH.
	EnvPGBinDir = "VXBACKUP_PG_BIN_DIR"
	// EnvMaintenanceDatabase is the database the tool connects to for CREATE,
	// RENAME and DROP DATABASE (it cannot do that while connected to the target).
	EnvMaintenanceDatabase = "VXBACKUP_MAINTENANCE_DATABASE"
)

// LatestBackup is the BACKUP_NAME that selects the newest manifest.
const LatestBackup = "latest"

const fileSuffix = "_FILE"

// Config is everything one run of the tool needs.
type Config struct {
	// Environment is the environment whose backups are written (dump) or read
	// (restore, verify): a restore refuses a manifest of any other environment.
	Environment string
	S3          S3Config
	Postgres    PostgresConfig
	// BackupName is LatestBackup or a backup ID.
	BackupName string
	// PartSize is the multipart part size in bytes; 0 chooses it from the
	// database size.
	PartSize int64
}

// S3Config locates the backup prefix and holds the identity's keys.
type S3Config struct {
	Endpoint   string // host:port
	UseTLS     bool
	Bucket     string
	Prefix     string // "" or ends with "/"
	AccessKey  string
	SecretKey  string
	Region     string
	MaxRetries int // 0: the client's default
}

// PostgresConfig is the database server and the database that is dumped or
// restored into.
type PostgresConfig struct {
	Host                string
	Port                int
	Database            string
	User                string
	Password            string
	BinDir              string
	MaintenanceDatabase string
}

// Address is host:port, for messages.
func (p PostgresConfig) Address() string {
	return net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
}

// Describe names the S3 location without credentials, for messages.
func (s S3Config) Describe() string {
	return fmt.Sprintf("s3://%s/%s at %s", s.Bucket, s.Prefix, s.Endpoint)
}

// Verb is a subcommand; each needs a different part of the configuration.
type Verb string

const (
	VerbDump    Verb = "dump"
	VerbRestore Verb = "restore"
	VerbVerify  Verb = "verify"
	VerbList    Verb = "list"
)

// Verbs lists every subcommand, for usage messages.
var Verbs = []Verb{VerbDump, VerbRestore, VerbVerify, VerbList}

// needsPostgres reports whether a verb talks to a database server.
func (v Verb) needsPostgres() bool { return v != VerbList }

// LookupFunc is os.LookupEnv; tests pass a map.
type LookupFunc func(string) (string, bool)

// ConfigFromEnv reads the configuration of one verb from the environment. It
// reports every problem at once, each naming its variable.
func ConfigFromEnv(verb Verb, lookup LookupFunc) (Config, error) {
	r := envReader{lookup: lookup}
	cfg := Config{
		Environment: r.required(EnvEnvironment),
		S3: S3Config{
			Endpoint:   r.hostPort(EnvS3Endpoint),
			UseTLS:     r.boolean(EnvS3UseTLS, true),
			Bucket:     r.required(EnvS3Bucket),
			Prefix:     normalizePrefix(r.optional(EnvS3Prefix, "")),
			AccessKey:  r.required(EnvS3AccessKey),
			SecretKey:  r.required(EnvS3SecretKey),
			Region:     r.optional(EnvS3Region, ""),
			MaxRetries: r.integer(EnvS3MaxRetries, 0, 1, 100),
		},
		BackupName: r.optional(EnvBackupName, LatestBackup),
		PartSize:   int64(r.integer(EnvPartSizeMiB, 0, minPartSizeMiB, maxPartSizeMiB)) << 20,
	}
	if !validEnvironmentName(cfg.Environment) && cfg.Environment != "" {
		r.problem(EnvEnvironment, "%q is not an environment name (lowercase letters, digits and '-')", cfg.Environment)
	}
	if cfg.BackupName != LatestBackup && !validBackupID(cfg.BackupName) {
		r.problem(EnvBackupName, "%q is neither %q nor a backup ID like 20261125T221900.123Z-1a2b3c4d", cfg.BackupName, LatestBackup)
	}
	if verb.needsPostgres() {
		cfg.Postgres = PostgresConfig{
			Host:                r.required(EnvPGHost),
			Port:                r.integer(EnvPGPort, 5432, 1, 65535),
			Database:            r.required(EnvPGDatabase),
			User:                r.required(EnvPGUser),
			Password:            r.optional(EnvPGPassword, ""),
			BinDir:              r.optional(EnvPGBinDir, ""),
			MaintenanceDatabase: r.optional(EnvMaintenanceDatabase, "postgres"),
		}
		if cfg.Postgres.Database == cfg.Postgres.MaintenanceDatabase {
			r.problem(EnvPGDatabase, "%q is also the maintenance database (%s); a restore cannot replace the database it is connected to", cfg.Postgres.Database, EnvMaintenanceDatabase)
		}
	}
	if len(r.problems) > 0 {
		return Config{}, &ConfigError{Problems: r.problems}
	}
	return cfg, nil
}

// ConfigError lists every configuration problem.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "configuration: " + strings.Join(e.Problems, "; ")
}

const (
	minPartSizeMiB = 5 // S3's minimum part size
	maxPartSizeMiB = 5 * 1024
)

type envReader struct {
	lookup   LookupFunc
	problems []string
}

func (r *envReader) problem(name, format string, args ...any) {
	r.problems = append(r.problems, name+": "+fmt.Sprintf(format, args...))
}

// value returns NAME, or the contents of the file NAME_FILE names. Setting both
// is an error: which one wins would be a guess.
func (r *envReader) value(name string) (string, bool) {
	direct, hasDirect := r.lookup(name)
	path, hasFile := r.lookup(name + fileSuffix)
	switch {
	case hasDirect && hasFile:
		r.problem(name, "both %s and %s are set; set only one", name, name+fileSuffix)
		return "", false
	case hasFile:
		b, err := os.ReadFile(filepath.Clean(path))
		if err != nil {
			// The error names the path, never the contents.
			r.problem(name+fileSuffix, "cannot read the file: %v", errors.Unwrap(err))
			return "", false
		}
		// Secret files often end with a newline that is not part of the value.
		return strings.TrimRight(string(b), "\r\n"), true
	default:
		return direct, hasDirect
	}
}

func (r *envReader) required(name string) string {
	_, directSet := r.lookup(name)
	_, fileSet := r.lookup(name + fileSuffix)
	if !directSet && !fileSet {
		r.problem(name, "is not set (set %s or %s)", name, name+fileSuffix)
		return ""
	}
	v, ok := r.value(name)
	if ok && strings.TrimSpace(v) == "" {
		r.problem(name, "is empty")
	}
	return v
}

func (r *envReader) optional(name, fallback string) string {
	v, ok := r.value(name)
	if !ok || v == "" {
		return fallback
	}
	return v
}

func (r *envReader) boolean(name string, fallback bool) bool {
	v, ok := r.value(name)
	if !ok || v == "" {
		return fallback
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.problem(name, "%q is not true or false", v)
		return fallback
	}
	return b
}

func (r *envReader) integer(name string, fallback, lo, hi int) int {
	v, ok := r.value(name)
	if !ok || v == "" {
		return fallback
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.problem(name, "%q is not a whole number from %d to %d", v, lo, hi)
		return fallback
	}
	return n
}

func (r *envReader) hostPort(name string) string {
	v := r.required(name)
	if v == "" {
		return ""
	}
	if strings.Contains(v, "://") {
		r.problem(name, "%q must be host:port without a scheme (TLS is %s)", v, EnvS3UseTLS)
		return v
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil || host == "" {
		r.problem(name, "%q is not host:port", v)
		return v
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		r.problem(name, "%q has no valid port", v)
	}
	return v
}

// normalizePrefix makes a prefix end with "/" so that "postgres" and "postgres/"
// mean the same folder and never match "postgres-old/".
func normalizePrefix(p string) string {
	p = strings.TrimLeft(p, "/")
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func validEnvironmentName(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
