package pitr

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Names of the environment variables that carry the archive identity's keys into
// pgBackRest. They come from a Secret reference, never from these settings, so
// that no key is in a command line, a ConfigMap or Pulumi's state.
const (
	EnvS3Key       = "PGBACKREST_REPO1_S3_KEY"
	EnvS3KeySecret = "PGBACKREST_REPO1_S3_KEY_SECRET"
)

// Bounds the settings are held to.
const (
	// MaxArchiveTimeout is the recovery point objective: a WAL segment is
	// archived at most this long after its first write.
	MaxArchiveTimeout = 60 * time.Second
	// DefaultArchiveTimeout is what the databases run with.
	DefaultArchiveTimeout = 60 * time.Second
	maxRetentionDays      = 3650
	maxDiffCount          = 60
)

// Repository is where pgBackRest keeps base backups and the WAL archive: a
// prefix of the environment's backup bucket on the central MinIO.
type Repository struct {
	Endpoint string // host:port, no scheme; pgBackRest's S3 client speaks HTTPS only
	Bucket   string
	Prefix   string // e.g. "pgbackrest/" (stacks.ArchiveObjectPrefix)
	Region   string // "" is us-east-1, MinIO's default
	// VerifyTLS checks the server certificate (against CAFile when set, the
	// system roots otherwise). Off only for tests with a self-signed certificate.
	VerifyTLS bool
	CAFile    string
}

// Settings are the pgBackRest and PostgreSQL settings of one database.
type Settings struct {
	Stanza string // the repository's name for this cluster
	Repo   Repository
	// ArchiveTimeout forces a WAL segment switch at least this often while there
	// are writes, which bounds the data lost with the volume.
	ArchiveTimeout time.Duration
	// RetentionFullDays keeps every full backup needed to restore any instant of
	// the last that many days (pgBackRest's time-based retention); RetentionDiff
	// keeps that many differential backups (count-based).
	RetentionFullDays int
	RetentionDiff     int
	// The cluster as pgBackRest sees it: data directory, socket directory, port.
	DataDir   string
	SocketDir string
	Port      int
}

// TLSServer is pgBackRest's TLS server in the database pod: the backup CronJobs
// reach the data directory through it (a CronJob's pod cannot mount the
// database's volume). Clients must present a certificate whose CN is ClientCN.
type TLSServer struct {
	Address  string // listen address
	Port     int
	CertFile string
	KeyFile  string
	CAFile   string // the CA that signed the clients' certificates
	ClientCN string
}

// TLSClient is how a backup CronJob reaches the TLS server.
type TLSClient struct {
	Host     string // must match the server certificate's name (pgBackRest checks names, not IP addresses)
	Port     int
	CertFile string
	KeyFile  string
	CAFile   string // the CA that signed the server's certificate
}

var (
	stanzaPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	prefixPattern = regexp.MustCompile(`^([a-z0-9][a-z0-9_-]*/)+$`)
)

