package stacks

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Load builds the Environment for a stack from its name and config. It reports every
// problem at once, as a *ConfigError, and returns no Environment when there is any.
func Load(stack string, cfg Config) (Environment, error) {
	id, err := ParseStackName(stack)
	if err != nil {
		return Environment{}, err
	}
	r := &reader{kind: id.Kind, cfg: cfg}
	r.checkKeys()
	env := Environment{
		StackIdentity: id,
		Sensitive:     id.Kind.Sensitive(),
		Namespace:     NamespaceOf(id.Kind),
		OwnsNamespace: id.Kind != KindPreview,
		Cluster:       Cluster{KubeContext: r.kubeContext()},
	}
	env.ProtectNamespace = env.OwnsNamespace && env.Sensitive
	env.NamespaceClass = namespaceClass(id.Kind)
	if id.Kind == KindPreview {
		env.NamePrefix = fmt.Sprintf("pr-%d-", id.PRNumber)
		env.PullRequest = strconv.Itoa(id.PRNumber)
	}
	env.HasWorkloads = id.Kind != KindPreviews
	switch {
	case !env.HasWorkloads:
		env.Sizing = previewsNamespaceSizing
	default:
		env.Sizing = r.sizing()
		env.Images = r.images()
		env.Backup = r.backup(id)
		env.Storage = r.storage(id, env.Backup)
		env.Ingress = r.ingress(env)
	}
	if len(r.problems) > 0 {
		return Environment{}, &ConfigError{Stack: stack, Problems: r.problems}
	}
	return env, nil
}

// namespaceClass labels a namespace by the kind of stack that owns it: every
// preview's namespace is the one the previews stack owns.
func namespaceClass(k Kind) NamespaceClass {
	class := NamespaceClass{OwnerKind: string(NamespaceOwner(k)), Sensitivity: SensitivityNone}
	if k.Sensitive() {
		class.Sensitivity = SensitivityPatientData
	}
	return class
}

func (r *reader) kubeContext() string {
	v := r.string("kubeContext", "")
	if _, set := r.raw("kubeContext"); set && strings.TrimSpace(v) == "" {
		r.problems.add("kubeContext", v, allowedKubeCtx)
	}
	return v
}

func (r *reader) sizing() Sizing {
	persistent := r.kind.Persistent()
	s := previewSizing
	if persistent {
		s = persistentSizing
	}
	bounds := replicaBounds[persistent]
	s.Frontend.Replicas = r.intIn("frontendReplicas", s.Frontend.Replicas, bounds[0], bounds[1])
	s.API.Replicas = r.intIn("apiReplicas", s.API.Replicas, bounds[0], bounds[1])
	s.PostgresVolume.Size = r.storageSize("postgresStorage", s.PostgresVolume.Size, postgresVolumeBounds[persistent])
	s.PostgresVolume.StorageClass = r.storageClass()
	s.ObjectStoreVolume.StorageClass = s.PostgresVolume.StorageClass
	return s
}

func (r *reader) storageSize(key, fallback string, bounds [2]string) string {
	v, ok := r.raw(key)
	if !ok {
		return fallback
	}
	n, valid := storageBytes(v)
	lo, _ := storageBytes(bounds[0])
	hi, _ := storageBytes(bounds[1])
	if !valid || n < lo || n > hi {
		r.problems.add(key, v, fmt.Sprintf("%s, from %s to %s for a %s stack", allowedQuantity, bounds[0], bounds[1], r.kind))
		return fallback
	}
	return v
}

func (r *reader) storageClass() string {
	v, ok := r.raw("storageClass")
	if ok && !validObjectName(v) {
		r.problems.add("storageClass", v, "a storage class name (lowercase DNS name)")
	}
	return v
}

