package program_test

import (
	"testing"

	"github.com/virdx/vxplatform-infra/internal/programtest"
)

// BenchmarkProgram evaluates the whole program under mocks, per stack:
//
//	go test -run '^$' -bench BenchmarkProgram -benchmem -count 5 ./program/
func BenchmarkProgram(b *testing.B) {
	for _, stack := range []string{"production", "staging", "public", "previews", "pr-123"} {
		cfg := programtest.ValidConfig(stack)
		b.Run(stack, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := programtest.RunProgram(stack, cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
