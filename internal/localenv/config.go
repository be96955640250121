package localenv

import (
	"os"

	"github.com/virdx/vxplatform-infra/internal/programtest"
	"github.com/virdx/vxplatform-infra/stacks"
)

// KubeContext is the context of the kubeconfig scripts/control-plane.sh writes.
const KubeContext = "vx-local"

// StorageClass is the class of the hostPath PersistentVolumes that
// scripts/control-plane.sh creates (VX_PV_STORAGE_CLASS, default "local").
func StorageClass() string {
	if c := os.Getenv("VX_PV_STORAGE_CLASS"); c != "" {
		return c
	}
	return "local"
}

// Config is a valid config for stack (the one the program's own tests use),
// pointed at the local control plane. The central MinIO it names is never
// contacted: the minio stand-in only records what would be created.
func Config(stack string) stacks.Config {
	cfg := programtest.With(programtest.ValidConfig(stack), "kubeContext", KubeContext)
	if id, err := stacks.ParseStackName(stack); err == nil && id.Kind != stacks.KindPreviews {
		cfg["storageClass"] = StorageClass()
	}
	return cfg
}
