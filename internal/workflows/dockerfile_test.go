package workflows_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// No Docker daemon runs where these tests run: what a build on GitHub needs
// from the repository is checked here instead, for every image of
// build-image.sh's table (whose build context is the repository root).

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd   string // upper case: FROM, COPY, RUN, ...
	flags map[string]string
	args  []string
	line  string
}

// stage is one FROM and what follows it.
type stage struct {
	name  string
	insts []instruction
}

func parseDockerfile(t *testing.T, path string) []stage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var logical string
	for _, raw := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(raw)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			logical += cont + " "
			continue
		}
		logical += trimmed
		f := strings.Fields(logical)
		in := instruction{cmd: strings.ToUpper(f[0]), flags: map[string]string{}, line: logical}
		logical = ""
		rest := f[1:]
		for len(rest) > 0 && strings.HasPrefix(rest[0], "--") {
			k, v, _ := strings.Cut(strings.TrimPrefix(rest[0], "--"), "=")
			in.flags[k] = v
			rest = rest[1:]
		}
		in.args = rest
		if in.cmd == "FROM" {
			s := stage{}
			if len(rest) == 3 && strings.EqualFold(rest[1], "AS") {
				s.name = rest[2]
			}
			stages = append(stages, s)
		}
		if len(stages) == 0 {
			t.Fatalf("%s: %q before the first FROM", path, in.line)
		}
		stages[len(stages)-1].insts = append(stages[len(stages)-1].insts, in)
	}
	return stages
}

var goBuildTarget = regexp.MustCompile(`\bgo build\b.*\s(\./cmd/[a-z0-9-]+)\s*$`)

const modulePath = "github.com/virdx/vxplatform-infra"

// moduleDirs: the directories (from the repository root) of this module's
// packages that pkg is built from.
func moduleDirs(t *testing.T, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if .Module}}{{if eq .Module.Path \""+modulePath+"\"}}{{.Dir}}{{end}}{{end}}", pkg)
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	abs, err := filepath.Abs(repo)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, d := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(abs, d)
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, filepath.ToSlash(rel))
	}
	return dirs
}

// postgresUID is the uid components/postgres.go runs the database as.
func postgresUID(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "components", "postgres.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*postgresUID\s*=\s*([0-9]+)\s*$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("components/postgres.go: no postgresUID = <number>")
	}
	return string(m[1])
}

func TestDockerfilesBuildFromTheRepository(t *testing.T) {
	for _, im := range builtImages(t) {
		t.Run(im.name, func(t *testing.T) {
			stages := parseDockerfile(t, filepath.Join(repo, im.dockerfile))
			if len(stages) == 0 {
				t.Fatalf("%s: no FROM", im.dockerfile)
			}
			var earlier []string
			for i, st := range stages {
				var copied []string // sources copied from the context into this stage
				for _, in := range st.insts {
					switch in.cmd {
					case "ADD":
						t.Errorf("%s: %q: ADD may fetch URLs and unpack archives; use COPY", im.dockerfile, in.line)
					case "COPY":
						if len(in.args) < 2 {
							t.Errorf("%s: %q: no source or destination", im.dockerfile, in.line)
							continue
						}
						srcs := in.args[:len(in.args)-1]
						if from, ok := in.flags["from"]; ok {
							if !slices.Contains(earlier, from) {
								t.Errorf("%s: %q copies from %q, which is no earlier stage (%v)", im.dockerfile, in.line, from, earlier)
							}
							continue
						}
						for _, src := range srcs {
							clean := filepath.Clean(src)
							if filepath.IsAbs(src) || strings.HasPrefix(clean, "..") {
								t.Errorf("%s: COPY source %q is outside the build context (the repository root)", im.dockerfile, src)
								continue
							}
							if m, _ := filepath.Glob(filepath.Join(repo, clean)); len(m) == 0 {
								t.Errorf("%s: COPY source %q does not exist in the repository (the build context is its root)", im.dockerfile, src)
							}
							copied = append(copied, filepath.ToSlash(clean))
						}
					case "RUN":
						m := goBuildTarget.FindStringSubmatch(in.line)
						if m == nil {
							continue
						}
						if !strings.Contains(in.line, "-trimpath") || !strings.Contains(in.line, "CGO_ENABLED=0") {
							t.Errorf("%s: %q: a reproducible static build needs CGO_ENABLED=0 and -trimpath", im.dockerfile, in.line)
						}
						for _, f := range []string{"go.mod", "go.sum"} {
							if !slices.Contains(copied, f) {
								t.Errorf("%s: stage %d builds %s without copying %s first", im.dockerfile, i, m[1], f)
							}
						}
						for _, dir := range moduleDirs(t, m[1]) {
							if !slices.ContainsFunc(copied, func(src string) bool { return dir == src || strings.HasPrefix(dir, src+"/") }) {
								t.Errorf("%s: %s is built from %s, which no COPY of its stage brings in (copied: %v)", im.dockerfile, m[1], dir, copied)
							}
						}
					}
				}
				if st.name != "" {
					earlier = append(earlier, st.name)
				}
			}
			// The image runs as a numeric non-root user (a pod's runAsNonRoot
			// can only check a numeric one).
			final := stages[len(stages)-1]
			user := ""
			for _, in := range final.insts {
				if in.cmd == "USER" && len(in.args) == 1 {
					user = in.args[0]
				}
			}
			uid, _, _ := strings.Cut(user, ":")
			if n, err := strconv.Atoi(uid); err != nil || n == 0 {
				t.Errorf("%s: the final stage's USER is %q, want a numeric non-root uid", im.dockerfile, user)
			}
			if im.name == "database" && user != postgresUID(t)+":"+postgresUID(t) {
				t.Errorf("%s: USER %s, want the database's uid and gid %s (components/postgres.go postgresUID)", im.dockerfile, user, postgresUID(t))
			}
		})
	}
}

// The database image installs exactly the pgBackRest the tests prove (2.45) and
// ships what the pod and the jobs run.
func TestDatabaseImageShipsPgBackRest245AndTheTools(t *testing.T) {
	var dockerfile string
	for _, im := range builtImages(t) {
		if im.name == "database" {
			dockerfile = im.dockerfile
		}
	}
	if dockerfile == "" {
		t.Fatal("build-image.sh builds no database image")
	}
	stages := parseDockerfile(t, filepath.Join(repo, dockerfile))
	final := stages[len(stages)-1]
	var runs, copies []string
	for _, in := range final.insts {
		switch in.cmd {
		case "RUN":
			runs = append(runs, in.line)
		case "COPY":
			copies = append(copies, strings.Join(in.args, " "))
		}
	}
	all := strings.Join(runs, "\n")
	if !regexp.MustCompile(`apt-get install [^&]*\bpgbackrest=2\.45-[0-9a-z.+~]+\b`).MatchString(all) {
		t.Errorf("%s does not install pgbackrest=2.45-<revision> exactly: %q", dockerfile, all)
	}
	if !strings.Contains(all, "pgbackrest version") {
		t.Errorf("%s does not run 'pgbackrest version' (a build whose pgBackRest does not start must fail)", dockerfile)
	}
	for _, want := range []string{"/out/vxpitr /usr/local/bin/vxpitr", "images/postgres/pgbackrest-sidecar.sh /usr/local/bin/vx-pgbackrest-sidecar"} {
		if !slices.Contains(copies, want) {
			t.Errorf("%s: no COPY %s (copies: %q)", dockerfile, want, copies)
		}
	}
}
