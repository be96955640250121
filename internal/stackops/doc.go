// Package stackops runs the platform program's stack operations for the delivery
// pipeline: preview, up, destroy and drift detection, always through the policy
// pack, plus the stack outputs a pull request comment shows.
//
// The program runs inline through the Automation API (program.Run), so the same
// entry point works with the released CLI in CI and with the CLI built here
// (which has no Go language plugin), and the end-to-end test drives exactly what
// the workflows run. Everything else comes from the environment, as the Pulumi
// CLI reads it: PULUMI_BACKEND_URL (or `pulumi login` state), PULUMI_HOME,
// PULUMI_CONFIG_PASSPHRASE or a secrets provider, KUBECONFIG, and the stack's
// config in Pulumi.<stack>.yaml of the workspace directory.
package stackops
