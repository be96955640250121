package workflows_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/virdx/vxplatform-infra/internal/workflows"
	"github.com/virdx/vxplatform-infra/stacks"
)

const (
	buildScript   = "scripts/ci/build-image.sh"
	imageWorkflow = "./.github/workflows/image.yaml"
)

// builtImage is one row of `scripts/ci/build-image.sh list`.
type builtImage struct{ name, repository, dockerfile string }

func builtImages(t *testing.T) []builtImage {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(repo, buildScript), "list")
	cmd.Env = append(os.Environ(), "VX_IMAGE_REGISTRY=") // the real table, whatever the caller's environment
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s list: %v", buildScript, err)
	}
	var images []builtImage
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("%s list: line %q, want NAME REPOSITORY DOCKERFILE", buildScript, line)
		}
		images = append(images, builtImage{f[0], f[1], f[2]})
	}
	return images
}

// imageTags: the config key each image's tag becomes, and the variable of the
// -readonly environments from which a pull request's previews read the tag the
// stack runs (previews build no image).
var imageTags = map[string]struct{ key, variable string }{
	"backup":   {"backupTag", "BACKUP_TAG"},
	"database": {"databaseTag", "DATABASE_TAG"},
}

var imageBuild = regexp.MustCompile(`docker(\s+buildx)?\s+build\b|buildx\s+build\b|docker\s+push\b|build-backup-image`)

