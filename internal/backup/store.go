package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Store is the backup prefix of one bucket, reached with one identity. It only
// ever uses the operations the access matrix grants: a backup identity puts
// objects (multipart), a restore identity lists and reads.
type Store struct {
	cfg    S3Config
	client *minio.Client
}

// NewStore makes a client; it does not contact the endpoint yet.
func NewStore(cfg S3Config) (*Store, error) {
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.UseTLS,
		Region:     cfg.Region,
		MaxRetries: cfg.MaxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 endpoint %s (%s): %w", cfg.Endpoint, EnvS3Endpoint, err)
	}
	return &Store{cfg: cfg, client: client}, nil
}

// Prefix is the backup prefix inside the bucket.
func (s *Store) Prefix() string { return s.cfg.Prefix }

// uploadStream writes an object of unknown length as a multipart upload. Parts
// are filled one after another and uploaded two at a time, so reading never
// waits for the network while memory stays at two parts. On any error,
// including one returned by the reader, the upload is aborted and no object
// appears.
func (s *Store) uploadStream(ctx context.Context, key string, r io.Reader, partSize int64) (int64, error) {
	info, err := s.client.PutObject(ctx, s.cfg.Bucket, key, r, -1, minio.PutObjectOptions{
		ContentType:           "application/octet-stream",
		PartSize:              uint64(partSize),
		NumThreads:            2,
		ConcurrentStreamParts: true,
	})
	if err != nil {
		return 0, err
	}
	return info.Size, nil
}

// putManifest writes a manifest in one PUT; it is small and its appearance is
// what makes a backup exist.
func (s *Store) putManifest(ctx context.Context, m Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest %s: %w", m.ID, err)
	}
	key := ManifestKey(s.cfg.Prefix, m.ID)
	_, err = s.client.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType:      "application/json",
		DisableMultipart: true,
	})
	return s.s3Error("write manifest", key, err)
}

// ManifestKeys lists the manifest folder: the only listing the tool ever does.
func (s *Store) ManifestKeys(ctx context.Context) ([]string, error) {
	prefix := ManifestsPrefix(s.cfg.Prefix)
	var keys []string
	for obj := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, s.s3Error("list backups", prefix, obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	return keys, nil
}

// maxManifestSize bounds what is read as a manifest (real ones are a few KiB).
const maxManifestSize = 16 << 20

// ReadManifest reads and validates the manifest of one backup.
func (s *Store) ReadManifest(ctx context.Context, id, environment string) (Manifest, error) {
	key := ManifestKey(s.cfg.Prefix, id)
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return Manifest{}, s.s3Error("read manifest", key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(io.LimitReader(obj, maxManifestSize+1))
	if err != nil {
		return Manifest{}, s.s3Error("read manifest", key, err)
	}
	if len(data) > maxManifestSize {
		return Manifest{}, fmt.Errorf("manifest s3://%s/%s is larger than %d bytes: not a manifest", s.cfg.Bucket, key, maxManifestSize)
	}
	m, err := ParseManifest(data)
	if err != nil {
		return Manifest{}, fmt.Errorf("manifest s3://%s/%s is not valid JSON of format %s: %w", s.cfg.Bucket, key, ManifestFormat, err)
	}
	if err := m.Validate(s.cfg.Prefix, key, environment); err != nil {
		return Manifest{}, fmt.Errorf("s3://%s at %s: %w", s.cfg.Bucket, s.cfg.Endpoint, err)
	}
	return m, nil
}

// FindBackup resolves BACKUP_NAME ("latest" or an ID) to a validated manifest.
// "latest" comes from the manifest names only; a newest manifest that is broken
// stops the restore rather than silently falling back to an older backup.
func (s *Store) FindBackup(ctx context.Context, name, environment string) (Manifest, error) {
	id := name
	if name == LatestBackup {
		keys, err := s.ManifestKeys(ctx)
		if err != nil {
			return Manifest{}, err
		}
		latest, ok := LatestBackupID(s.cfg.Prefix, keys)
		if !ok {
			return Manifest{}, fmt.Errorf("no backup found: no manifest under %s", s.describe(ManifestsPrefix(s.cfg.Prefix)))
		}
		id = latest
	}
	return s.ReadManifest(ctx, id, environment)
}

// dumpObject opens a backup's archive after checking that its size is the one
// the manifest promises (a truncated object is refused before anything starts).
func (s *Store) dumpObject(ctx context.Context, m Manifest) (*minio.Object, error) {
	stat, err := s.client.StatObject(ctx, s.cfg.Bucket, m.DumpKey, minio.StatObjectOptions{})
	if err != nil {
		return nil, s.s3Error("read dump", m.DumpKey, err)
	}
	if stat.Size != m.Size {
		return nil, fmt.Errorf("dump %s is %d bytes but its manifest says %d: truncated or replaced; refusing to restore it", s.describe(m.DumpKey), stat.Size, m.Size)
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, m.DumpKey, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.s3Error("read dump", m.DumpKey, err)
	}
	return obj, nil
}

func (s *Store) describe(key string) string {
	return fmt.Sprintf("s3://%s/%s at %s", s.cfg.Bucket, key, s.cfg.Endpoint)
}
