package backup

import (
	"context"
)

// Listed is one backup found under the prefix: its manifest, or why the
// manifest cannot be used.
type Listed struct {
	ID       string
	Manifest Manifest
	Err      error
}

// List returns every backup whose manifest exists, oldest first. A manifest
// that fails validation is listed with its error rather than hidden: an
// operator choosing BACKUP_NAME must see it.
func List(ctx context.Context, cfg Config) ([]Listed, error) {
	store, err := NewStore(cfg.S3)
	if err != nil {
		return nil, err
	}
	keys, err := store.ManifestKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []Listed
	for _, id := range BackupIDs(store.Prefix(), keys) {
		m, err := store.ReadManifest(ctx, id, cfg.Environment)
		out = append(out, Listed{ID: id, Manifest: m, Err: err})
	}
	return out, nil
}