func (r *reader) images() Images {
	tag := func(key string) string {
		v, ok := r.raw(key)
		if ok && !validImageTag(v) {
			r.problems.add(key, v, allowedImageTag)
		}
		return v
	}
	pin := r.bool("pinImages", r.kind.Sensitive())
	if r.kind.Sensitive() && !pin {
		r.problems.add("pinImages", "false", "true: production and staging always deploy images by digest")
		pin = true
	}
	database := postgresImage
	if r.kind.ArchivesWAL() {
		database = archivingPostgresRepo + ":" + tag("databaseTag")
	}
	return Images{
		Frontend:    imageRegistry + "vxplatform-frontend:" + tag("frontendTag"),
		API:         imageRegistry + "vxplatform-api:" + tag("apiTag"),
		Backup:      imageRegistry + "vxplatform-backup:" + tag("backupTag"),
		Postgres:    database,
		ObjectStore: previewOnly(r.kind, objectStoreImage),
		ObjectTool:  previewOnly(r.kind, objectToolImage),
		PinDigests:  pin,
	}
}

func previewOnly(k Kind, v string) string {
	if k == KindPreview {
		return v
	}
	return ""
}

func (r *reader) backup(id StackIdentity) Backup {
	var b Backup
	if id.Kind.Persistent() {
		b = Backup{
			Enabled:       true,
			Schedule:      r.string("backupSchedule", defaultBackupCron),
			Environment:   string(id.Kind),
			Bucket:        BackupBucket(string(id.Kind)),
			Prefix:        BackupObjectPrefix,
			RetentionDays: r.intIn("backupRetentionDays", defaultRetentionDays, 7, 3650),
		}
		if !validCron(b.Schedule) {
			r.problems.add("backupSchedule", b.Schedule, allowedCron)
		}
	}
	if id.Kind.ArchivesWAL() {
		b.PointInTime = &PointInTime{
			Stanza:                string(id.Kind),
			Bucket:                b.Bucket,
			Prefix:                ArchiveObjectPrefix,
			ArchiveTimeoutSeconds: archiveTimeoutSeconds,
			// Any instant of the dumps' retention window can be restored, and the
			// bucket's lifecycle keeps expired files for as long again.
			RetentionFullDays: b.RetentionDays,
			RetentionDiff:     diffBackupsKept,
			Schedules:         pointInTimeSchedules,
		}
	}
	switch id.Kind {
	case KindStaging:
		b.RestoreFrom = &BackupSource{Environment: string(KindProduction), Bucket: BackupBucket(string(KindProduction)), Prefix: BackupObjectPrefix}
	case KindPreview:
		b.RestoreFrom = &BackupSource{Environment: string(KindPublic), Bucket: BackupBucket(string(KindPublic)), Prefix: BackupObjectPrefix, OnCreate: true}
	}
	return b
}

// BackupBucket is the central bucket that holds one environment's backups.
func BackupBucket(environment string) string { return BackupBucketPrefix + environment }

// defaultTargetBucket is each stored environment's own bucket.
var defaultTargetBucket = map[Kind]string{KindProduction: ProductionBucket, KindStaging: StagingBucket, KindPublic: PublicBucket}

// bucketOwner says which kind alone may own a reserved bucket name.
var bucketOwner = map[string]Kind{ProductionBucket: KindProduction, StagingBucket: KindStaging}

func (r *reader) storage(id StackIdentity, backup Backup) ObjectStorage {
	s := ObjectStorage{Central: r.centralEndpoint()}
	switch id.Kind {
	case KindPreview:
		s.TargetBucket = previewObjectBucket
		s.TargetIsPreviewStore = true
		source := r.string("sourceBucket", PublicBucket)
		switch {
		case !validBucketName(source):
			r.problems.add("sourceBucket", source, allowedBucket)
		case IsSensitiveBucket(source) || strings.HasPrefix(source, BackupBucketPrefix):
			r.problems.add("sourceBucket", source, "a non-sensitive data bucket such as "+PublicBucket+": previews never get access to patient-data or backup buckets")
		}
		s.ReadBuckets = []string{source}
	default:
		s.TargetBucket = r.targetBucket(id.Kind)
		s.OwnedBuckets = []OwnedBucket{{Name: s.TargetBucket, Protected: true, Versioned: true}}
		if id.Kind == KindStaging {
			// Restored staging records still point at production objects.
			s.ReadBuckets = []string{ProductionBucket}
		}
	}
	if backup.Enabled {
		// Versioned: the backup identity may put objects, so a stolen key could
		// overwrite a dump; the old version survives until retention expires it.
		s.OwnedBuckets = append(s.OwnedBuckets, OwnedBucket{Name: backup.Bucket, Protected: true, Versioned: true, RetentionDays: backup.RetentionDays})
	}
	s.Identities = accessMatrix(id, s.TargetBucket, s.ReadBuckets, backup)
	return s
}

