// Package workflows reads the GitHub Actions workflows of this repository
// (.github/workflows) into plain Go values, so that the pipeline's invariants
// (where jobs run, which concurrency group and environment they hold, what runs
// through the policy pack, which versions are pinned) are tested as code.
package workflows

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Workflow is one workflow file.
type Workflow struct {
	File string
	Name string `yaml:"name"`
	// On maps each trigger to its settings (nil when given as a bare name).
	On          map[string]yaml.Node `yaml:"-"`
	RawOn       yaml.Node            `yaml:"on"`
	Env         map[string]string    `yaml:"env"`
	Concurrency *Concurrency         `yaml:"concurrency"`
	Jobs        map[string]*Job      `yaml:"jobs"`
}

// Job is one job; Uses is set for a call of a reusable workflow.
type Job struct {
	ID          string
	If          string            `yaml:"if"`
	Needs       yaml.Node         `yaml:"needs"`
	RunsOn      yaml.Node         `yaml:"runs-on"`
	Environment yaml.Node         `yaml:"environment"`
	Concurrency *Concurrency      `yaml:"concurrency"`
	Env         map[string]string `yaml:"env"`
	Strategy    struct {
		Matrix map[string]yaml.Node `yaml:"matrix"`
	} `yaml:"strategy"`
	Steps []Step `yaml:"steps"`
	Uses  string `yaml:"uses"`
	// With are the inputs of a reusable workflow's call.
	With map[string]string `yaml:"with"`
}

// Concurrency is a concurrency block (a bare string is its group).
type Concurrency struct {
	Group            string `yaml:"group"`
	CancelInProgress *bool  `yaml:"cancel-in-progress"`
	Queue            string `yaml:"queue"`
}

// UnmarshalYAML accepts both forms.
func (c *Concurrency) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		c.Group = n.Value
		return nil
	}
	type plain Concurrency
	return n.Decode((*plain)(c))
}

// Step is one step.
type Step struct {
	Name string            `yaml:"name"`
	ID   string            `yaml:"id"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

// Load reads every workflow in dir.
func Load(dir string) ([]*Workflow, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no workflows in %s", dir)
	}
	sort.Strings(files)
	var out []*Workflow
	for _, f := range files {
		w, err := LoadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// LoadFile reads one workflow.
func LoadFile(path string) (*Workflow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	w := &Workflow{File: filepath.Base(path)}
	if err := yaml.Unmarshal(b, w); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w.On = map[string]yaml.Node{}
	switch w.RawOn.Kind {
	case yaml.ScalarNode:
		w.On[w.RawOn.Value] = yaml.Node{}
	case yaml.SequenceNode:
		for _, n := range w.RawOn.Content {
			w.On[n.Value] = yaml.Node{}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(w.RawOn.Content); i += 2 {
			w.On[w.RawOn.Content[i].Value] = *w.RawOn.Content[i+1]
		}
	default:
		return nil, fmt.Errorf("%s: no triggers (on:)", path)
	}
	for id, j := range w.Jobs {
		j.ID = id
	}
	return w, nil
}

// Action is a composite action (action.yml).
type Action struct {
	Name string `yaml:"name"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []Step `yaml:"steps"`
	} `yaml:"runs"`
}

// LoadAction reads a composite action.
func LoadAction(path string) (*Action, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var a Action
	if err := yaml.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &a, nil
}

// Strings is a scalar or a sequence of scalars, as runs-on and needs allow.
func Strings(n yaml.Node) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			out = append(out, c.Value)
		}
		return out
	}
	return nil
}

// EnvironmentName is the job's environment (either form), or "".
func (j *Job) EnvironmentName() string {
	switch j.Environment.Kind {
	case yaml.ScalarNode:
		return j.Environment.Value
	case yaml.MappingNode:
		for i := 0; i+1 < len(j.Environment.Content); i += 2 {
			if j.Environment.Content[i].Value == "name" {
				return j.Environment.Content[i+1].Value
			}
		}
	}
	return ""
}

// MatrixValues are the values of a matrix key given as a list ("" when the
// matrix is computed, e.g. fromJSON).
func (j *Job) MatrixValues(key string) ([]string, bool) {
	n, ok := j.Strategy.Matrix[key]
	if !ok || n.Kind != yaml.SequenceNode {
		return nil, false
	}
	return Strings(n), true
}

// NeedsJobs are the jobs the job needs (either form).
func (j *Job) NeedsJobs() []string { return Strings(j.Needs) }

// ChoiceOptions are the options of a workflow_dispatch choice input.
func (w *Workflow) ChoiceOptions(input string) []string {
	d, ok := w.On["workflow_dispatch"]
	if !ok {
		return nil
	}
	var spec struct {
		Inputs map[string]struct {
			Type    string   `yaml:"type"`
			Options []string `yaml:"options"`
		} `yaml:"inputs"`
	}
	if err := d.Decode(&spec); err != nil {
		return nil
	}
	if in, ok := spec.Inputs[input]; ok && in.Type == "choice" {
		return in.Options
	}
	return nil
}

// Runs are the job's run scripts, in order.
func (j *Job) Runs() []string {
	var out []string
	for _, s := range j.Steps {
		if s.Run != "" {
			out = append(out, s.Run)
		}
	}
	return out
}

// UsesAction reports whether a step uses the action (prefix match on owner/name
// or a local path).
func (j *Job) UsesAction(prefix string) bool {
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, prefix) {
			return true
		}
	}
	return false
}
