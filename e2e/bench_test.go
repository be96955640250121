//go:build e2e

package e2e

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/virdx/vxplatform-infra/internal/localenv"
)

// BenchmarkE2E measures the operations BENCHMARKS.md records: a no-op preview of
// production, the up of a whole preview environment and its destroy, each against
// the local control plane with the policy pack. Each sub-benchmark reports the
// median (and min/max) of its b.N runs in seconds; run with -benchtime 5x.
//
//	go test -tags e2e -run '^$' -bench . -benchtime 5x -timeout 60m ./e2e/
func BenchmarkE2E(b *testing.B) {
	h := newHarness(b)
	ctx := context.Background()
	for _, s := range []string{"previews", "production"} {
		h.up(b, s, localenv.Config(s))
	}

	b.Run("NoopPreviewProduction", func(b *testing.B) {
		var samples []time.Duration
		for i := 0; i < b.N; i++ {
			out := h.preview(b, "production", localenv.Config("production"))
			if changed := out.Changed(); len(changed) > 0 {
				b.Fatalf("the no-op preview proposes changes:\n  %s", describeSteps(changed))
			}
			samples = append(samples, out.Duration)
		}
		report(b, "s", samples)
	})

	b.Run("PreviewEnvironment", func(b *testing.B) {
		const stack = "pr-200"
		cfg := localenv.Config(stack)
		var ups, destroys []time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ups = append(ups, h.up(b, stack, cfg).Duration)
			destroys = append(destroys, h.destroy(b, stack, cfg).Duration)
			// Not measured: the garbage collector's cleanup, and the volumes made
			// reusable, so that every run starts from the same cluster.
			b.StopTimer()
			waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			if err := poll(waitCtx, time.Second, func() (bool, error) {
				left, err := h.objectsOf(waitCtx, "data-platform-previews", stack)
				return len(left) == 0, err
			}); err != nil {
				b.Fatalf("objects of %s left after destroy: %v", stack, err)
			}
			cancel()
			if _, err := localenv.RecycleVolumes(ctx, h.cs); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		report(b, "s-up", ups)
		report(b, "s-destroy", destroys)
	})
}

// report adds the median, min and max of samples (in seconds) as metrics.
func report(b *testing.B, unit string, samples []time.Duration) {
	sorted := append([]time.Duration(nil), samples...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	n := len(sorted)
	median := sorted[n/2]
	if n%2 == 0 {
		median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	b.ReportMetric(median.Seconds(), unit+"-median")
	b.ReportMetric(sorted[0].Seconds(), unit+"-min")
	b.ReportMetric(sorted[n-1].Seconds(), unit+"-max")
	b.Logf("%s over %d runs: median %.2fs, min %.2fs, max %.2fs", unit, n, median.Seconds(), sorted[0].Seconds(), sorted[n-1].Seconds())
}
