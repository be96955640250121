package pitr

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Variables of cmd/vxpitr. The pgBackRest settings themselves are pgBackRest's
// own PGBACKREST_* variables (Settings.RepositoryEnv), which it reads directly.
const (
	EnvStanza       = "PGBACKREST_STANZA"
	EnvTargetTime   = "VXPITR_TARGET_TIME"
	EnvRestoreDir   = "VXPITR_RESTORE_DIR"
	EnvVerifyPort   = "VXPITR_VERIFY_PORT"
	EnvPGBin        = "VXPITR_PG_BIN_DIR"
	EnvPGBackRest   = "VXPITR_PGBACKREST"
	EnvMaxBackupAge = "VXPITR_MAX_BACKUP_AGE"
	EnvMaxWALAge    = "VXPITR_MAX_WAL_AGE"
)

// Defaults: a full or differential backup every day, WAL at least every
// archive timeout (the check leaves room for a few missed segments).
const (
	DefaultMaxBackupAge = 26 * time.Hour
	DefaultMaxWALAge    = 5 * time.Minute
)

// UsageError is a configuration problem (exit status 2).
type UsageError struct{ Msg string }

func (e UsageError) Error() string { return e.Msg }

type lookup func(string) (string, bool)

func stringVar(get lookup, name, fallback string) string {
	if v, ok := get(name); ok && v != "" {
		return v
	}
	return fallback
}

func durationVar(get lookup, name string, fallback time.Duration) (time.Duration, error) {
	v, ok := get(name)
	if !ok || v == "" {
		return fallback, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, UsageError{fmt.Sprintf("%s=%q: a positive Go duration such as 26h or 5m", name, v)}
	}
	return d, nil
}

func requiredVar(get lookup, name, allowed string) (string, error) {
	v, ok := get(name)
	if !ok || v == "" {
		return "", UsageError{fmt.Sprintf("%s is not set: %s", name, allowed)}
	}
	return v, nil
}

func runnerFrom(get lookup) Runner {
	return CommandRunner(stringVar(get, EnvPGBackRest, "pgbackrest"), nil)
}

// CheckFromEnv is `vxpitr check`: `pgbackrest check`, then measure the ages and
// fail loudly past a bound.
func CheckFromEnv(ctx context.Context, get lookup, now func() time.Time, out io.Writer) error {
	stanza, err := requiredVar(get, EnvStanza, "the pgBackRest stanza of the database")
	if err != nil {
		return err
	}
	var b Bounds
	if b.NewestBackup, err = durationVar(get, EnvMaxBackupAge, DefaultMaxBackupAge); err != nil {
		return err
	}
	if b.NewestWAL, err = durationVar(get, EnvMaxWALAge, DefaultMaxWALAge); err != nil {
		return err
	}
	run := runnerFrom(get)
	// First a WAL switch that must reach the repository: archiving is proven
	// working now, and an idle database (which switches no segment on its
	// own) does not look like a stalled archive.
	if _, err := run(ctx, "check"); err != nil {
		return fmt.Errorf("archiving is broken: %w", err)
	}
	info, window, err := Inspect(ctx, run, stanza)
	if err != nil {
		return err
	}
	f, err := CheckFreshness(info, window, now(), b)
	fmt.Fprintln(out, f.Metrics())
	return err
}

// RestoreFromEnv is `vxpitr restore`.
func RestoreFromEnv(ctx context.Context, get lookup, out io.Writer) error {
	stanza, err := requiredVar(get, EnvStanza, "the pgBackRest stanza of the database")
	if err != nil {
		return err
	}
	rawTarget, err := requiredVar(get, EnvTargetTime, `"latest" or an RFC 3339 time such as 2026-12-03T08:15:00Z`)
	if err != nil {
		return err
	}
	target, err := ParseTarget(rawTarget)
	if err != nil {
		return UsageError{err.Error()}
	}
	dir, err := requiredVar(get, EnvRestoreDir, "the fresh (missing or empty) directory to restore into")
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(stringVar(get, EnvVerifyPort, "54329"))
	if err != nil || port < 1 || port > 65535 {
		return UsageError{fmt.Sprintf("%s=%q: a port from 1 to 65535", EnvVerifyPort, stringVar(get, EnvVerifyPort, ""))}
	}
	_, err = Restore(ctx, RestoreRequest{
		Stanza: stanza, Target: target, DataDir: dir, VerifyPort: port,
		PGBin:           stringVar(get, EnvPGBin, "/usr/lib/postgresql/15/bin"),
		RecoveryTimeout: 6 * time.Hour,
		Run:             runnerFrom(get),
		Log:             out,
	})
	return err
}

// OSLookup reads the process environment.
var OSLookup lookup = os.LookupEnv
