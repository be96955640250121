// Package sweep finds preview stacks (pr-<N>) whose pull request is no longer
// open, so that the nightly sweeper can destroy them: the previews a failed or
// skipped pull-request-closed job left behind.
//
// It is careful in the ways a shared cluster with patient-data neighbours needs:
// every open pull request is read (the GitHub API pages at most 100 at a time),
// stack names are understood however the backend prints them (a file backend's
// short names, Pulumi Cloud's owner/name and owner/project/name), stacks of other
// projects and stacks under an update are left alone, and a plan that would
// destroy more than a set number of previews is refused rather than carried out.
package sweep
