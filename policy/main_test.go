package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRunWithoutAnEngineExplainsItself(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		serveErr   error
		wantCode   int
		wantServed bool
		wantStderr string
	}{
		{name: "no arguments", args: []string{"bin/policy-pack"}, wantCode: 2, wantStderr: "pulumi preview --policy-pack bin/policy-pack"},
		{name: "help", args: []string{"bin/policy-pack", "--help"}, wantCode: 2, wantStderr: "analyzer plugin"},
		{name: "started by the engine", args: []string{"bin/policy-pack", "127.0.0.1:40000"}, wantCode: 0, wantServed: true},
		{name: "serving fails", args: []string{"bin/policy-pack", "127.0.0.1:40000"}, serveErr: errors.New("no port"), wantCode: 1, wantServed: true, wantStderr: "policy-pack: no port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			served := false
			code := run(tt.args, &stderr, func() error { served = true; return tt.serveErr })
			if code != tt.wantCode || served != tt.wantServed {
				t.Errorf("exit %d, served %v; want exit %d, served %v", code, served, tt.wantCode, tt.wantServed)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
