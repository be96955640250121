package workflows_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeDocker stands in for the docker CLI where no daemon runs: it records its
// arguments, answers `buildx imagetools inspect` as a registry would (the tag's
// digest, "not found", or another error) and makes `buildx build` write the
// digest a build would to its --metadata-file, or fail. It tests the script's
// decisions (push or verify, never overwrite a tag, fail on any failure), not
// Docker.
const fakeDocker = `#!/usr/bin/env bash
echo "$*" >>"$FAKE_LOG"
case "$1 $2" in
  "buildx imagetools")
    if [[ -n ${FAKE_EXISTING:-} ]]; then printf '{"digest":"%s"}\n' "$FAKE_EXISTING"; exit 0; fi
    echo "${FAKE_INSPECT_ERROR:-ERROR: $4: not found}" >&2; exit 1 ;;
  "buildx build")
    [[ -z ${FAKE_BUILD_FAILS:-} ]] || { echo "ERROR: failed to solve" >&2; exit 1; }
    while (($#)); do
      if [[ $1 == --metadata-file ]]; then printf '{"containerimage.digest":"%s"}\n' "$FAKE_DIGEST" >"$2"; fi
      shift
    done ;;
  *) echo "fake docker: unexpected $*" >&2; exit 2 ;;
esac
`

func TestBuildImageScript(t *testing.T) {
	d1 := "sha256:" + strings.Repeat("1", 64)
	d2 := "sha256:" + strings.Repeat("2", 64)
	head, err := exec.Command("git", "-C", repo, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	tag := "sha-" + string(head[:12])
	for _, tc := range []struct {
		name    string
		args    []string
		env     []string
		wantErr string   // in stderr; "" = success
		log     []string // in the fake docker's log
		notLog  []string
		output  string // GITHUB_OUTPUT after the run
	}{
		{name: "a new tag is built and pushed", args: []string{"database", "push"}, env: []string{"FAKE_DIGEST=" + d1},
			log:    []string{"buildx build -f images/postgres/Dockerfile", "type=image,name=ghcr.io/virdx/vxplatform-postgres:" + tag + ",push=true,rewrite-timestamp=true", "--provenance=false"},
			output: "repository=ghcr.io/virdx/vxplatform-postgres\ntag=" + tag + "\ndigest=" + d1 + "\n"},
		{name: "the backup image from its Dockerfile", args: []string{"backup", "push", "v1"}, env: []string{"FAKE_DIGEST=" + d1},
			log:    []string{"buildx build -f cmd/vxbackup/Dockerfile", "VERSION=v1", "name=ghcr.io/virdx/vxplatform-backup:v1,push=true"},
			output: "repository=ghcr.io/virdx/vxplatform-backup\ntag=v1\ndigest=" + d1 + "\n"},
		{name: "an existing tag that this commit reproduces is not pushed again", args: []string{"database", "push"}, env: []string{"FAKE_DIGEST=" + d1, "FAKE_EXISTING=" + d1},
			log: []string{"push=false"}, notLog: []string{"push=true"},
			output: "repository=ghcr.io/virdx/vxplatform-postgres\ntag=" + tag + "\ndigest=" + d1 + "\n"},
		{name: "an existing tag is never overwritten", args: []string{"database", "push"}, env: []string{"FAKE_DIGEST=" + d2, "FAKE_EXISTING=" + d1},
			wantErr: "a tag is never overwritten", notLog: []string{"push=true"}},
		{name: "a registry error is not taken for a missing tag", args: []string{"database", "push"}, env: []string{"FAKE_DIGEST=" + d1, "FAKE_INSPECT_ERROR=ERROR: unexpected status: 401 Unauthorized"},
			wantErr: "cannot tell whether ghcr.io/virdx/vxplatform-postgres:" + tag + " exists", notLog: []string{"buildx build"}},
		{name: "a failed build fails and hands on nothing", args: []string{"database", "push"}, env: []string{"FAKE_BUILD_FAILS=1"},
			wantErr: "docker buildx build -f images/postgres/Dockerfile failed"},
		{name: "a build without a digest fails", args: []string{"database", "push"}, env: []string{"FAKE_DIGEST="},
			wantErr: "wrote no image digest"},
		{name: "verify: a clean build with the pushed digest", args: []string{"database", "verify", d1}, env: []string{"FAKE_DIGEST=" + d1},
			log: []string{"--no-cache", "push=false"}, notLog: []string{"push=true", "imagetools"}},
		{name: "verify: another digest is not reproducible", args: []string{"database", "verify", d1}, env: []string{"FAKE_DIGEST=" + d2},
			wantErr: "not reproducible: a clean build gives " + d2},
		{name: "verify needs a digest", args: []string{"database", "verify", ""}, wantErr: "is not sha256:<64 hex>"},
		{name: "an unknown image is named with the allowed ones", args: []string{"postgres", "push"}, wantErr: "image 'postgres' is not built here; allowed: backup database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(fakeDocker), 0o755); err != nil {
				t.Fatal(err)
			}
			logFile, outFile := filepath.Join(dir, "log"), filepath.Join(dir, "github-output")
			cmd := exec.Command("bash", append([]string{filepath.Join(repo, buildScript)}, tc.args...)...)
			cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "FAKE_LOG="+logFile,
				"GITHUB_OUTPUT="+outFile, "VX_IMAGE_REGISTRY=", "FAKE_EXISTING=", "FAKE_INSPECT_ERROR=", "FAKE_BUILD_FAILS=")
			cmd.Env = append(cmd.Env, tc.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if tc.wantErr == "" && err != nil {
				t.Fatalf("%v failed: %v\n%s", tc.args, err, stderr.String())
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(stderr.String(), tc.wantErr)) {
				t.Fatalf("%v: err %v, stderr %q; want a failure saying %q", tc.args, err, stderr.String(), tc.wantErr)
			}
			log, _ := os.ReadFile(logFile)
			for _, want := range tc.log {
				if !strings.Contains(string(log), want) {
					t.Errorf("docker was not run with %q:\n%s", want, log)
				}
			}
			for _, not := range tc.notLog {
				if strings.Contains(string(log), not) {
					t.Errorf("docker was run with %q:\n%s", not, log)
				}
			}
			out, _ := os.ReadFile(outFile)
			if string(out) != tc.output {
				t.Errorf("GITHUB_OUTPUT = %q, want %q", out, tc.output)
			}
		})
	}
}
