package main

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/virdx/vxplatform-infra/stacks"
)

// errRefused marks a request refused before anything was changed.
var errRefused = errors.New("refused")

// planStacks checks the stack names and orders them: the base of the previews
// (KindPreviews) before any pr-<N> when deploying, after them when destroying;
// otherwise in the order given.
func planStacks(names []string, destroy bool) ([]string, error) {
	var bases, others []string
	seen := map[string]bool{}
	for _, name := range names {
		if name == "" {
			return nil, fmt.Errorf("%w: -stacks: an empty stack name in %q; allowed: a comma-separated list of previews, production, staging, public, pr-<N>", errRefused, strings.Join(names, ","))
		}
		id, err := stacks.ParseStackName(name)
		if err != nil {
			return nil, fmt.Errorf("%w: -stacks: %w", errRefused, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: -stacks: %s is listed twice", errRefused, name)
		}
		seen[name] = true
		if id.Kind == stacks.KindPreviews {
			bases = append(bases, name)
		} else {
			others = append(others, name)
		}
	}
	plan := append(bases, others...)
	if destroy {
		slices.Reverse(plan)
	}
	return plan, nil
}

// previewsBase is the stack that owns the namespace every pr-<N> deploys into.
const previewsBase = string(stacks.KindPreviews)

// checkBases refuses a plan that would leave a pr-<N> without its base: deploying
// one when previews is neither in the plan nor deployed (the engine would fail a
// minute in, with part of the preview created), or destroying previews while a
// pr-<N> outside the plan still lives in its namespace. deployed is what the
// plane holds (plane.holds).
func checkBases(plan []string, destroy bool, deployed map[string]int) error {
	inPlan := map[string]bool{}
	for _, name := range plan {
		inPlan[name] = true
	}
	if !destroy {
		if inPlan[previewsBase] || deployed[previewsBase] > 0 {
			return nil
		}
		for _, name := range plan {
			if isPreview(name) {
				return fmt.Errorf("%w: %s deploys into the namespace of the previews stack, which is neither in -stacks nor deployed on the plane: "+
					"deploy both with  -stacks previews,%s", errRefused, name, name)
			}
		}
		return nil
	}
	if !inPlan[previewsBase] {
		return nil
	}
	var left []string
	for name, n := range deployed {
		if isPreview(name) && n > 0 && !inPlan[name] {
			left = append(left, name)
		}
	}
	if len(left) > 0 {
		slices.Sort(left)
		return fmt.Errorf("%w: destroying previews deletes its namespace, where %s still run(s): "+
			"destroy them together with  -stacks %s,previews -destroy", errRefused, strings.Join(left, ", "), strings.Join(left, ","))
	}
	return nil
}

func isPreview(name string) bool {
	id, err := stacks.ParseStackName(name)
	return err == nil && id.Kind == stacks.KindPreview
}

// recordedStacks reads the file backend under stateDir (localenv.Env's layout:
// backend/.pulumi/stacks/<project>/<stack>.json) and returns, per stack, how many
// resources it holds, counted as the engine reports them (the stack and its
// providers included; a destroyed stack holds none). A missing directory is an
// empty state; nothing is created.
func recordedStacks(stateDir string) (map[string]int, error) {
	dir := filepath.Join(stateDir, "backend", ".pulumi", "stacks", stacks.ConfigNamespace)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]int{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, e := range entries {
		name, gz := strings.CutSuffix(e.Name(), ".json.gz")
		if !gz {
			var ok bool
			if name, ok = strings.CutSuffix(e.Name(), ".json"); !ok {
				continue // .bak and other files of the backend
			}
		}
		n, err := countResources(filepath.Join(dir, e.Name()), gz)
		if err != nil {
			return nil, fmt.Errorf("reading the state of stack %s: %w", name, err)
		}
		out[name] = n
	}
	return out, nil
}

func countResources(path string, gz bool) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var r io.Reader = f
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		r = zr
	}
	var versioned apitype.VersionedCheckpoint
	if err := json.NewDecoder(r).Decode(&versioned); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if versioned.Version != 3 && versioned.Version != 4 { // 4 is 3 with a list of features
		return 0, fmt.Errorf("%s: checkpoint version %d, this job reads versions 3 and 4", path, versioned.Version)
	}
	var cp apitype.CheckpointV3
	if err := json.Unmarshal(versioned.Checkpoint, &cp); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if cp.Latest == nil {
		return 0, nil
	}
	return len(cp.Latest.Resources), nil
}
