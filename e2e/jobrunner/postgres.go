package jobrunner

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/virdx/vxplatform-infra/internal/localenv"
)

// Database is a local PostgreSQL cluster standing in for a StatefulSet's
// database pod. It is initialised the way the official postgres image
// initialises an empty volume, from the pod's own environment (POSTGRES_USER,
// POSTGRES_PASSWORD, POSTGRES_DB, resolved from the program's Secret), and every
// connection, local or TCP, must authenticate with that password. The cluster
// is a private instance of scripts/test-servers.sh (internal/localenv), the one
// way local servers start.
type Database struct {
	Addr                     string // 127.0.0.1:port
	User, Password, Database string
	servers                  *localenv.Servers
}

// StartDatabase starts the database of a StatefulSet.
func (r *Runner) StartDatabase(ctx context.Context, namespace, statefulSet string) (*Database, error) {
	set, err := r.Client.AppsV1().StatefulSets(namespace).Get(ctx, statefulSet, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("StatefulSet %s/%s: %w", namespace, statefulSet, err)
	}
	// The database container is the one named postgres (a sidecar may run next to it).
	var container *corev1.Container
	for i, c := range set.Spec.Template.Spec.Containers {
		if c.Name == "postgres" || len(set.Spec.Template.Spec.Containers) == 1 {
			container = &set.Spec.Template.Spec.Containers[i]
		}
	}
	if container == nil {
		return nil, fmt.Errorf("StatefulSet %s/%s: no container named postgres", namespace, statefulSet)
	}
	res := &resolver{ctx: ctx, client: r.Client, namespace: namespace, pod: statefulSet + "-0", container: container.Name}
	env, err := res.environment(*container)
	if err != nil {
		return nil, err
	}
	db := &Database{User: env["POSTGRES_USER"], Password: env["POSTGRES_PASSWORD"], Database: env["POSTGRES_DB"]}
	for name, v := range map[string]string{"POSTGRES_USER": db.User, "POSTGRES_PASSWORD": db.Password} {
		if v == "" {
			return nil, res.fail("%s is not set: the postgres image would refuse to initialise", name)
		}
	}
	if db.Database == "" {
		db.Database = db.User // the image's default
	}
	db.servers, err = localenv.StartPrivate(ctx, localenv.PrivateConfig{
		Name:              "db-" + namespace + "-" + statefulSet,
		Servers:           []localenv.Server{localenv.PostgresServer},
		PostgresSuperuser: db.User,
		PostgresPassword:  db.Password,
	})
	if err != nil {
		return nil, fmt.Errorf("database of StatefulSet %s/%s: %w", namespace, statefulSet, err)
	}
	db.Addr = db.servers.Postgres.Address()
	if db.Database != "postgres" {
		if err := db.createDatabase(ctx); err != nil {
			return nil, errors.Join(err, db.Stop())
		}
	}
	return db, nil
}

// createDatabase creates POSTGRES_DB, as the image does on an empty volume.
func (d *Database) createDatabase(ctx context.Context) error {
	conn, err := d.Connect(ctx, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{d.Database}.Sanitize()); err != nil {
		return fmt.Errorf("creating database %s: %w", d.Database, err)
	}
	return nil
}

// Connect opens a connection to a database of the cluster with the pod's
// credentials.
func (d *Database) Connect(ctx context.Context, database string) (*pgx.Conn, error) {
	host, port, _ := net.SplitHostPort(d.Addr)
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%s sslmode=disable", host, port))
	if err != nil {
		return nil, err
	}
	cfg.User, cfg.Password, cfg.Database = d.User, d.Password, database
	return pgx.ConnectConfig(ctx, cfg)
}

// Stop stops the cluster and removes it (its data, logs and run directory).
func (d *Database) Stop() error {
	return d.servers.Destroy(context.Background())
}
