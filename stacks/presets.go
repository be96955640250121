package stacks

// The sizes below are the presets per kind. Production, staging and public get one
// shared preset so that staging stays a faithful test-bed for production; a preview
// gets a small slice of everything.

var persistentSizing = Sizing{
	Frontend:       Workload{Replicas: 2, Resources: Resources{CPURequest: "250m", MemoryRequest: "256Mi", CPULimit: "1", MemoryLimit: "512Mi"}},
	API:            Workload{Replicas: 2, Resources: Resources{CPURequest: "500m", MemoryRequest: "512Mi", CPULimit: "2", MemoryLimit: "1Gi"}},
	Postgres:       Workload{Replicas: 1, Resources: Resources{CPURequest: "1", MemoryRequest: "2Gi", CPULimit: "2", MemoryLimit: "4Gi"}},
	PostgresVolume: Volume{Size: "50Gi", RetainOnDelete: true},
	Job:            Resources{CPURequest: "250m", MemoryRequest: "256Mi", CPULimit: "1", MemoryLimit: "512Mi"},
	Archiver:       Resources{CPURequest: "100m", MemoryRequest: "128Mi", CPULimit: "1", MemoryLimit: "512Mi"},
	Quota: Quota{CPURequests: "8", MemoryRequests: "16Gi", CPULimits: "16", MemoryLimits: "32Gi",
		Pods: 40, Claims: 10, Storage: "500Gi"},
	Bounds: ContainerBounds{
		Default: Resources{CPURequest: "100m", MemoryRequest: "128Mi", CPULimit: "500m", MemoryLimit: "512Mi"},
		MaxCPU:  "4", MaxMem: "8Gi",
	},
}

var previewSizing = Sizing{
	Frontend:          Workload{Replicas: 1, Resources: Resources{CPURequest: "50m", MemoryRequest: "64Mi", CPULimit: "250m", MemoryLimit: "256Mi"}},
	API:               Workload{Replicas: 1, Resources: Resources{CPURequest: "100m", MemoryRequest: "128Mi", CPULimit: "500m", MemoryLimit: "512Mi"}},
	Postgres:          Workload{Replicas: 1, Resources: Resources{CPURequest: "100m", MemoryRequest: "256Mi", CPULimit: "500m", MemoryLimit: "512Mi"}},
	PostgresVolume:    Volume{Size: "2Gi"},
	Job:               Resources{CPURequest: "100m", MemoryRequest: "128Mi", CPULimit: "500m", MemoryLimit: "256Mi"},
	ObjectStore:       Workload{Replicas: 1, Resources: Resources{CPURequest: "100m", MemoryRequest: "128Mi", CPULimit: "500m", MemoryLimit: "512Mi"}},
	ObjectStoreVolume: Volume{Size: "5Gi"},
}

// MinConcurrentPreviews is how many previews the shared namespace must hold at once.
const MinConcurrentPreviews = 10

// previewsNamespaceSizing is the shared previews namespace: larger in total than any
// single persistent namespace, with room for more than MinConcurrentPreviews.
var previewsNamespaceSizing = Sizing{
	Quota: Quota{CPURequests: "12", MemoryRequests: "24Gi", CPULimits: "40", MemoryLimits: "48Gi",
		Pods: 120, Claims: 40, Storage: "600Gi"},
	Bounds: ContainerBounds{
		Default: Resources{CPURequest: "50m", MemoryRequest: "64Mi", CPULimit: "250m", MemoryLimit: "256Mi"},
		MaxCPU:  "1", MaxMem: "1Gi",
	},
}

// Replica bounds per kind: persistent environments keep at least two replicas so a
// node drain never takes them down; previews are one replica, two at most.
var replicaBounds = map[bool][2]int{true: {2, 10}, false: {1, 2}}

// Volume size bounds per kind, in bytes.
var postgresVolumeBounds = map[bool][2]string{true: {"10Gi", "2Ti"}, false: {"1Gi", "10Gi"}}

const (
	imageRegistry = "ghcr.io/virdx/"
	postgresImage = "docker.io/library/postgres:15.10"
	// archivingPostgresRepo is postgresImage plus pgBackRest (images/postgres).
	archivingPostgresRepo = imageRegistry + "vxplatform-postgres"
	objectStoreImage      = "quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z"
	objectToolImage       = "quay.io/minio/mc:RELEASE.2025-04-16T18-13-26Z"
	defaultBackupCron     = "15 2 * * *"
	defaultRetentionDays  = 30
	// archiveTimeoutSeconds is the recovery point objective of point-in-time
	// recovery (internal/pitr holds it to at most 60 s).
	archiveTimeoutSeconds = 60
	// diffBackupsKept is how many differential backups pgBackRest keeps.
	diffBackupsKept = 7
	// InternalIngressClass is the only ingress class a sensitive stack may use.
	InternalIngressClass = "internal"
	publicIngressClass   = "nginx"
	baseDomain           = "data.virdx.dev"
	previewObjectBucket  = "preview-data"
)

// pointInTimeSchedules run the physical backups before the nightly dump
// (defaultBackupCron), a full one on Sunday and a differential one every other
// day, verify after both, and check every five minutes.
var pointInTimeSchedules = PointInTimeSchedules{
	Full:   "0 1 * * 0",
	Diff:   "0 1 * * 1-6",
	Verify: "0 5 * * *",
	Check:  "*/5 * * * *",
}
