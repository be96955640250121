package stacks

import (
	"fmt"
	"regexp"
	"strconv"
)

var quantityPattern = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(m|Ki|Mi|Gi|Ti)?$`)

var quantitySuffix = map[string]float64{"": 1, "m": 1e-3, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}

// ParseQuantity reads the Kubernetes quantities this model uses (cores, "500m",
// binary byte sizes) as a plain number.
func ParseQuantity(q string) (float64, error) {
	m := quantityPattern.FindStringSubmatch(q)
	if m == nil {
		return 0, fmt.Errorf("quantity %q: want a number with an optional m, Ki, Mi, Gi or Ti suffix", q)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("quantity %q: %w", q, err)
	}
	return n * quantitySuffix[m[2]], nil
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
