package stacks

// Environment is everything one stack deploys, as plain values. Every decision
// that depends on the kind of environment is one of its fields, made in Load;
// components take these values and never ask which kind of environment they are
// in (components/kind_test.go fails if one does).
type Environment struct {
	StackIdentity
	Sensitive bool

	// Namespace is the Kubernetes namespace the environment deploys into.
	Namespace string
	// OwnsNamespace is false for a pull-request preview: the previews stack owns the
	// shared namespace, so destroying one preview can never remove it.
	OwnsNamespace bool
	// ProtectNamespace guards an owned namespace against deletion: deleting a
	// patient-data namespace deletes its database volume.
	ProtectNamespace bool
	// NamespaceClass is what the owned namespace's labels say about it.
	NamespaceClass NamespaceClass
	// HasWorkloads is false for the previews stack, which deploys only the shared
	// namespace, its quota and its network policies.
	HasWorkloads bool
	// NamePrefix is prepended to every Kubernetes object name ("pr-123-" in a preview),
	// so that previews sharing a namespace never collide.
	NamePrefix string
	// PullRequest is the number of the pull request a preview deploys, as its
	// objects' label value; empty elsewhere.
	PullRequest string

	Cluster Cluster
	Sizing  Sizing
	Images  Images
	Storage ObjectStorage
	Backup  Backup
	Ingress Ingress
}

// NamespaceClass classifies a namespace for the people and tools that read its labels.
type NamespaceClass struct {
	// OwnerKind is the kind of the stack that owns the namespace ("previews" for
	// the namespace a preview deploys into).
	OwnerKind string
	// Sensitivity is SensitivityPatientData or SensitivityNone.
	Sensitivity string
}

// Values of NamespaceClass.Sensitivity.
const (
	SensitivityPatientData = "patient-data"
	SensitivityNone        = "none"
)

// Cluster says which Kubernetes cluster the explicit provider talks to.
type Cluster struct {
	KubeContext string
}

// Resources are one container's requests and limits, as Kubernetes quantities.
type Resources struct {
	CPURequest    string
	MemoryRequest string
	CPULimit      string
	MemoryLimit   string
}

// Workload is the size of one deployed workload.
type Workload struct {
	Replicas  int
	Resources Resources
}

// Volume is a persistent volume claim's size and class ("" is the cluster default).
type Volume struct {
	Size         string
	StorageClass string
	// RetainOnDelete keeps the claim when its workload is deleted: losing an
	// environment's own data must take a deliberate act. A preview's copy of
	// public data goes with the preview.
	RetainOnDelete bool
}

// Quota is a namespace's ResourceQuota.
type Quota struct {
	CPURequests    string
	MemoryRequests string
	CPULimits      string
	MemoryLimits   string
	Pods           int
	Claims         int
	Storage        string
}

// ContainerBounds is the namespace LimitRange: defaults for containers that set
// nothing, and the largest container the namespace admits.
type ContainerBounds struct {
	Default Resources
	MaxCPU  string
	MaxMem  string
}

// Sizing is what the environment may use. Production, staging and public are
// identical; a preview is small.
type Sizing struct {
	Frontend Workload
	API      Workload
	Postgres Workload
	// PostgresVolume holds the database files.
	PostgresVolume Volume
	// Job sizes the backup and restore jobs.
	Job Resources
	// Archiver sizes the pgBackRest sidecar of a database with point-in-time
	// recovery (archive-push runs in the database container and uses its share).
	Archiver Resources
	// ObjectStore and ObjectStoreVolume size a preview's in-cluster MinIO.
	ObjectStore       Workload
	ObjectStoreVolume Volume
	// Quota and Bounds apply to the namespace; set only where the stack owns it.
	Quota  Quota
	Bounds ContainerBounds
}

// Images are the container images the environment runs, as repository:tag.
type Images struct {
	Frontend    string
	API         string
	Postgres    string
	Backup      string
	ObjectStore string // previews only
	ObjectTool  string // previews only: mc, to create the preview bucket
	// PinDigests resolves every image to its registry digest before deploying.
	PinDigests bool
}

