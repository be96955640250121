package workflows_test

import (
	"strings"
	"testing"

	"github.com/virdx/vxplatform-infra/internal/workflows"
)

func TestEval(t *testing.T) {
	const tag = "${{ (inputs.stack == 'production' || inputs.stack == 'staging') && needs.database-image.outputs.tag || '' }}"
	for _, tc := range []struct {
		name, expr string
		bound      map[string]string
		want       string // Value.String()
		wantErr    string
	}{
		{"plain text", "pr-7", nil, `"pr-7"`, ""},
		{"empty", "", nil, `""`, ""},
		{"a context that is not bound is a reference", "${{ vars.BACKUP_TAG }}", nil, "vars.BACKUP_TAG", ""},
		{"a bound context is its value", "${{ matrix.stack }}", map[string]string{"matrix.stack": "public"}, `"public"`, ""},
		{"guarded reference, production", tag, map[string]string{"inputs.stack": "production"}, "needs.database-image.outputs.tag", ""},
		{"guarded reference, staging", tag, map[string]string{"inputs.stack": "staging"}, "needs.database-image.outputs.tag", ""},
		{"guarded reference, public", tag, map[string]string{"inputs.stack": "public"}, `""`, ""},
		{"guarded reference, previews", tag, map[string]string{"inputs.stack": "previews"}, `""`, ""},
		{"!= guard", "${{ matrix.stack != 'previews' && vars.BACKUP_TAG || '' }}", map[string]string{"matrix.stack": "previews"}, `""`, ""},
		{"!= guard passes", "${{ matrix.stack != 'previews' && vars.BACKUP_TAG || '' }}", map[string]string{"matrix.stack": "staging"}, "vars.BACKUP_TAG", ""},
		{"strings compare ignoring case", "${{ matrix.stack == 'Production' }}", map[string]string{"matrix.stack": "production"}, "true", ""},
		{"|| yields the first truthy operand", "${{ vars.INFRA_RUNNER_LABEL || 'vx-infra' }}", nil, "vars.INFRA_RUNNER_LABEL", ""},
		{"! and &&", "${{ !(matrix.stack == 'public') && 'x' }}", map[string]string{"matrix.stack": "public"}, "false", ""},
		{"escaped quote", "${{ 'it''s' }}", nil, `"it's"`, ""},
		{"comparing an unbound context is refused", "${{ inputs.stack == 'staging' && vars.X }}", nil, "", "not bound"},
		{"a function is refused", "${{ fromJSON(vars.X) }}", nil, "", "not understood"},
		{"text around an expression is refused", "pr-${{ github.event.number }}", nil, "", "exactly one"},
		{"unbalanced parenthesis", "${{ (matrix.stack == 'x' }}", map[string]string{"matrix.stack": "x"}, "", "missing )"},
		{"unterminated string", "${{ matrix.stack == 'x }}", map[string]string{"matrix.stack": "x"}, "", "unterminated"},
		{"trailing tokens", "${{ 'a' 'b' }}", nil, "", "unexpected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := workflows.Eval(tc.expr, tc.bound)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Eval(%q) = %s, %v; want an error containing %q", tc.expr, v, err, tc.wantErr)
				}
				return
			}
			if err != nil || v.String() != tc.want {
				t.Errorf("Eval(%q) = %s, %v; want %s", tc.expr, v, err, tc.want)
			}
		})
	}
}
