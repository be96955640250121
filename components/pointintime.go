package components

import (
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/internal/pitr"
	"github.com/virdx/vxplatform-infra/stacks"
)

// The pgBackRest TLS link between the database pod's sidecar and the jobs: the
// jobs cannot mount the database's volume, so they reach its files through
// pgBackRest's own protocol (internal/pitr/README.md).
const (
	archiveServerPort = 8432
	archiveTLSDir     = "/etc/pgbackrest/tls"
	// archiveClientCN is the only client the sidecar admits.
	archiveClientCN = "vx-backup-job"
	// Keys of the certificate Secrets (the kubernetes.io/tls layout).
	tlsKeyCA   = "ca.crt"
	tlsKeyCert = "tls.crt"
	tlsKeyKey  = "tls.key"
	// socketDir is shared by the database and its sidecar.
	socketDir      = "/var/run/postgresql"
	archiveVolume  = "pgbackrest-tls"
	socketVolume   = "postgres-socket"
	sidecarName    = "pgbackrest"
	sidecarCommand = "vx-pgbackrest-sidecar"
)

// pointInTimeSettings are the pgBackRest settings of the environment's database,
// rendered by internal/pitr: one source for the pod, the jobs and the tests.
func pointInTimeSettings(env stacks.Environment) pitr.Settings {
	plan := env.Backup.PointInTime
	return pitr.Settings{
		Stanza: plan.Stanza,
		Repo: pitr.Repository{
			Endpoint: env.Storage.Central.HostPort, Bucket: plan.Bucket, Prefix: plan.Prefix,
			// The central MinIO's certificate chains to the image's system roots.
			VerifyTLS: true,
		},
		ArchiveTimeout:    time.Duration(plan.ArchiveTimeoutSeconds) * time.Second,
		RetentionFullDays: plan.RetentionFullDays,
		RetentionDiff:     plan.RetentionDiff,
		DataDir:           postgresData + "/pgdata",
		SocketDir:         socketDir,
		Port:              postgresPort,
	}
}

// archiveServerHost is the database Service's name, which the server
// certificate carries and the jobs connect to.
func archiveServerHost(env stacks.Environment) string {
	return fmt.Sprintf("%s.%s.svc", env.ResourceName(partPostgres), env.Namespace)
}

// archiveEnv renders pgBackRest's variables plus the archive identity's keys,
// which come from its Secret only.
func archiveEnv(vars map[string]string, archiveSecret pulumi.StringInput) corev1.EnvVarArray {
	env := corev1.EnvVarArray{}
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, plainEnv(name, vars[name]))
	}
	return append(env,
		secretEnv(pitr.EnvS3Key, archiveSecret, StorageAccessKeyID),
		secretEnv(pitr.EnvS3KeySecret, archiveSecret, StorageAccessSecretKey))
}

// tlsFiles are the paths of a mounted certificate Secret.
func tlsFiles() (ca, cert, key string) {
	return archiveTLSDir + "/" + tlsKeyCA, archiveTLSDir + "/" + tlsKeyCert, archiveTLSDir + "/" + tlsKeyKey
}

// tlsVolume mounts a certificate Secret readable by the pod's group only.
func tlsVolume(secret pulumi.StringInput) corev1.VolumeArgs {
	return corev1.VolumeArgs{Name: pulumi.String(archiveVolume), Secret: &corev1.SecretVolumeSourceArgs{
		SecretName: secret, DefaultMode: pulumi.Int(0o440),
	}}
}

func tlsMount() corev1.VolumeMountArgs {
	return corev1.VolumeMountArgs{Name: pulumi.String(archiveVolume), MountPath: pulumi.String(archiveTLSDir), ReadOnly: pulumi.Bool(true)}
}