func (r *reader) targetBucket(kind Kind) string {
	name := r.string("bucket", defaultTargetBucket[kind])
	owner, reserved := bucketOwner[name]
	switch {
	case !validBucketName(name):
		r.problems.add("bucket", name, allowedBucket)
	case reserved && owner != kind:
		r.problems.add("bucket", name, fmt.Sprintf("a bucket of this environment's own: %s belongs to %s", name, owner))
	case strings.HasPrefix(name, BackupBucketPrefix):
		r.problems.add("bucket", name, "a data bucket: names starting with "+BackupBucketPrefix+" are backup buckets")
	}
	return name
}

func (r *reader) centralEndpoint() Endpoint {
	e := Endpoint{HostPort: r.string("s3Endpoint", ""), UseTLS: r.bool("s3UseTLS", true)}
	if r.kind.ArchivesWAL() && !e.UseTLS {
		r.problems.add("s3UseTLS", "false", "true: production and staging archive WAL with pgBackRest, which reaches MinIO over HTTPS only")
	}
	if _, set := r.raw("s3Endpoint"); set && !validHostPort(e.HostPort) {
		r.problems.add("s3Endpoint", e.HostPort, allowedHostPort)
		return e
	}
	cidr, set := r.raw("s3EgressCidr")
	switch {
	case set && !validCIDR(cidr):
		r.problems.add("s3EgressCidr", cidr, allowedCIDR)
	case set && openToEveryone(cidr):
		r.problems.add("s3EgressCidr", cidr, "a range that covers the S3 endpoint only, not every address")
	case set:
		e.EgressCIDR = cidr
	case e.HostPort != "":
		host, _, _ := net.SplitHostPort(e.HostPort)
		if ip := net.ParseIP(host); ip != nil && ip.To4() != nil {
			e.EgressCIDR = host + "/32"
		} else if ip != nil {
			e.EgressCIDR = host + "/128"
		} else {
			r.problems.add("s3EgressCidr", "", "required when s3Endpoint is a hostname: "+allowedCIDR)
		}
	}
	return e
}

func (r *reader) ingress(env Environment) Ingress {
	ing := Ingress{
		Enabled:   r.bool("ingress", false),
		Host:      r.string("hostname", DefaultHostname(env.StackIdentity)),
		TLSSecret: r.string("ingressTlsSecret", env.ResourceName("web-tls")),
	}
	if !validHostname(ing.Host) {
		r.problems.add("hostname", ing.Host, allowedHostname)
	}
	if !validObjectName(ing.TLSSecret) {
		r.problems.add("ingressTlsSecret", ing.TLSSecret, "a Secret name (lowercase DNS name)")
	}
	ing.Class = r.ingressClass(env.Sensitive)
	ing.AllowedSources = r.allowedSources(env.Sensitive, ing.Enabled)
	return ing
}

func (r *reader) ingressClass(sensitive bool) string {
	fallback := publicIngressClass
	if sensitive {
		fallback = InternalIngressClass
	}
	class := r.string("ingressClass", fallback)
	switch {
	case sensitive && class != InternalIngressClass:
		r.problems.add("ingressClass", class, strconv.Quote(InternalIngressClass)+": production and staging are reachable only through the internal ingress")
	case !validDNSLabel(class):
		r.problems.add("ingressClass", class, allowedClassName)
	}
	return class
}

func (r *reader) allowedSources(sensitive, enabled bool) []string {
	v, set := r.raw("ingressAllowedSources")
	sources := splitList(v)
	for _, s := range sources {
		switch {
		case !validCIDR(s):
			r.problems.add("ingressAllowedSources", s, allowedCIDR)
		case sensitive && openToEveryone(s):
			r.problems.add("ingressAllowedSources", s, "internal address ranges only: production and staging are never open to every address")
		}
	}
	if sensitive && enabled && len(sources) == 0 {
		if !set {
			v = ""
		}
		r.problems.add("ingressAllowedSources", v, "at least one CIDR: production and staging need a source allow-list when ingress is on")
	}
	return sources
}
