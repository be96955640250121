package stacks

import (
	"encoding/json"
	"fmt"
	"sort"
)

// The central buckets. Only production may own dataplatform-prod and only staging
// dataplatform-dev: both hold patient data.
const (
	ProductionBucket = "dataplatform-prod"
	StagingBucket    = "dataplatform-dev"
	PublicBucket     = "dataplatform-public"
	// BackupBucketPrefix + environment is each persistent environment's backup bucket.
	BackupBucketPrefix = "dataplatform-backups-"
	// BackupObjectPrefix is where the database dumps go inside a backup bucket.
	BackupObjectPrefix = "postgres/"
	// ArchiveObjectPrefix is where pgBackRest keeps its repository (base backups
	// and the WAL archive) inside a backup bucket, next to the dumps.
	ArchiveObjectPrefix = "pgbackrest/"
)

// SensitiveBuckets are the buckets that hold patient data.
var SensitiveBuckets = []string{ProductionBucket, StagingBucket, BackupBucketPrefix + string(KindProduction), BackupBucketPrefix + string(KindStaging)}

// IsSensitiveBucket reports whether a bucket holds patient data.
func IsSensitiveBucket(name string) bool {
	for _, b := range SensitiveBuckets {
		if b == name {
			return true
		}
	}
	return false
}

// Access is what a grant allows on its bucket (and prefix).
type Access string

const (
	// AccessRead lists and reads objects.
	AccessRead Access = "read"
	// AccessReadWrite lists, reads, writes and deletes objects.
	AccessReadWrite Access = "read-write"
	// AccessWriteOnly writes new objects and nothing else: a backup identity can
	// neither read nor delete what it wrote.
	AccessWriteOnly Access = "write-only"
	// AccessReadWriteKeepVersions lists, reads, writes and deletes objects but can
	// never remove an earlier version: on a versioned bucket a delete only hides
	// the object (a delete marker), and what it hid stays until the lifecycle
	// rule expires it. pgBackRest needs delete (expire) and read (archive-get);
	// a stolen key still cannot destroy the history.
	AccessReadWriteKeepVersions Access = "read-write-keep-versions"
)

// Store says which object store an identity lives in.
type Store string

const (
	StoreCentral Store = "central"
	StorePreview Store = "preview" // the preview's own in-cluster MinIO
)

// Purpose is what an identity is for.
type Purpose string

const (
	PurposeApp     Purpose = "app"     // the API: writes the target bucket
	PurposeViewer  Purpose = "viewer"  // the frontend: shows files, reads only
	PurposeBackup  Purpose = "backup"  // the backup CronJob: writes its own backup prefix
	PurposeRestore Purpose = "restore" // restore jobs: read a backup prefix
	// PurposeArchive is pgBackRest in the database pod and its backup CronJobs:
	// the environment's own repository prefix only.
	PurposeArchive Purpose = "archive"
)

// Grant is one cell of the access matrix.
type Grant struct {
	Bucket string
	Prefix string // "" is the whole bucket
	Access Access
}

// Identity is one object-store user of an environment.
type Identity struct {
	Name    string
	Purpose Purpose
	Store   Store
	Grants  []Grant
}

// Identity returns the environment's identity for a purpose and store, if any.
func (s ObjectStorage) Identity(purpose Purpose, store Store) (Identity, bool) {
	for _, id := range s.Identities {
		if id.Purpose == purpose && id.Store == store {
			return id, true
		}
	}
	return Identity{}, false
}

// accessMatrix derives every identity of an environment from its kind and buckets.
// It is the one place where access is decided; the bucket component and the
// real-MinIO tests both use its output.
func accessMatrix(id StackIdentity, target string, readBuckets []string, backup Backup) []Identity {
	name := func(p Purpose) string { return IdentityName(id.Stack, p) }
	var ids []Identity
	targetStore := StoreCentral
	if id.Kind == KindPreview {
		targetStore = StorePreview
	}
	if id.Kind != KindPreviews {
		appCentral := readGrants(readBuckets)
		viewerCentral := readGrants(readBuckets)
		if targetStore == StoreCentral {
			appCentral = append([]Grant{{Bucket: target, Access: AccessReadWrite}}, appCentral...)
			viewerCentral = append([]Grant{{Bucket: target, Access: AccessRead}}, viewerCentral...)
		} else {
			ids = append(ids,
				Identity{Name: name(PurposeApp), Purpose: PurposeApp, Store: StorePreview, Grants: []Grant{{Bucket: target, Access: AccessReadWrite}}},
				Identity{Name: name(PurposeViewer), Purpose: PurposeViewer, Store: StorePreview, Grants: []Grant{{Bucket: target, Access: AccessRead}}})
		}
		if len(appCentral) > 0 {
			ids = append(ids,
				Identity{Name: name(PurposeApp), Purpose: PurposeApp, Store: StoreCentral, Grants: appCentral},
				Identity{Name: name(PurposeViewer), Purpose: PurposeViewer, Store: StoreCentral, Grants: viewerCentral})
		}
	}
	if backup.Enabled {
		ids = append(ids, Identity{Name: name(PurposeBackup), Purpose: PurposeBackup, Store: StoreCentral,
			Grants: []Grant{{Bucket: backup.Bucket, Prefix: backup.Prefix, Access: AccessWriteOnly}}})
	}
	if pit := backup.PointInTime; pit != nil {
		// Its own identity, not the dump writer's: the dump identity stays
		// write-only, and nothing but this environment's pgBackRest can read its WAL.
		ids = append(ids, Identity{Name: name(PurposeArchive), Purpose: PurposeArchive, Store: StoreCentral,
			Grants: []Grant{{Bucket: pit.Bucket, Prefix: pit.Prefix, Access: AccessReadWriteKeepVersions}}})
	}
	if src := backup.RestoreFrom; src != nil {
		ids = append(ids, Identity{Name: name(PurposeRestore), Purpose: PurposeRestore, Store: StoreCentral,
			Grants: []Grant{{Bucket: src.Bucket, Prefix: src.Prefix, Access: AccessRead}}})
	}
	return ids
}

