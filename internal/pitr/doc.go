// Package pitr is point-in-time recovery for the patient-data databases with
// pgBackRest: the settings that the database pod, its pgBackRest sidecar and the
// backup CronJobs share (settings.go), what the repository holds and which
// instants it can restore (window.go), the monitoring check that fails when the
// newest backup or archived WAL segment is too old (freshness.go), and the
// restore into a fresh data directory that is verified before anyone swaps it
// in (restore.go). cmd/vxpitr is the command around it; images/postgres is the
// database image that carries pgBackRest. WAL handling itself is pgBackRest's:
// this package only configures it, reads its JSON and drives its commands.
//
// Design and operations: README.md in this directory.
package pitr
