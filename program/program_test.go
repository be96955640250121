package program_test

import (
	"testing"

	"github.com/virdx/vxplatform-infra/internal/programtest"
)

func TestSmoke(t *testing.T) {
	for _, stack := range []string{"production", "staging", "public", "previews", "pr-123"} {
		run, err := programtest.RunProgram(stack, programtest.ValidConfig(stack))
		if err != nil {
			t.Fatalf("%s: %v", stack, err)
		}
		t.Logf("%s: %d resources, %d outputs registered: %v", stack, len(run.Resources), run.OutputsRegistered, run.CountByType())
	}
}
