package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunRefusesAnythingButAVerbAndReportsConfiguration(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr []string
		wantStdout string
	}{
		{"no verb", nil, exitUsage, []string{"expected exactly one argument"}, ""},
		// A credential on the command line would end up in `ps` and in the Job spec.
		{"extra argument", []string{"dump", "--password=hunter2"}, exitUsage, []string{"settings come only from the environment"}, ""},
		{"unknown verb", []string{"backup"}, exitUsage, []string{`unknown verb "backup"`}, ""},
		{"dump without settings", []string{"dump"}, exitUsage, []string{"dump not started", "BACKUP_ENVIRONMENT: is not set", "AWS_SECRET_ACCESS_KEY: is not set", "PGHOST: is not set"}, ""},
		{"restore without settings", []string{"restore"}, exitUsage, []string{"restore not started", "S3_ENDPOINT: is not set"}, ""},
		{"help", []string{"help"}, exitOK, nil, "usage: vxbackup"},
		{"version", []string{"version"}, exitOK, nil, "vxbackup dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, noEnv, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q does not contain %q", stderr.String(), w)
				}
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tt.wantStdout)
			}
		})
	}
}
