package stacks

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// TestPointInTimeRecoveryPlan: the patient-data databases archive WAL into their
// own backup bucket with the database image that carries pgBackRest; the others
// keep the official image and the nightly dump alone.
func TestPointInTimeRecoveryPlan(t *testing.T) {
	tests := []struct {
		stack    string
		want     *PointInTime
		database string
	}{
		{"production", &PointInTime{Stanza: "production", Bucket: "dataplatform-backups-production", Prefix: "pgbackrest/",
			ArchiveTimeoutSeconds: 60, RetentionFullDays: 30, RetentionDiff: 7, Schedules: pointInTimeSchedules},
			"ghcr.io/virdx/vxplatform-postgres:v0.2.0"},
		{"staging", &PointInTime{Stanza: "staging", Bucket: "dataplatform-backups-staging", Prefix: "pgbackrest/",
			ArchiveTimeoutSeconds: 60, RetentionFullDays: 30, RetentionDiff: 7, Schedules: pointInTimeSchedules},
			"ghcr.io/virdx/vxplatform-postgres:v0.2.0"},
		{"public", nil, postgresImage},
		{"pr-7", nil, postgresImage},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			env, err := Load(tt.stack, validConfig(tt.stack))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(env.Backup.PointInTime, tt.want) {
				t.Errorf("PointInTime = %+v, want %+v", env.Backup.PointInTime, tt.want)
			}
			if env.Images.Postgres != tt.database {
				t.Errorf("database image %q, want %q", env.Images.Postgres, tt.database)
			}
			for _, s := range []string{pointInTimeSchedules.Full, pointInTimeSchedules.Diff, pointInTimeSchedules.Verify, pointInTimeSchedules.Check} {
				if !validCron(s) {
					t.Errorf("schedule %q is not a valid cron schedule", s)
				}
			}
		})
	}
}

// The retention of the physical backups follows backupRetentionDays.
func TestPointInTimeRetentionFollowsBackupRetention(t *testing.T) {
	env, err := Load("production", with(validConfig("production"), "backupRetentionDays", "90"))
	if err != nil {
		t.Fatal(err)
	}
	if got := env.Backup.PointInTime.RetentionFullDays; got != 90 {
		t.Fatalf("RetentionFullDays = %d, want 90", got)
	}
}

func TestPointInTimeConfigProblems(t *testing.T) {
	tests := []struct {
		name  string
		stack string
		cfg   Config
		want  string // "" means valid
	}{
		{"production over plain HTTP", "production", with(validConfig("production"), "s3UseTLS", "false"),
			`data-platform:s3UseTLS = "false": allowed: true: production and staging archive WAL with pgBackRest, which reaches MinIO over HTTPS only`},
		{"staging over plain HTTP", "staging", with(validConfig("staging"), "s3UseTLS", "false"), "s3UseTLS"},
		{"public over plain HTTP", "public", with(validConfig("public"), "s3UseTLS", "false"), ""},
		{"production without a database tag", "production", without(validConfig("production"), "databaseTag"), "databaseTag"},
		{"database tag latest", "staging", with(validConfig("staging"), "databaseTag", "latest"), `data-platform:databaseTag = "latest"`},
		{"database tag on public", "public", with(validConfig("public"), "databaseTag", "v1"), "not set: a public stack does not use databaseTag"},
		{"database tag on a preview", "pr-3", with(validConfig("pr-3"), "databaseTag", "v1"), "not set: a preview stack does not use databaseTag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.stack, tt.cfg)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var cerr *ConfigError
			if !errors.As(err, &cerr) || len(cerr.Problems) != 1 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one problem containing %q", err, tt.want)
			}
		})
	}
}
