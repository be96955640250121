package backup

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Object layout under the configured prefix (see README.md):
//
//	<prefix>dumps/<id>.pgdump      the pg_dump custom-format archive
//	<prefix>manifests/<id>.json    the manifest, written only after the dump succeeded
//
// A backup exists exactly when its manifest exists. IDs start with the UTC time
// at a fixed width, so the lexically greatest manifest key is the newest backup.
const (
	dumpsFolder     = "dumps/"
	manifestsFolder = "manifests/"
	dumpSuffix      = ".pgdump"
	manifestSuffix  = ".json"

	// ManifestFormat versions the manifest; a restore refuses any other.
	ManifestFormat = "vxbackup-manifest/1"
	// DumpFormat is what the dump object holds.
	DumpFormat = "pg_dump-custom"

	idTimeLayout = "20060102T150405.000Z"
)

var backupIDPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[0-9a-f]{8}$`)

func validBackupID(s string) bool { return backupIDPattern.MatchString(s) }

// NewBackupID names a backup by its start time, plus a random suffix so that two
// dumps in the same millisecond never share a name (a write-only identity cannot
// check whether a name is taken).
func NewBackupID(start time.Time) (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("backup id: %w", err)
	}
	return start.UTC().Format(idTimeLayout) + "-" + hex.EncodeToString(b[:]), nil
}

// DumpKey is where a backup's archive is.
func DumpKey(prefix, id string) string { return prefix + dumpsFolder + id + dumpSuffix }

// ManifestKey is where a backup's manifest is.
func ManifestKey(prefix, id string) string { return prefix + manifestsFolder + id + manifestSuffix }

// ManifestsPrefix is the folder listed to find backups.
func ManifestsPrefix(prefix string) string { return prefix + manifestsFolder }

// backupIDFromManifestKey returns the ID of a manifest key, or false for any
// other object (which is ignored: only well-formed manifests count).
func backupIDFromManifestKey(prefix, key string) (string, bool) {
	name, ok := strings.CutPrefix(key, ManifestsPrefix(prefix))
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(name, manifestSuffix)
	if !ok || !validBackupID(id) {
		return "", false
	}
	return id, true
}

// LatestBackupID picks the newest backup among manifest keys, from their names
// alone: no dump object is ever listed. It reports false when there is none.
func LatestBackupID(prefix string, manifestKeys []string) (string, bool) {
	ids := BackupIDs(prefix, manifestKeys)
	if len(ids) == 0 {
		return "", false
	}
	return ids[len(ids)-1], true
}

// BackupIDs are the IDs of well-formed manifest keys, oldest first.
func BackupIDs(prefix string, manifestKeys []string) []string {
	var ids []string
	for _, k := range manifestKeys {
		if id, ok := backupIDFromManifestKey(prefix, k); ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Manifest describes one backup. It is written last, after the dump object is
// complete, and it is what a restore trusts.
type Manifest struct {
	Format      string `json:"format"`
	ID          string `json:"id"`
	Environment string `json:"environment"`
	Database    string `json:"database"`
	// DumpKey, Size and SHA256 identify the archive byte for byte.
	DumpKey    string    `json:"dumpKey"`
	DumpFormat string    `json:"dumpFormat"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	// ServerVersion is the dumped server's server_version; PgDumpVersion is
	// `pg_dump --version` of the tool that wrote the archive.
	ServerVersion    string `json:"serverVersion"`
	ServerVersionNum int    `json:"serverVersionNum"`
	PgDumpVersion    string `json:"pgDumpVersion"`
	// Encoding is the dumped database's encoding; the restore creates its fresh
	// database with it.
	Encoding string `json:"encoding"`
	// Tables are the row counts of every table in the dump's own snapshot.
	Tables []TableRows `json:"tables"`
	Tool   string      `json:"tool"`
}

// TableRows is the row count of one table.
type TableRows struct {
	Schema string `json:"schema"`
	Table  string `json:"table"`
	Rows   int64  `json:"rows"`
}

// QualifiedName is schema.table, for messages.
func (t TableRows) QualifiedName() string { return t.Schema + "." + t.Table }

var sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

var encodingPattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// Validate checks a manifest read back from key before anything is restored
// from it: one that is not exactly what dump writes is refused, because a
// restore must never guess.
func (m Manifest) Validate(prefix, key, environment string) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if m.Format != ManifestFormat {
		add("format is %q, expected %q", m.Format, ManifestFormat)
	}
	if id, _ := backupIDFromManifestKey(prefix, key); m.ID != id {
		add("id %q does not match its key", m.ID)
	}
	if m.Environment != environment {
		add("environment is %q, expected %q (%s)", m.Environment, environment, EnvEnvironment)
	}
	if m.Database == "" {
		add("database is missing")
	}
	if want := DumpKey(prefix, m.ID); m.DumpKey != want {
		add("dumpKey is %q, expected %q", m.DumpKey, want)
	}
	if m.DumpFormat != DumpFormat {
		add("dumpFormat is %q, expected %q", m.DumpFormat, DumpFormat)
	}
	if m.Size <= 0 {
		add("size is %d", m.Size)
	}
	if !sha256Pattern.MatchString(m.SHA256) {
		add("sha256 %q is not 64 lowercase hex digits", m.SHA256)
	}
	if !encodingPattern.MatchString(m.Encoding) {
		add("encoding %q is missing or not an encoding name", m.Encoding)
	}
	if m.ServerVersionNum < 90000 {
		add("serverVersionNum %d is missing or not a PostgreSQL version number", m.ServerVersionNum)
	}
	if m.Tables == nil {
		add("tables are missing")
	}
	if len(problems) > 0 {
		return fmt.Errorf("manifest %s is not valid: %s", key, strings.Join(problems, "; "))
	}
	return nil
}

// ParseManifest decodes a manifest strictly: unknown fields mean a format this
// tool does not understand.
func ParseManifest(data []byte) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, err
	}
	return m, nil
}
