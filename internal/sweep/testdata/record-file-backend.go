//go:build ignore

// record-file-backend records real `pulumi stack ls --json` output of a file
// backend for the sweeper's tests. It creates stacks of this project (two of them
// updated once with an empty inline program, so that lastUpdate and
// resourceCount appear) and one stack of another project, then runs the pinned
// CLI the way the sweeper does.
//
//	go run internal/sweep/testdata/record-file-backend.go "$(scripts/tools.sh pulumi)" internal/sweep/testdata
package main

import (
	"context"
	"log"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	cli, out := os.Args[1], os.Args[2]
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "record-stack-ls-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	env := map[string]string{
		"PULUMI_HOME": filepath.Join(dir, "home"), "PULUMI_BACKEND_URL": "file://" + filepath.Join(dir, "backend"),
		"PULUMI_CONFIG_PASSPHRASE": "record", "PULUMI_SKIP_UPDATE_CHECK": "true",
	}
	for _, d := range []string{"home", "backend", "data-platform", "other"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			log.Fatal(err)
		}
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: filepath.Dir(filepath.Dir(cli)), Version: semver.MustParse("3.274.1")})
	if err != nil {
		log.Fatal(err)
	}
	stack := func(project, name string, update bool) {
		p := workspace.Project{Name: "data-platform", Runtime: workspace.NewProjectRuntimeInfo("go", nil)}
		wd := filepath.Join(dir, "data-platform")
		if project != "data-platform" {
			p.Name, wd = "other", filepath.Join(dir, "other")
		}
		st, err := auto.UpsertStackInlineSource(ctx, name, project, func(*pulumi.Context) error { return nil },
			auto.Pulumi(cmd), auto.Project(p), auto.EnvVars(env), auto.PulumiHome(env["PULUMI_HOME"]),
			auto.SecretsProvider("passphrase"), auto.WorkDir(wd))
		if err != nil {
			log.Fatal(err)
		}
		if update {
			if _, err := st.Up(ctx); err != nil {
				log.Fatal(err)
			}
		}
	}
	stack("data-platform", "staging", true)
	stack("data-platform", "pr-7", true)
	stack("data-platform", "pr-12", false)
	stack("other", "pr-5", false)
	record := func(file string, args ...string) {
		c := exec.Command(cli, append([]string{"stack", "ls", "--json"}, args...)...)
		c.Dir = filepath.Join(dir, "data-platform")
		c.Env = os.Environ()
		for k, v := range env {
			c.Env = append(c.Env, k+"="+v)
		}
		b, err := c.Output()
		if err != nil {
			log.Fatalf("pulumi stack ls %v: %v", args, err)
		}
		if err := os.WriteFile(filepath.Join(out, file), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	record("stack-ls-file-backend.json")
	record("stack-ls-file-backend-all.json", "--all")
	record("stack-ls-file-backend-qualified.json", "--fully-qualify-stack-names")
}
