package backup

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/minio/minio-go/v7"
)

func TestS3ErrorsSayWhatFailedAndWhere(t *testing.T) {
	store := &Store{cfg: S3Config{Endpoint: "10.0.0.1:9000", Bucket: "dataplatform-backups-production", Prefix: "postgres/", AccessKey: "dataplatform-production-backup", SecretKey: "TOPSECRET"}}
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"access denied", minio.ErrorResponse{Code: "AccessDenied"}, []string{"access denied", `"dataplatform-production-backup"`, "s3://dataplatform-backups-production/postgres/manifests/ at 10.0.0.1:9000"}},
		{"missing bucket", minio.ErrorResponse{Code: "NoSuchBucket"}, []string{`bucket "dataplatform-backups-production" does not exist at 10.0.0.1:9000`}},
		{"unknown key", minio.ErrorResponse{Code: "InvalidAccessKeyId"}, []string{"credentials rejected", "AWS_ACCESS_KEY_ID"}},
		{"wrong secret", minio.ErrorResponse{Code: "SignatureDoesNotMatch"}, []string{"credentials rejected", "wrong secret key", "AWS_SECRET_ACCESS_KEY"}},
		{"wrapped", fmt.Errorf("context: %w", minio.ErrorResponse{Code: "AccessDenied"}), []string{"access denied"}},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, []string{"S3 endpoint 10.0.0.1:9000 is unreachable", "S3_ENDPOINT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := store.s3Error("list backups", "postgres/manifests/", tt.err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "TOPSECRET") {
				t.Errorf("%q reveals the secret key", err)
			}
			if !errors.Is(err, tt.err) && !errors.As(err, new(minio.ErrorResponse)) {
				t.Errorf("%q does not wrap the original error", err)
			}
		})
	}
}

func TestPostgresErrorsNameServerDatabaseAndUser(t *testing.T) {
	cfg := PostgresConfig{Host: "db", Port: 5432, User: "app"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"bad password", &pgconn.PgError{Code: "28P01"}, "password rejected (PGPASSWORD)"},
		{"no role", &pgconn.PgError{Code: "28000"}, "not authorized"},
		{"no database", &pgconn.PgError{Code: "3D000"}, "the database does not exist"},
		{"down", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, "the database server is unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pgError("connect to", cfg, "dataplatform", tt.err)
			for _, w := range []string{tt.want, `database "dataplatform" on db:5432 as user "app"`} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err, w)
				}
			}
		})
	}
	if pgError("x", cfg, "d", nil) != nil {
		t.Error("pgError(nil) is not nil")
	}
}
