package stacks

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
)

// ParseQuantity reads a Kubernetes quantity (cores, "500m", byte sizes) as a
// plain number, with Kubernetes' own parser.
func ParseQuantity(q string) (float64, error) {
	quantity, err := resource.ParseQuantity(q)
	if err != nil {
		return 0, fmt.Errorf("quantity %q: %w", q, err)
	}
	return quantity.AsApproximateFloat64(), nil
}

// Footprint is what one deployment of the platform counts against a namespace quota.
type Footprint struct {
	CPURequests, CPULimits, MemoryRequests, MemoryLimits, Storage float64
	Pods, Claims                                                  int
}

// PreviewFootprint is what one preview uses at its peak: its workloads plus one
// running restore job.
func PreviewFootprint(s Sizing) Footprint {
	var f Footprint
	add := func(r Resources, count int) {
		n := float64(count)
		f.CPURequests += n * mustParse(r.CPURequest)
		f.CPULimits += n * mustParse(r.CPULimit)
		f.MemoryRequests += n * mustParse(r.MemoryRequest)
		f.MemoryLimits += n * mustParse(r.MemoryLimit)
		f.Pods += count
	}
	add(s.Frontend.Resources, s.Frontend.Replicas)
	add(s.API.Resources, s.API.Replicas)
	add(s.Postgres.Resources, s.Postgres.Replicas)
	add(s.ObjectStore.Resources, s.ObjectStore.Replicas)
	add(s.Job, 2) // the restore job and the bucket-creating job
	for _, v := range []Volume{s.PostgresVolume, s.ObjectStoreVolume} {
		f.Storage += mustParse(v.Size)
		f.Claims++
	}
	return f
}

// mustParse is for the presets in this package, which tests keep valid.
func mustParse(q string) float64 {
	n, err := ParseQuantity(q)
	if err != nil {
		panic(err)
	}
	return n
}
