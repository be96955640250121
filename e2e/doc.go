// Package e2e is the end-to-end test of the data platform (build tag e2e): the real
// program, run as an Automation API inline program by the real Pulumi engine with
// the real Kubernetes provider, deploys every stack into a local control plane
// (scripts/control-plane.sh), and client-go checks what the API server holds. The
// random and docker providers are stand-ins (e2e/standin); the minio provider is a
// test double that really applies the program's buckets and identities to the local
// test MinIO (e2e/miniotest); the backup and restore jobs run through a job runner
// (e2e/jobrunner) with the Secrets the program wrote; the policy pack is the
// project's real binary.
//
// Run it (after scripts/tools.sh pulumi kubernetes-provider control-plane minio mc,
// go build -o bin/vx-standin ./e2e/standin, go build -o bin/vx-miniotest
// ./e2e/miniotest and scripts/build-policy-pack.sh), with fresh test servers
// whose MinIO speaks HTTPS (the test fails, naming this command, without it):
//
//	eval "$(VX_MINIO_TLS=1 scripts/test-servers.sh start)"
//	export KUBECONFIG=$(VX_PV_SIZE=64Gi scripts/control-plane.sh start)
//	go test -tags e2e -count=1 -timeout 60m -v ./e2e/
//
// (64Gi volumes: production's database claims 50Gi and there is no provisioner.)
// The test needs a cluster without the platform's namespaces and deletes them when
// it is done (VX_E2E_KEEP=1 keeps them); scripts/test.sh runs it on a control plane
// of its own, started fresh.
//
// Benchmarks (BENCHMARKS.md, section e2e):
//
//	go test -tags e2e -run '^$' -bench . -benchtime 5x -timeout 60m ./e2e/
//
// # The harness's shape (agreed before the joints and operations work extend it)
//
//   - One test, TestEndToEnd, is an ordered list of named steps (step()): later
//     steps build on the stacks the first step deployed, and the first failure ends
//     the run. A body of work adds its steps as methods in a file of its own
//     (joints_test.go: MinIO through the engine, jobs run with the program's
//     Secrets; operations_test.go: the delivery scripts against the plane) and one
//     step() line each in TestEndToEnd; e2e_test.go keeps only the list and the
//     checks of the deployment itself.
//   - Everything local lives in internal/localenv, the one package for the local
//     environment that the main job (cmd/deploy-local), this test and the
//     integration tests share: tools, the Pulumi Env and stacks, stack config for
//     the local plane, control-plane objects, and the local servers.
//   - Local servers (PostgreSQL, MinIO) are started by scripts/test-servers.sh (shell
//     owns process start and stop) before this stage, as for the integration tests;
//     Go reads what it printed through localenv and fails, never skips, without it.
//   - The central MinIO is HTTPS-only, as production and staging require
//     (s3UseTLS; pgBackRest speaks nothing else): the servers' instance has a CA
//     of its own (MINIO_CA_FILE), and localenv.Config sets s3UseTLS from it. The
//     program names no CA (a real cluster's central MinIO chains to the system
//     roots of the runner and the images), so trust comes from the environment,
//     by the same route: SSL_CERT_FILE in the engine's environment
//     (localenv.Env.TrustedCAFile) for the minio test double's minio-go and mc,
//     in the job runner's processes (jobrunner.Runner.TrustedCAFile, the stand-in
//     for the image's trust store) and in the harness's own mc; the harness's
//     S3 clients trust exactly that CA. Nothing skips verification: the setup
//     checks that clients without the CA are refused (tls_test.go).
//   - Test-only provider plugins and the job runner are packages under e2e/ (built
//     into bin/ like e2e/standin); nothing under program/, components/ or stacks/
//     may import them.
//   - A developer running this test beside another run gives the control plane and
//     the servers their own ports and run directories (VX_*_PORT, VX_RUN,
//     VX_TEST_RUN); scripts/test.sh uses fixed ones.
//   - Temporary files (kubeconfigs, mc config, engine logs) live under the test's
//     own temporary directory and are removed with it.
package e2e
