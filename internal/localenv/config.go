package localenv

import (
	"net"
	"os"
	"strconv"

	"github.com/virdx/vxplatform-infra/internal/testconfig"
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

// MinIOFromEnv is the shared test MinIO (SharedServers): the stacks' central
// MinIO, to which the minio test double (e2e/miniotest) applies the program's
// buckets and identities.
func MinIOFromEnv() (MinIO, error) {
	s, err := SharedServers(MinIOServer)
	if err != nil {
		return MinIO{}, err
	}
	return *s.MinIO, nil
}

// Config is a valid config for stack (the one the program's own tests use),
// pointed at the local control plane and, when the local test MinIO's variables
// are set (MinIOFromEnv), at that MinIO as the central store. Without them the
// central MinIO is an address nothing answers on: enough for preview and for the
// checks that do not deploy, but an up fails in the minio test double.
func Config(stack string) stacks.Config {
	store, _ := MinIOFromEnv()
	return ConfigFor(stack, store)
}

// ConfigFor is Config with the central MinIO given explicitly (none: zero MinIO).
func ConfigFor(stack string, store MinIO) stacks.Config {
	cfg := testconfig.With(testconfig.Valid(stack), "kubeContext", KubeContext)
	id, err := stacks.ParseStackName(stack)
	if err != nil || id.Kind == stacks.KindPreviews {
		return cfg
	}
	cfg["storageClass"] = StorageClass()
	if store.Endpoint != "" {
		cfg["s3Endpoint"] = store.Endpoint
		// HTTPS exactly when the server speaks it (started with VX_MINIO_TLS=1:
		// the e2e's, as production and staging require). The stacks name no CA:
		// whatever talks to the store trusts the instance's CA through its
		// environment (Env.TrustedCAFile), as a real cluster's system roots do.
		cfg["s3UseTLS"] = strconv.FormatBool(store.TLS())
		if host, _, err := net.SplitHostPort(store.Endpoint); err == nil && net.ParseIP(host) == nil {
			// A TLS store is reached as localhost (its certificate's name);
			// the test servers listen on 127.0.0.1 only.
			cfg["s3EgressCidr"] = "127.0.0.1/32"
		}
		cfg["minioUser"] = store.RootUser
		cfg["minioPassword"] = store.RootPassword
	}
	return cfg
}
