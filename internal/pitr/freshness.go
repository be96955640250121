package pitr

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Bounds are the ages at which the recovery story is broken and someone must
// be woken: no recent backup means a long replay (RTO), no recent WAL means
// the archive stopped (RPO).
type Bounds struct {
	NewestBackup time.Duration
	NewestWAL    time.Duration
}

// Freshness is what the monitoring check measured.
type Freshness struct {
	BackupAge time.Duration
	WALAge    time.Duration
	Backup    BackupSet
}

// Metrics renders the measurement as one line a log-based alert or a scrape
// can read.
func (f Freshness) Metrics() string {
	return fmt.Sprintf("pitr_newest_backup_age_seconds=%d pitr_newest_wal_age_seconds=%d pitr_newest_backup=%s",
		int(f.BackupAge/time.Second), int(f.WALAge/time.Second), f.Backup.Label)
}

// CheckFreshness measures the window's ages at now and fails, naming every bound
// that is exceeded, when the repository is unhealthy or either is too old.
func CheckFreshness(info RepoInfo, w Window, now time.Time, b Bounds) (Freshness, error) {
	f := Freshness{BackupAge: now.Sub(w.NewestBackup.Stop), WALAge: now.Sub(w.Latest), Backup: w.NewestBackup}
	var problems []string
	if info.StatusCode != 0 {
		problems = append(problems, fmt.Sprintf("pgBackRest reports stanza %q as %q (code %d)", info.Stanza, info.StatusMessage, info.StatusCode))
	}
	if f.BackupAge > b.NewestBackup {
		problems = append(problems, fmt.Sprintf("the newest backup (%s, finished %s) is %s old, more than %s=%s",
			w.NewestBackup.Label, stamp(w.NewestBackup.Stop), f.BackupAge.Round(time.Second), EnvMaxBackupAge, b.NewestBackup))
	}
	if f.WALAge > b.NewestWAL {
		problems = append(problems, fmt.Sprintf("the newest archived WAL segment arrived %s ago (%s), more than %s=%s: archiving has stopped or fails",
			f.WALAge.Round(time.Second), stamp(w.Latest), EnvMaxWALAge, b.NewestWAL))
	}
	if len(problems) > 0 {
		return f, errors.New(strings.Join(problems, "; "))
	}
	return f, nil
}
