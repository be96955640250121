package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
)

// mcAlias is the alias every mc command uses; its URL and credentials come from
// the MC_HOST_<alias> variable of the child process, so that no credential is
// ever written to mc's config file or shown on a command line.
const mcAlias = "target"

// mcRunner runs `mc admin ...` as a separate process: MinIO's admin library is
// AGPL and must not be linked into the project, the mc program may be run.
type mcRunner struct {
	bin       string
	configDir string
	hostURL   string // scheme://user:password@host:port
}

// newMCRunner runs mc for server; mc inherits this process's environment, so it
// verifies an HTTPS server against the same roots as minio-go (SSL_CERT_FILE).
func newMCRunner(bin, configDir string, server string, ssl bool, user, password string) *mcRunner {
	scheme := "http"
	if ssl {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: server, User: url.UserPassword(user, password)}
	return &mcRunner{bin: bin, configDir: configDir, hostURL: u.String()}
}

// mcError is an error mc reported, with MinIO's error code when there is one.
type mcError struct {
	Command string
	Code    string
	Message string
}

func (e *mcError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("mc %s: %s (%s)", e.Command, e.Message, e.Code)
	}
	return fmt.Sprintf("mc %s: %s", e.Command, e.Message)
}

// notFound reports whether err says the user, policy, service account or bucket
// does not exist.
func notFound(err error) bool {
	e, ok := err.(*mcError)
	if !ok {
		return false
	}
	switch e.Code {
	case "XMinioAdminNoSuchUser", "XMinioAdminNoSuchPolicy", "XMinioAdminServiceAccountNotFound", "NoSuchBucket":
		return true
	case "XMinioInvalidIAMCredentials":
		return strings.Contains(e.Message, "not found")
	}
	return false
}

// run runs mc with JSON output; stdin (secrets, policy documents) is given on
// standard input, never as an argument. It returns one JSON object per line.
func (m *mcRunner) run(ctx context.Context, stdin string, args ...string) ([]map[string]any, error) {
	full := append([]string{"--json", "--no-color", "--disable-pager"}, args...)
	cmd := exec.CommandContext(ctx, m.bin, full...)
	cmd.Env = append(os.Environ(), "MC_HOST_"+mcAlias+"="+m.hostURL, "MC_CONFIG_DIR="+m.configDir)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	command := strings.Join(args, " ")
	var lines []map[string]any
	for _, line := range bytes.Split(stdout.Bytes(), []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(line, &obj); err != nil {
			return nil, fmt.Errorf("mc %s: unexpected output %q", command, line)
		}
		if obj["status"] == "error" {
			return nil, parseMCError(command, obj)
		}
		lines = append(lines, obj)
	}
	if runErr != nil {
		return nil, fmt.Errorf("mc %s: %v: %s", command, runErr, strings.TrimSpace(stderr.String()))
	}
	return lines, nil
}

func parseMCError(command string, obj map[string]any) error {
	e := &mcError{Command: command}
	if msg, ok := obj["error"].(string); ok { // some admin commands report a bare message
		e.Message = msg
		return e
	}
	outer, _ := obj["error"].(map[string]any)
	e.Message, _ = outer["message"].(string)
	if cause, ok := outer["cause"].(map[string]any); ok {
		if msg, ok := cause["message"].(string); ok && msg != "" {
			e.Message += ": " + msg
		}
		if inner, ok := cause["error"].(map[string]any); ok {
			e.Code, _ = inner["Code"].(string)
		}
	}
	return e
}

// one runs mc and returns its single JSON object.
func (m *mcRunner) one(ctx context.Context, stdin string, args ...string) (map[string]any, error) {
	lines, err := m.run(ctx, stdin, args...)
	if err != nil {
		return nil, err
	}
	if len(lines) != 1 {
		return nil, fmt.Errorf("mc %s: want one JSON result, got %d", strings.Join(args, " "), len(lines))
	}
	return lines[0], nil
}
