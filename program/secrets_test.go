package program_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/virdx/vxplatform-infra/internal/programtest"
)

// credentialName matches environment variable names that carry credentials.
var credentialName = regexp.MustCompile(`(?i)(password|secret|token|access_key|private_key|credential|DATABASE_URL)`)

// urlWithPassword matches user:password@ in a URL, unless the password is a $VARIABLE.
var urlWithPassword = regexp.MustCompile(`://[^$/]+:[^$@/]+@`)

// TestGeneratedCredentialsAreSecrets: generated passwords and keys, and the config
// secrets, reach every input that holds them as Pulumi secrets.
func TestGeneratedCredentialsAreSecrets(t *testing.T) {
	secretInputs := []struct {
		typ, path string
	}{
		{tIamUser, "secret"},
		{tMinio, "minioPassword"},
	}
	for stack := range expectedCounts {
		t.Run(stack, func(t *testing.T) {
			run := runStack(t, stack)
			for _, si := range secretInputs {
				for _, res := range run.ByType(si.typ) {
					if v, ok := res.Inputs[resourceKey(si.path)]; !ok || !v.ContainsSecrets() {
						t.Errorf("%s %s: %s is not a secret", si.typ, res.Name, si.path)
					}
				}
			}
			for _, res := range run.ByType(tPassword) {
				if !res.Outputs["result"].IsSecret() {
					t.Errorf("%s: result not secret", res.Name)
				}
			}
			for _, secret := range run.ByType(tSecret) {
				raw, ok := secret.Inputs["stringData"]
				if !ok {
					t.Fatalf("Secret %s has no stringData", secret.Name)
				}
				// The whole map may be the secret, or each credential in it.
				wholeMapSecret := raw.IsSecret()
				for key, v := range unwrap(raw).ObjectValue() {
					if credentialName.MatchString(string(key)) && !wholeMapSecret && !v.ContainsSecrets() {
						t.Errorf("Secret %s key %s is not a Pulumi secret", secret.Name, key)
					}
				}
			}
		})
	}
}

// TestNoCredentialInPlainInputs: no generated or configured secret value appears
// anywhere in a plain (non-secret) input, and no container takes a credential as
// a literal env value or in its command line.
func TestNoCredentialInPlainInputs(t *testing.T) {
	for stack := range expectedCounts {
		t.Run(stack, func(t *testing.T) {
			run := runStack(t, stack)
			if stack != "previews" && len(run.Secrets) < 3 {
				t.Fatalf("the mocks handed out only %d secrets; the test would prove nothing", len(run.Secrets))
			}
			for _, res := range run.Resources {
				for key, v := range res.Inputs {
					programtest.PlainStrings(string(key), v, func(path, s string) {
						if leaked, found := programtest.Contains(s, run.Secrets); found {
							t.Errorf("%s %s: %s holds secret %q in plain form", res.Type, res.Name, path, leaked)
						}
					})
				}
				for _, c := range containers(res) {
					for _, env := range list(c, "env") {
						name := str(env.ObjectValue(), "name")
						if _, literal := env.ObjectValue()["value"]; literal && credentialName.MatchString(name) {
							t.Errorf("%s %s: container env %s has a literal value", res.Type, res.Name, name)
						}
					}
					for _, field := range []string{"command", "args"} {
						for _, arg := range list(c, field) {
							if s := unwrap(arg).StringValue(); strings.Contains(s, "--password") || urlWithPassword.MatchString(s) {
								t.Errorf("%s %s: credential in %s: %q", res.Type, res.Name, field, s)
							}
						}
					}
				}
			}
		})
	}
}
