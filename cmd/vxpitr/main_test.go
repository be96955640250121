package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestUsageAndExitStatus(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no verb", nil, 2, "usage: vxpitr check|restore"},
		{"two verbs", []string{"check", "restore"}, 2, "usage:"},
		{"unknown verb", []string{"backup"}, 2, `unknown verb "backup"`},
		{"help", []string{"help"}, 0, "usage:"},
		// Configuration is checked before anything runs: exit 2, the variable named.
		{"check without a stanza", []string{"check"}, 2, "level=ERROR vxpitr check: PGBACKREST_STANZA is not set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("PGBACKREST_STANZA", "")
			var out, errOut bytes.Buffer
			code := run(context.Background(), c.args, &out, &errOut)
			if code != c.code || !strings.Contains(out.String()+errOut.String(), c.want) {
				t.Fatalf("exit %d (want %d), output %q lacks %q", code, c.code, out.String()+errOut.String(), c.want)
			}
		})
	}
}
