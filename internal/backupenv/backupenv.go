// Package backupenv is the contract between the backup jobs the components create
// and the backup tool (cmd/vxbackup): the environment variables that configure a
// run. It has no dependencies, so that the Pulumi program does not link the
// tool's S3 and Postgres clients, nor the tool Pulumi.
package backupenv

// Credentials arrive only through these variables (set from Secret references),
// never as arguments.
const (
	Environment = "BACKUP_ENVIRONMENT"
	S3Endpoint  = "S3_ENDPOINT"
	S3UseTLS    = "S3_USE_TLS"
	S3Bucket    = "S3_BUCKET"
	S3Prefix    = "S3_PREFIX"
	S3AccessKey = "AWS_ACCESS_KEY_ID"
	S3SecretKey = "AWS_SECRET_ACCESS_KEY"
	PGHost      = "PGHOST"
	PGPort      = "PGPORT"
	PGDatabase  = "PGDATABASE"
	PGUser      = "PGUSER"
	PGPassword  = "PGPASSWORD"
)
