package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/virdx/vxplatform-infra/internal/localenv"
)

// The states scripts/control-plane.sh check reports.
const (
	planeRunning   = "running"   // every component runs and the API server is ready
	planeUnhealthy = "unhealthy" // some recorded process lives, the plane is not ready
	planeStopped   = "stopped"
)

// plane is the control plane that runs (or would run) from VX_RUN.
type plane struct {
	state      string
	run        string
	kubeconfig string
	// freshStart: starting the plane from here begins with an empty etcd
	// (VX_CP_FRESH=1, the default), so nothing recorded survives on it.
	freshStart bool
}

// holds is what the plane holds of what the state records, as far as can be told
// without starting it: nothing, when it is not running and would start fresh.
func (p plane) holds(recorded map[string]int) map[string]int {
	if p.state != planeRunning && p.freshStart {
		return map[string]int{}
	}
	return recorded
}

// errPlaneVariables: the control plane's variables are invalid or differ from the
// running plane's; the script said which.
var errPlaneVariables = fmt.Errorf("%w: the control plane's variables (see above); nothing was started or stopped", errRefused)

// checkPlane asks scripts/control-plane.sh (which owns the plane's processes and
// their record) about the plane, without starting or stopping anything.
func checkPlane(ctx context.Context, repo string, stderr io.Writer) (plane, error) {
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(repo, "scripts", "control-plane.sh"), "check")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 2 {
		return plane{}, errPlaneVariables
	}
	if err != nil {
		return plane{}, fmt.Errorf("scripts/control-plane.sh check: %w", err)
	}
	return parsePlane(out.String())
}

func parsePlane(out string) (plane, error) {
	var p plane
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		key, value, _ := strings.Cut(sc.Text(), "=")
		switch key {
		case "state":
			p.state = value
		case "run":
			p.run = value
		case "kubeconfig":
			p.kubeconfig = value
		case "fresh":
			p.freshStart = value == "1"
		}
	}
	switch {
	case p.state != planeRunning && p.state != planeUnhealthy && p.state != planeStopped:
		return p, fmt.Errorf("scripts/control-plane.sh check printed state %q; want %s, %s or %s", p.state, planeRunning, planeUnhealthy, planeStopped)
	case p.run == "" || p.kubeconfig == "":
		return p, fmt.Errorf("scripts/control-plane.sh check printed no run directory or kubeconfig:\n%s", out)
	}
	return p, nil
}

// repoRoot is the clone the job runs in (the scripts it calls live there).
func repoRoot() (string, error) {
	repo, err := localenv.RepoRoot()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(repo, "scripts", "control-plane.sh")); err != nil {
		return "", fmt.Errorf("%s is not the vxplatform-infra clone: %w", repo, err)
	}
	return repo, nil
}