func readGrants(buckets []string) []Grant {
	grants := make([]Grant, 0, len(buckets))
	for _, b := range buckets {
		grants = append(grants, Grant{Bucket: b, Access: AccessRead})
	}
	return grants
}

// The S3 actions behind each access level. Listing is a bucket action, the rest
// are object actions.
var (
	objectReadActions   = []string{"s3:GetObject"}
	objectWriteActions  = []string{"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}
	objectDeleteActions = []string{"s3:DeleteObject"}
	bucketUploadActions = []string{"s3:GetBucketLocation", "s3:ListBucketMultipartUploads"}
	// MinIO lets s3:DeleteObject remove a given version too, unless this is denied.
	objectVersionDeleteActions = []string{"s3:DeleteObjectVersion"}
)

// PolicyStatement is one statement of an S3 IAM policy document.
type PolicyStatement struct {
	Sid       string                       `json:"Sid"`
	Effect    string                       `json:"Effect"`
	Action    []string                     `json:"Action"`
	Resource  []string                     `json:"Resource"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// PolicyDocument is an S3 IAM policy document.
type PolicyDocument struct {
	Version   string            `json:"Version"`
	Statement []PolicyStatement `json:"Statement"`
}

// PolicyJSON renders an identity's grants as the IAM policy document that MinIO
// enforces. The same function feeds the bucket component and the access tests.
func (id Identity) PolicyJSON() (string, error) {
	doc := PolicyDocument{Version: "2012-10-17"}
	for i, g := range id.Grants {
		doc.Statement = append(doc.Statement, g.statements(fmt.Sprintf("Grant%d", i))...)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("policy for %s: %w", id.Name, err)
	}
	return string(out), nil
}

func (g Grant) statements(sid string) []PolicyStatement {
	bucketARN := "arn:aws:s3:::" + g.Bucket
	bucket := func(actions []string) PolicyStatement {
		return PolicyStatement{Sid: sid + "Bucket", Effect: "Allow", Action: sorted(actions), Resource: []string{bucketARN}}
	}
	objects := func(actions ...[]string) PolicyStatement {
		var all []string
		for _, a := range actions {
			all = append(all, a...)
		}
		return PolicyStatement{Sid: sid + "Objects", Effect: "Allow", Action: sorted(all), Resource: []string{bucketARN + "/" + g.Prefix + "*"}}
	}
	// Listing stands alone: MinIO refuses an s3:prefix condition on a statement
	// that also holds actions without that key, such as GetBucketLocation.
	list := PolicyStatement{Sid: sid + "List", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{bucketARN}}
	if g.Prefix != "" {
		list.Condition = map[string]map[string]string{"StringLike": {"s3:prefix": g.Prefix + "*"}}
	}
	switch g.Access {
	case AccessRead:
		return []PolicyStatement{bucket([]string{"s3:GetBucketLocation"}), list, objects(objectReadActions)}
	case AccessReadWrite:
		return []PolicyStatement{bucket(bucketUploadActions), list, objects(objectReadActions, objectWriteActions, objectDeleteActions)}
	case AccessWriteOnly:
		return []PolicyStatement{bucket(bucketUploadActions), objects(objectWriteActions)}
	case AccessReadWriteKeepVersions:
		keep := PolicyStatement{Sid: sid + "KeepVersions", Effect: "Deny", Action: objectVersionDeleteActions, Resource: []string{bucketARN + "/*"}}
		return []PolicyStatement{bucket(bucketUploadActions), list, objects(objectReadActions, objectWriteActions, objectDeleteActions), keep}
	}
	panic(fmt.Sprintf("grant on %s: unknown access %q", g.Bucket, g.Access))
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