// Every Dockerfile of the repository is an image of the one script's table, each
// image's tag is a config key, and nothing else builds or pushes an image.
func TestEveryImageIsBuiltByTheOneScript(t *testing.T) {
	images := builtImages(t)
	var names []string
	inTable := map[string]bool{}
	repos := map[string]bool{}
	for _, im := range images {
		names = append(names, im.name)
		inTable[im.dockerfile] = true
		if _, err := os.Stat(filepath.Join(repo, im.dockerfile)); err != nil {
			t.Errorf("image %s: %v", im.name, err)
		}
		if !strings.HasPrefix(im.repository, "ghcr.io/virdx/vxplatform-") || repos[im.repository] {
			t.Errorf("image %s: repository %q, want a ghcr.io/virdx/vxplatform-<name> of its own", im.name, im.repository)
		}
		repos[im.repository] = true
		if _, ok := imageTags[im.name]; !ok {
			t.Errorf("image %s: no config key in this test's imageTags: which stacks run it?", im.name)
		}
	}
	for name := range imageTags {
		if !slices.Contains(names, name) {
			t.Errorf("imageTags names %s, which %s does not build", name, buildScript)
		}
	}
	err := filepath.WalkDir(repo, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(repo, path)
		if !d.IsDir() && (d.Name() == "Dockerfile" || strings.HasSuffix(d.Name(), ".Dockerfile")) && !inTable[rel] {
			t.Errorf("%s is not in %s's image table: nothing builds, verifies and scans it", rel, buildScript)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Only build-image.sh builds: no other script, workflow step or action.
	scripts, err := filepath.Glob(filepath.Join(repo, "scripts", "*", "*.sh"))
	if err != nil {
		t.Fatal(err)
	}
	top, _ := filepath.Glob(filepath.Join(repo, "scripts", "*.sh"))
	for _, f := range append(scripts, top...) {
		rel, _ := filepath.Rel(repo, f)
		if rel == buildScript {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := imageBuild.Find(b); m != nil {
			t.Errorf("%s builds or pushes an image (%q): only %s does", rel, m, buildScript)
		}
	}
	built := map[string]int{}
	for _, w := range load(t) {
		for _, j := range w.Jobs {
			where := w.File + "/" + j.ID
			if j.Uses == imageWorkflow {
				im := j.With["image"]
				if !slices.Contains(names, im) {
					t.Errorf("%s builds image %q; %s builds %v", where, im, buildScript, names)
				}
				if w.File == "deploy.yaml" {
					built[im]++
				}
			}
			for _, s := range j.Steps {
				if m := imageBuild.FindString(s.Run); m != "" && !strings.Contains(s.Run, buildScript) {
					t.Errorf("%s builds or pushes an image (%q) outside %s", where, m, buildScript)
				}
				if strings.HasPrefix(s.Uses, "docker/build-push-action@") {
					t.Errorf("%s uses %s: images are built by %s only", where, s.Uses, buildScript)
				}
			}
		}
	}
	for _, name := range names {
		if built[name] != 1 {
			t.Errorf("deploy.yaml builds image %s %d times through %s, want once", name, built[name], imageWorkflow)
		}
	}
}

// The reusable workflow runs the one script for its input image: push, then a
// clean rebuild that must give the pushed digest, then a scan of that digest.
func TestImageWorkflowPushesVerifiesAndScansWhatItHandsOn(t *testing.T) {
	w, err := workflows.LoadFile(filepath.Join(repo, ".github", "workflows", "image.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var call struct {
		Inputs map[string]struct {
			Required bool   `yaml:"required"`
			Type     string `yaml:"type"`
		} `yaml:"inputs"`
		Outputs map[string]struct {
			Value string `yaml:"value"`
		} `yaml:"outputs"`
	}
	trigger, ok := w.On["workflow_call"]
	if !ok || len(w.On) != 1 {
		t.Fatalf("image.yaml triggers on %v, want workflow_call only", w.On)
	}
	if err := trigger.Decode(&call); err != nil {
		t.Fatal(err)
	}
	if in := call.Inputs["image"]; !in.Required || in.Type != "string" || len(call.Inputs) != 1 {
		t.Errorf("image.yaml inputs %+v, want exactly a required string input image", call.Inputs)
	}
	if len(w.Jobs) != 1 {
		t.Fatalf("image.yaml has %d jobs, want one", len(w.Jobs))
	}
	j := w.Jobs["image"]
	if j == nil {
		t.Fatal("image.yaml: no job image")
	}
	var jobOutputs struct {
		Outputs map[string]string `yaml:"outputs"`
	}
	if err := decodeJob(w, "image", &jobOutputs); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{"repository", "tag", "digest"} {
		if call.Outputs[out].Value != "${{ jobs.image.outputs."+out+" }}" || jobOutputs.Outputs[out] != "${{ steps.build.outputs."+out+" }}" {
			t.Errorf("image.yaml does not hand on the build step's %s (workflow output %q, job output %q)", out, call.Outputs[out].Value, jobOutputs.Outputs[out])
		}
	}
	if j.Env["VX_IMAGE"] != "${{ inputs.image }}" {
		t.Errorf("image.yaml: env VX_IMAGE=%q, want ${{ inputs.image }} (the input reaches the script through the environment)", j.Env["VX_IMAGE"])
	}
	// The steps in order: push (id build), verify the digest, scan the digest.
	want := []struct{ what, run, uses string }{
		{"push", buildScript + ` "$VX_IMAGE" push`, ""},
		{"verify", buildScript + ` "$VX_IMAGE" verify "$DIGEST"`, ""},
		{"scan", "", "aquasecurity/trivy-action@"},
	}
	next := 0
	for _, s := range j.Steps {
		if next == len(want) {
			break
		}
		w := want[next]
		switch {
		case w.run != "" && s.Run == w.run, w.uses != "" && strings.HasPrefix(s.Uses, w.uses):
		default:
			continue
		}
		switch w.what {
		case "push":
			if s.ID != "build" {
				t.Errorf("image.yaml: the push step's id is %q, want build (its outputs are the workflow's)", s.ID)
			}
		case "verify":
			if s.Env["DIGEST"] != "${{ steps.build.outputs.digest }}" {
				t.Errorf("image.yaml: verify compares with DIGEST=%q, want the pushed digest", s.Env["DIGEST"])
			}
		case "scan":
			if s.With["image-ref"] != "${{ steps.build.outputs.repository }}@${{ steps.build.outputs.digest }}" {
				t.Errorf("image.yaml scans %q, want the pushed digest of the built repository", s.With["image-ref"])
			}
			if s.With["exit-code"] != "1" || s.With["severity"] != "CRITICAL,HIGH" {
				t.Errorf("image.yaml: the scan has exit-code %q severity %q; want it to fail on CRITICAL,HIGH", s.With["exit-code"], s.With["severity"])
			}
		}
		next++
	}
	if next != len(want) {
		t.Errorf("image.yaml: step %q (%s%s) missing or out of order; want push, verify, scan", want[next].what, want[next].run, want[next].uses)
	}
}

// decodeJob decodes one job of a workflow file into v (fields Job does not keep).
func decodeJob(w *workflows.Workflow, id string, v any) error {
	b, err := os.ReadFile(filepath.Join(repo, ".github", "workflows", w.File))
	if err != nil {
		return err
	}
	var doc struct {
		Jobs map[string]yaml.Node `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return err
	}
	n := doc.Jobs[id]
	return n.Decode(v)
}

// stackContext is the context a VX_STACK expression reads ("" for a fixed stack).
func stackContext(expr string) string {
	switch expr {
	case "${{ matrix.stack }}":
		return "matrix.stack"
	case "${{ inputs.stack }}":
		return "inputs.stack"
	}
	return ""
}

// usesKey: the stacks that use a config key are its kinds in stacks.ConfigKeys
// (stacks.Load refuses a key a stack does not use, and requires a required one).
func usesKey(t *testing.T, key, stack string) bool {
	t.Helper()
	if stack == "pr-N" {
		stack = "pr-1"
	}
	id, err := stacks.ParseStackName(stack)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range stacks.ConfigKeys {
		if k.Name == key {
			return slices.Contains(k.Kinds, id.Kind)
		}
	}
	t.Fatalf("%s is not a config key of the program (stacks.ConfigKeys)", key)
	return false
}

// Each image's tag reaches exactly the stacks whose kinds use its key: there it
// is the tag built in this run (a job this job needs) or, in a pull request's
// previews, the environment's variable; everywhere else it is empty, which sets
// nothing (stackops.ConfigFromEnv). databaseTag: production and staging only.
func TestImageTagsReachExactlyTheStacksThatUseThem(t *testing.T) {
	reached := map[string]map[string]bool{}
	for _, w := range load(t) {
		for _, j := range w.Jobs {
			for _, c := range calls(j) {
				if !stackScripts[c.script].config {
					continue
				}
				where := w.File + "/" + j.ID
				for _, s := range stackValues(t, w, j, j.Env["VX_STACK"]) {
					bound := map[string]string{}
					if ctx := stackContext(j.Env["VX_STACK"]); ctx != "" {
						bound[ctx] = s
					}
					for image, tag := range imageTags {
						env := "VX_CONFIG_" + tag.key
						v, err := workflows.Eval(j.Env[env], bound)
						if err != nil {
							t.Errorf("%s: %s: %v", where, env, err)
							continue
						}
						if !usesKey(t, tag.key, s) {
							if !v.Empty() {
								t.Errorf("%s: %s is %s on stack %s, which does not use %s: want it empty", where, env, v, s, tag.key)
							}
							continue
						}
						if reached[tag.key] == nil {
							reached[tag.key] = map[string]bool{}
						}
						reached[tag.key][s] = true
						if !v.IsRef() || !tagSource(w, j, image, tag.variable, v.Ref) {
							t.Errorf("%s: %s is %s on stack %s; want the %s image's tag: needs.<job>.outputs.tag of a needed job that builds it, or vars.%s",
								where, env, v, s, image, tag.variable)
						}
					}
				}
			}
		}
	}
	if got := reached["databaseTag"]; !sameSet(got, "production", "staging") {
		t.Errorf("databaseTag reaches %v, want exactly production and staging", got)
	}
}

func sameSet(got map[string]bool, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !got[w] {
			return false
		}
	}
	return true
}

// tagSource: ref is where the image's tag comes from in this job.
func tagSource(w *workflows.Workflow, j *workflows.Job, image, variable, ref string) bool {
	if ref == "vars."+variable {
		return true
	}
	job, ok := strings.CutPrefix(ref, "needs.")
	if !ok {
		return false
	}
	job, ok = strings.CutSuffix(job, ".outputs.tag")
	if !ok || !slices.Contains(j.NeedsJobs(), job) {
		return false
	}
	builder := w.Jobs[job]
	return builder != nil && builder.Uses == imageWorkflow && builder.With["image"] == image
}

var configEnv = regexp.MustCompile(`^VX_CONFIG_(.+)$`)

// A VX_CONFIG_<key> that is not a key of the program fails the job
// (stackops.ConfigFromEnv), even when it is empty.
func TestEveryConfigKeyAWorkflowSetsIsAKeyOfTheProgram(t *testing.T) {
	known := map[string]bool{}
	for _, k := range stacks.ConfigKeys {
		known[k.Name] = true
	}
	check := func(where string, env map[string]string) {
		for name := range env {
			if m := configEnv.FindStringSubmatch(name); m != nil && !known[m[1]] {
				t.Errorf("%s sets %s, but %s is not a config key of the program (stacks.ConfigKeys)", where, name, m[1])
			}
		}
	}
	for _, w := range load(t) {
		check(w.File, w.Env)
		for _, j := range w.Jobs {
			check(w.File+"/"+j.ID, j.Env)
			for _, s := range j.Steps {
				check(w.File+"/"+j.ID+" step "+s.Name, s.Env)
			}
		}
	}
}