// Validate reports every problem at once, each naming the setting, its value
// and what is allowed.
func (s Settings) Validate() error {
	var problems []string
	add := func(key string, value any, allowed string) {
		problems = append(problems, fmt.Sprintf("%s=%q: %s", key, fmt.Sprint(value), allowed))
	}
	if !stanzaPattern.MatchString(s.Stanza) {
		add("stanza", s.Stanza, "lowercase letters, digits, '_' and '-', starting with a letter, at most 63 characters")
	}
	if host, port, err := net.SplitHostPort(s.Repo.Endpoint); err != nil || host == "" || !validPort(port) {
		add("repository endpoint", s.Repo.Endpoint, "host:port without a scheme, e.g. minio.example.internal:9000")
	}
	if !bucketPattern.MatchString(s.Repo.Bucket) {
		add("repository bucket", s.Repo.Bucket, "an S3 bucket name (3-63 lowercase letters, digits, '.' and '-')")
	}
	if !prefixPattern.MatchString(s.Repo.Prefix) {
		add("repository prefix", s.Repo.Prefix, "one or more path segments each ending in '/', e.g. pgbackrest/ (never the bucket's root)")
	}
	if s.ArchiveTimeout < time.Second || s.ArchiveTimeout > MaxArchiveTimeout || s.ArchiveTimeout%time.Second != 0 {
		add("archive timeout", s.ArchiveTimeout, fmt.Sprintf("whole seconds from 1s to %s (the recovery point objective)", MaxArchiveTimeout))
	}
	if s.RetentionFullDays < 1 || s.RetentionFullDays > maxRetentionDays {
		add("full backup retention days", s.RetentionFullDays, fmt.Sprintf("1 to %d", maxRetentionDays))
	}
	if s.RetentionDiff < 1 || s.RetentionDiff > maxDiffCount {
		add("differential backups kept", s.RetentionDiff, fmt.Sprintf("1 to %d", maxDiffCount))
	}
	if !strings.HasPrefix(s.DataDir, "/") {
		add("data directory", s.DataDir, "an absolute path")
	}
	if !strings.HasPrefix(s.SocketDir, "/") {
		add("socket directory", s.SocketDir, "an absolute path")
	}
	if s.Port < 1 || s.Port > 65535 {
		add("port", s.Port, "1 to 65535")
	}
	if len(problems) > 0 {
		return errors.New("pitr settings: " + strings.Join(problems, "; "))
	}
	return nil
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// PostgresSettings are the server settings that archive every WAL segment with
// pgBackRest, in "name=value" form for `postgres -c`. The stanza and repository
// come from the environment (DatabaseEnv), which the archiver inherits from the
// server.
func (s Settings) PostgresSettings() []string {
	return []string{
		"wal_level=replica",
		"archive_mode=on",
		"archive_command=pgbackrest archive-push %p",
		fmt.Sprintf("archive_timeout=%ds", int(s.ArchiveTimeout/time.Second)),
		// Commit times of replayed transactions are what a restore to a point in
		// time is checked against (pg_last_committed_xact).
		"track_commit_timestamp=on",
	}
}

// PostgresArgs are PostgresSettings as server arguments.
func (s Settings) PostgresArgs() []string {
	var args []string
	for _, kv := range s.PostgresSettings() {
		args = append(args, "-c", kv)
	}
	return args
}

// RepositoryEnv is what every pgBackRest command of this database needs: the
// repository, retention and the cluster's paths, without the keys (EnvS3Key,
// EnvS3KeySecret, which come from the archive identity's Secret).
func (s Settings) RepositoryEnv() map[string]string {
	host, port, _ := net.SplitHostPort(s.Repo.Endpoint)
	region := s.Repo.Region
	if region == "" {
		region = "us-east-1"
	}
	env := map[string]string{
		"PGBACKREST_STANZA":                    s.Stanza,
		"PGBACKREST_REPO1_TYPE":                "s3",
		"PGBACKREST_REPO1_S3_ENDPOINT":         host,
		"PGBACKREST_REPO1_STORAGE_PORT":        port,
		"PGBACKREST_REPO1_S3_BUCKET":           s.Repo.Bucket,
		"PGBACKREST_REPO1_S3_REGION":           region,
		"PGBACKREST_REPO1_S3_URI_STYLE":        "path",
		"PGBACKREST_REPO1_PATH":                "/" + strings.TrimSuffix(s.Repo.Prefix, "/"),
		"PGBACKREST_REPO1_STORAGE_VERIFY_TLS":  yesNo(s.Repo.VerifyTLS),
		"PGBACKREST_REPO1_RETENTION_FULL_TYPE": "time",
		"PGBACKREST_REPO1_RETENTION_FULL":      strconv.Itoa(s.RetentionFullDays),
		"PGBACKREST_REPO1_RETENTION_DIFF":      strconv.Itoa(s.RetentionDiff),
		"PGBACKREST_PG1_PATH":                  s.DataDir,
		"PGBACKREST_PG1_SOCKET_PATH":           s.SocketDir,
		"PGBACKREST_PG1_PORT":                  strconv.Itoa(s.Port),
		// No configuration file and no log files: everything is in the
		// environment, logs go to the container's output.
		"PGBACKREST_CONFIG":            "/dev/null",
		"PGBACKREST_LOG_LEVEL_FILE":    "off",
		"PGBACKREST_LOG_LEVEL_CONSOLE": "warn",
		"PGBACKREST_LOCK_PATH":         "/tmp/pgbackrest",
		"PGBACKREST_COMPRESS_TYPE":     "lz4",
		"PGBACKREST_PROCESS_MAX":       "2",
	}
	if s.Repo.VerifyTLS && s.Repo.CAFile != "" {
		env["PGBACKREST_REPO1_STORAGE_CA_FILE"] = s.Repo.CAFile
	}
	return env
}

// DatabaseEnv is the environment of the database container and its pgBackRest
// sidecar.
func (s Settings) DatabaseEnv() map[string]string { return s.RepositoryEnv() }

// SidecarEnv is DatabaseEnv plus the TLS server the backup CronJobs connect to.
func (s Settings) SidecarEnv(server TLSServer) map[string]string {
	env := s.DatabaseEnv()
	env["PGBACKREST_TLS_SERVER_ADDRESS"] = server.Address
	env["PGBACKREST_TLS_SERVER_PORT"] = strconv.Itoa(server.Port)
	env["PGBACKREST_TLS_SERVER_CERT_FILE"] = server.CertFile
	env["PGBACKREST_TLS_SERVER_KEY_FILE"] = server.KeyFile
	env["PGBACKREST_TLS_SERVER_CA_FILE"] = server.CAFile
	// Only a client with this CN, and only for this stanza.
	env["PGBACKREST_TLS_SERVER_AUTH"] = server.ClientCN + "=" + s.Stanza
	return env
}

// BackupJobEnv is the environment of a backup, check or monitoring CronJob: the
// repository directly, the data directory through the TLS server.
func (s Settings) BackupJobEnv(client TLSClient) map[string]string {
	env := s.RepositoryEnv()
	env["PGBACKREST_PG1_HOST"] = client.Host
	env["PGBACKREST_PG1_HOST_TYPE"] = "tls"
	env["PGBACKREST_PG1_HOST_PORT"] = strconv.Itoa(client.Port)
	env["PGBACKREST_PG1_HOST_CERT_FILE"] = client.CertFile
	env["PGBACKREST_PG1_HOST_KEY_FILE"] = client.KeyFile
	env["PGBACKREST_PG1_HOST_CA_FILE"] = client.CAFile
	env["PGBACKREST_LOG_LEVEL_CONSOLE"] = "info"
	return env
}

// BackupType is a scheduled backup's kind.
type BackupType string

const (
	BackupFull BackupType = "full"
	BackupDiff BackupType = "diff"
)

// BackupCommand is the command line of a scheduled backup. Expiry by the
// retention settings runs at its end (pgBackRest's own expire).
func BackupCommand(t BackupType) []string {
	return []string{"pgbackrest", "--type=" + string(t), "backup"}
}

// EnvList renders an environment map as sorted NAME=value strings (for exec.Cmd).
func EnvList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func yesNo(b bool) string {
	if b {
		return "y"
	}
	return "n"
}
