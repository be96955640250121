package jobrunner

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Database is a local PostgreSQL cluster standing in for a StatefulSet's
// database pod. It is initialised the way the official postgres image
// initialises an empty volume, from the pod's own environment (POSTGRES_USER,
// POSTGRES_PASSWORD, POSTGRES_DB, resolved from the program's Secret), and every
// connection, local or TCP, must authenticate with that password.
type Database struct {
	Addr                     string // 127.0.0.1:port
	User, Password, Database string
	dir, pgBin               string
}

// StartDatabase starts the database of a StatefulSet in dir (created; the
// postgres user must be able to reach it when running as root), with the
// PostgreSQL programs in pgBin.
func (r *Runner) StartDatabase(ctx context.Context, namespace, statefulSet, pgBin, dir string) (*Database, error) {
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
	db := &Database{User: env["POSTGRES_USER"], Password: env["POSTGRES_PASSWORD"], Database: env["POSTGRES_DB"], dir: dir, pgBin: pgBin}
	for name, v := range map[string]string{"POSTGRES_USER": db.User, "POSTGRES_PASSWORD": db.Password} {
		if v == "" {
			return nil, res.fail("%s is not set: the postgres image would refuse to initialise", name)
		}
	}
	if db.Database == "" {
		db.Database = db.User // the image's default
	}
	if err := db.initdb(); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	db.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off", port, dir)
	if out, err := asPostgres(filepath.Join(pgBin, "pg_ctl"), "-D", db.dataDir(), "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "-o", opts, "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	if db.Database != "postgres" {
		conn, err := db.Connect(ctx, "postgres")
		if err != nil {
			db.Stop()
			return nil, err
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db.Database}.Sanitize()); err != nil {
			db.Stop()
			return nil, fmt.Errorf("creating database %s: %w", db.Database, err)
		}
	}
	return db, nil
}

func (d *Database) dataDir() string { return filepath.Join(d.dir, "data") }

// initdb makes the cluster with POSTGRES_USER as its superuser (as the image
// does) and password authentication for every connection.
func (d *Database) initdb() error {
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return err
	}
	if err := ownByPostgres(d.dir); err != nil {
		return err
	}
	pwfile := filepath.Join(d.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(d.Password+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	if err := ownByPostgres(pwfile); err != nil {
		return err
	}
	out, err := asPostgres(filepath.Join(d.pgBin, "initdb"), "-D", d.dataDir(), "-U", d.User, "--pwfile", pwfile,
		"-A", "scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
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

// Stop shuts the cluster down (pg_ctl signals the pid in postmaster.pid).
func (d *Database) Stop() error {
	out, err := asPostgres(filepath.Join(d.pgBin, "pg_ctl"), "-D", d.dataDir(), "-m", "fast", "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "not running") {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// asPostgres runs a PostgreSQL server program; as root it runs as the postgres
// user (initdb and postgres refuse root).
func asPostgres(bin string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func ownByPostgres(path string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs a postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
