// Package backup is the library of cmd/vxbackup: it streams pg_dump of an
// environment's database to S3 with a manifest written last, and restores a
// backup into a fresh database that is swapped in only after its checksum and
// row counts match the manifest. The design (object layout, manifest format,
// how "latest" is found, why restore-and-swap, retention) is in README.md.
package backup
