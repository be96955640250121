// Package e2e is the end-to-end test of the data platform (build tag e2e): the real
// program, run as an Automation API inline program by the real Pulumi engine with
// the real Kubernetes provider, deploys every stack into a local control plane
// (scripts/control-plane.sh), and client-go checks what the API server holds. The
// random, minio and docker providers are stand-ins (e2e/standin); the policy pack is
// the project's real binary.
//
// Run it (after scripts/tools.sh pulumi kubernetes-provider control-plane,
// go build -o bin/vx-standin ./e2e/standin and scripts/build-policy-pack.sh):
//
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
package e2e