// ByRole lists the images the environment runs, keyed by what runs them; an image
// the environment does not use is left out.
func (i Images) ByRole() map[string]string {
	all := map[string]string{
		"frontend": i.Frontend, "api": i.API, "postgres": i.Postgres, "backup": i.Backup,
		"objectStore": i.ObjectStore, "objectTool": i.ObjectTool,
	}
	for role, ref := range all {
		if ref == "" {
			delete(all, role)
		}
	}
	return all
}

// Endpoint is an S3 endpoint: host:port, TLS, and the address range that the
// namespace's egress policy opens for it.
type Endpoint struct {
	HostPort   string
	UseTLS     bool
	EgressCIDR string
}

// ObjectStorage says where the environment's files live and who may touch what.
type ObjectStorage struct {
	// Central is the company's central MinIO.
	Central Endpoint
	// TargetBucket is where new files go: a central bucket, or for a preview the
	// bucket of its own in-cluster store.
	TargetBucket string
	// TargetIsPreviewStore is true when TargetBucket lives in the in-cluster store.
	TargetIsPreviewStore bool
	// ReadBuckets are central buckets the environment reads besides its target.
	ReadBuckets []string
	// OwnedBuckets are the central buckets this stack creates and manages.
	OwnedBuckets []OwnedBucket
	// Identities are the environment's object-store users and what each may do.
	Identities []Identity
}

// OwnedBucket is a central bucket a stack creates. Backup buckets expire objects
// after RetentionDays through a lifecycle rule, so that no identity needs delete.
type OwnedBucket struct {
	Name          string
	Protected     bool
	Versioned     bool
	RetentionDays int // 0: no expiry
}

// Backup is the environment's database backup and restore plan.
type Backup struct {
	Enabled  bool
	Schedule string
	// Environment is the name the backup job gives the environment it dumps.
	Environment string
	// Bucket and Prefix are where this environment's backups are written.
	Bucket string
	Prefix string
	// RetentionDays is how long a backup is kept before its lifecycle rule expires it.
	RetentionDays int
	// RestoreFrom, when set, is the backup location this environment is restored from:
	// staging from production (on demand), a preview from public (on create).
	RestoreFrom *BackupSource
	// PointInTime, when set, archives every WAL segment with pgBackRest and takes
	// scheduled physical backups, so that any instant can be restored: the
	// patient-data databases.
	PointInTime *PointInTime
}

// PointInTime is continuous WAL archiving and physical backups with pgBackRest,
// into its own prefix of the environment's backup bucket (internal/pitr/README.md).
type PointInTime struct {
	// Stanza is pgBackRest's name for the database cluster.
	Stanza string
	Bucket string
	Prefix string
	// ArchiveTimeoutSeconds bounds the committed writes lost with the volume.
	ArchiveTimeoutSeconds int
	// RetentionFullDays keeps every full backup needed to restore any instant of
	// that many days; RetentionDiff keeps that many differential backups.
	RetentionFullDays int
	RetentionDiff     int
	Schedules         PointInTimeSchedules
}

// PointInTimeSchedules are the cron schedules (UTC) of the pgBackRest CronJobs.
type PointInTimeSchedules struct {
	Full   string // full backup (expire runs at its end)
	Diff   string // differential backup
	Verify string // checksums of every backup and WAL file in the repository
	// Check proves archiving works now and fails when the newest backup or
	// archived WAL segment is older than its bound: the alert.
	Check string
}

// BackupSource is where a restore reads from.
type BackupSource struct {
	Environment string
	Bucket      string
	Prefix      string
	// OnCreate restores once when the environment is created; otherwise the restore
	// Job is created suspended and run on demand.
	OnCreate bool
}

// Ingress exposes the frontend under a readable hostname. Off by default.
type Ingress struct {
	Enabled bool
	Host    string
	Class   string
	// AllowedSources is the source address allow-list; required on sensitive stacks.
	AllowedSources []string
	TLSSecret      string
}

// ResourceName is the Kubernetes object name for one part of the environment.
func (e Environment) ResourceName(part string) string {
	return e.NamePrefix + part
}

// Instance is the value of the app.kubernetes.io/instance label.
func (e Environment) Instance() string {
	return e.Stack
}
