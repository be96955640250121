package backup

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/minio/minio-go/v7"
)

// s3Error turns an S3 client error into a message that says what failed, where,
// and what to check. op is what was attempted ("upload", "read", "list").
func (s *Store) s3Error(op, key string, err error) error {
	if err == nil {
		return nil
	}
	where := fmt.Sprintf("s3://%s/%s at %s", s.cfg.Bucket, key, s.cfg.Endpoint)
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		switch resp.Code {
		case "AccessDenied":
			return fmt.Errorf("%s %s: access denied: identity %q is not allowed to %s here (check its IAM policy, and that bucket %q exists): %w", op, where, s.cfg.AccessKey, op, s.cfg.Bucket, err)
		case "NoSuchBucket":
			return fmt.Errorf("%s %s: bucket %q does not exist at %s: %w", op, where, s.cfg.Bucket, s.cfg.Endpoint, err)
		case "NoSuchKey":
			return fmt.Errorf("%s %s: the object does not exist: %w", op, where, err)
		case "InvalidAccessKeyId":
			return fmt.Errorf("%s %s: credentials rejected: %s does not know access key %q (%s): %w", op, where, s.cfg.Endpoint, s.cfg.AccessKey, EnvS3AccessKey, err)
		case "SignatureDoesNotMatch":
			return fmt.Errorf("%s %s: credentials rejected: wrong secret key for access key %q (%s): %w", op, where, s.cfg.AccessKey, EnvS3SecretKey, err)
		}
		return fmt.Errorf("%s %s: %s: %w", op, where, resp.Code, err)
	}
	if unreachable(err) {
		return fmt.Errorf("%s %s: S3 endpoint %s is unreachable (%s, %s=%t): %w", op, where, s.cfg.Endpoint, EnvS3Endpoint, EnvS3UseTLS, s.cfg.UseTLS, err)
	}
	return fmt.Errorf("%s %s: %w", op, where, err)
}

// unreachable reports network-level failures: nothing listening, name not
// resolvable, connection reset, timeouts.
func unreachable(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var urlErr *url.Error
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		(errors.As(err, &netErr) && netErr.Timeout()) ||
		(errors.As(err, &urlErr) && !errors.Is(err, context.Canceled))
}

// pgError turns a database error into a message naming the server, database
// and user, with the likely cause.
func pgError(op string, cfg PostgresConfig, database string, err error) error {
	if err == nil {
		return nil
	}
	where := fmt.Sprintf("database %q on %s as user %q", database, cfg.Address(), cfg.User)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01":
			return fmt.Errorf("%s %s: password rejected (%s): %w", op, where, EnvPGPassword, err)
		case "28000":
			return fmt.Errorf("%s %s: not authorized (does the role exist? %s): %w", op, where, EnvPGUser, err)
		case "3D000":
			return fmt.Errorf("%s %s: the database does not exist: %w", op, where, err)
		case "42501":
			return fmt.Errorf("%s %s: permission denied: %w", op, where, err)
		case "57P01", "57P02", "57P03":
			return fmt.Errorf("%s %s: the database server is shutting down or not accepting connections: %w", op, where, err)
		}
		return fmt.Errorf("%s %s: %w", op, where, err)
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || unreachable(err) || pgconn.SafeToRetry(err) {
		return fmt.Errorf("%s %s: the database server is unreachable (%s, %s): %w", op, where, EnvPGHost, EnvPGPort, err)
	}
	return fmt.Errorf("%s %s: %w", op, where, err)
}
