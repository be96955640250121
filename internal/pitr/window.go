package pitr

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path"
	"sort"
	"strings"
	"time"
)

// Runner runs pgBackRest with the given arguments and returns its standard
// output; an error carries its standard error.
type Runner func(ctx context.Context, args ...string) ([]byte, error)

// CommandRunner runs the pgbackrest binary with env added to this process's
// environment.
func CommandRunner(binary string, env []string) Runner {
	return func(ctx context.Context, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, binary, args...)
		cmd.Env = append(cmd.Environ(), env...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return out, fmt.Errorf("pgbackrest %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
}

// BackupSet is one backup in the repository.
type BackupSet struct {
	Label string
	Type  string // full, diff, incr
	Start time.Time
	Stop  time.Time // the backup is consistent from here on
}

// Archive is one WAL archive of the stanza (one per PostgreSQL system).
type Archive struct {
	ID       string // e.g. "15-1"
	Min, Max string // oldest and newest segment names
}

// RepoInfo is what `pgbackrest info` says about a stanza.
type RepoInfo struct {
	Stanza        string
	StatusCode    int
	StatusMessage string
	Backups       []BackupSet // oldest first
	Archives      []Archive
}

// The parts of `pgbackrest info --output=json` used here.
type infoJSON struct {
	Name   string `json:"name"`
	Status struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
	Archive []struct {
		ID  string  `json:"id"`
		Min *string `json:"min"`
		Max *string `json:"max"`
	} `json:"archive"`
	Backup []struct {
		Label     string `json:"label"`
		Type      string `json:"type"`
		Error     bool   `json:"error"`
		Timestamp struct {
			Start int64 `json:"start"`
			Stop  int64 `json:"stop"`
		} `json:"timestamp"`
	} `json:"backup"`
}

// ParseInfo reads `pgbackrest info --output=json` for one stanza. Backups that
// pgBackRest marks as having errors are left out: they restore nothing.
func ParseInfo(data []byte, stanza string) (RepoInfo, error) {
	var all []infoJSON
	if err := json.Unmarshal(data, &all); err != nil {
		return RepoInfo{}, fmt.Errorf("pgbackrest info: unreadable JSON: %w", err)
	}
	for _, s := range all {
		if s.Name != stanza {
			continue
		}
		info := RepoInfo{Stanza: s.Name, StatusCode: s.Status.Code, StatusMessage: s.Status.Message}
		for _, a := range s.Archive {
			if a.Min == nil || a.Max == nil {
				continue
			}
			info.Archives = append(info.Archives, Archive{ID: a.ID, Min: *a.Min, Max: *a.Max})
		}
		for _, b := range s.Backup {
			if b.Error {
				continue
			}
			info.Backups = append(info.Backups, BackupSet{Label: b.Label, Type: b.Type,
				Start: time.Unix(b.Timestamp.Start, 0).UTC(), Stop: time.Unix(b.Timestamp.Stop, 0).UTC()})
		}
		sort.Slice(info.Backups, func(i, j int) bool { return info.Backups[i].Stop.Before(info.Backups[j].Stop) })
		return info, nil
	}
	return RepoInfo{}, fmt.Errorf("pgbackrest info: the repository has no stanza %q (was stanza-create run?)", stanza)
}

// Window is the span of time the repository can restore to.
type Window struct {
	// Earliest is when the oldest backup became consistent.
	Earliest time.Time
	// Latest is when the newest WAL segment reached the repository: every commit
	// in it happened before.
	Latest time.Time
	// NewestBackup is the most recent backup set.
	NewestBackup BackupSet
}

// Inspect reads the stanza's backups and the time of its newest archived WAL
// segment from the repository.
func Inspect(ctx context.Context, run Runner, stanza string) (RepoInfo, Window, error) {
	out, err := run(ctx, "info", "--output=json")
	if err != nil {
		return RepoInfo{}, Window{}, err
	}
	info, err := ParseInfo(out, stanza)
	if err != nil {
		return info, Window{}, err
	}
	if len(info.Backups) == 0 {
		return info, Window{}, fmt.Errorf("the repository of stanza %q holds no backup (status: %s)", stanza, info.StatusMessage)
	}
	if len(info.Archives) == 0 {
		return info, Window{}, fmt.Errorf("the repository of stanza %q holds no archived WAL (status: %s)", stanza, info.StatusMessage)
	}
	newestWAL, err := newestSegmentTime(ctx, run, stanza, info.Archives[len(info.Archives)-1])
	if err != nil {
		return info, Window{}, err
	}
	// Stop is in whole seconds and the backup's consistent point lies within that
	// second: the next second is the first instant certainly restorable.
	return info, Window{Earliest: info.Backups[0].Stop.Add(time.Second), Latest: newestWAL, NewestBackup: info.Backups[len(info.Backups)-1]}, nil
}

// newestSegmentTime is when the newest segment of an archive was stored. Only the
// one directory that holds it is listed (at most 256 segments), never the
// whole archive.
func newestSegmentTime(ctx context.Context, run Runner, stanza string, a Archive) (time.Time, error) {
	if len(a.Max) != 24 {
		return time.Time{}, fmt.Errorf("pgbackrest info: newest WAL segment %q of archive %s is not a segment name", a.Max, a.ID)
	}
	dir := path.Join("archive", stanza, a.ID, a.Max[:16])
	out, err := run(ctx, "repo-ls", "--output=json", dir)
	if err != nil {
		return time.Time{}, err
	}
	var entries map[string]struct {
		Type string `json:"type"`
		Time int64  `json:"time"`
	}
	if err := json.Unmarshal(out, &entries); err != nil {
		return time.Time{}, fmt.Errorf("pgbackrest repo-ls %s: unreadable JSON: %w", dir, err)
	}
	for name, e := range entries {
		if e.Type == "file" && strings.HasPrefix(name, a.Max+"-") {
			return time.Unix(e.Time, 0).UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("the repository lists segment %s in archive %s but %s does not hold it", a.Max, a.ID, dir)
}

// Target is a restore's end point: a time, or the end of the archive.
type Target struct {
	Latest bool
	Time   time.Time
}

// ParseTarget reads "latest" or an RFC 3339 time (with a zone).
func ParseTarget(v string) (Target, error) {
	if v == "latest" {
		return Target{Latest: true}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return Target{}, fmt.Errorf("%s=%q: \"latest\" or an RFC 3339 time with a zone, e.g. 2026-12-03T08:15:00Z", EnvTargetTime, v)
	}
	return Target{Time: t}, nil
}

func (t Target) String() string {
	if t.Latest {
		return "latest"
	}
	return t.Time.UTC().Format(time.RFC3339Nano)
}

// Admit refuses a target the repository cannot restore: before its oldest
// backup was consistent, or after its newest archived WAL.
func (w Window) Admit(t Target) error {
	if t.Latest {
		return nil
	}
	switch {
	case t.Time.Before(w.Earliest):
		return fmt.Errorf("%s=%s is before the archive begins: restorable from %s (the oldest backup) to %s (the newest archived WAL); nothing was restored",
			EnvTargetTime, t, stamp(w.Earliest), stamp(w.Latest))
	case t.Time.After(w.Latest):
		return fmt.Errorf("%s=%s is after the archive ends: restorable from %s (the oldest backup) to %s (the newest archived WAL); nothing was restored",
			EnvTargetTime, t, stamp(w.Earliest), stamp(w.Latest))
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
