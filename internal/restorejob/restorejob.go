// Package restorejob starts a Job from a suspended CronJob (the staging refresh
// from the latest production backup, CronJob restore-from-production), waits for
// it and reports how it ended: what `kubectl create job --from=cronjob/...`
// followed by a watch would do, with the checks an operator would make first.
package restorejob

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Result is how the Job ended.
type Result struct {
	Job       string
	Namespace string
	Succeeded bool
	Reason    string // the Job's Complete or Failed condition, with its message
	Pods      []string
	Duration  time.Duration
}

func (r Result) String() string {
	verdict := "succeeded"
	if !r.Succeeded {
		verdict = "FAILED"
	}
	return fmt.Sprintf("Job %s/%s %s after %s: %s; pods: %s", r.Namespace, r.Job, verdict,
		r.Duration.Round(time.Second), r.Reason, strings.Join(r.Pods, ", "))
}

// Run creates a Job from the CronJob's template, named <cronjob>-manual-<unix
// time>, owned by the CronJob (so its history limits clean it up), and waits up
// to timeout for it to complete or fail. It refuses when the CronJob is not
// suspended (then the schedule, not an operator, owns restores) or when a Job of
// it is still active (two restores would swap the database twice).
func Run(ctx context.Context, cs kubernetes.Interface, namespace, cronJob string, timeout time.Duration, now time.Time) (Result, error) {
	cj, err := cs.BatchV1().CronJobs(namespace).Get(ctx, cronJob, metav1.GetOptions{})
	if err != nil {
		return Result{}, fmt.Errorf("CronJob %s/%s: %w", namespace, cronJob, err)
	}
	if cj.Spec.Suspend == nil || !*cj.Spec.Suspend {
		return Result{}, fmt.Errorf("CronJob %s/%s is not suspended: it restores on its schedule %q; a manual run is only for the suspended restore CronJob", namespace, cronJob, cj.Spec.Schedule)
	}
	if active, err := activeJobs(ctx, cs, cj); err != nil {
		return Result{}, err
	} else if len(active) > 0 {
		return Result{}, fmt.Errorf("Job(s) %s of CronJob %s/%s still running: wait for them or delete them first", strings.Join(active, ", "), namespace, cronJob)
	}
	job := jobFrom(cj, now)
	created, err := cs.BatchV1().Jobs(namespace).Create(ctx, job, metav1.CreateOptions{})
	if err != nil {
		return Result{}, fmt.Errorf("creating Job %s/%s from CronJob %s: %w", namespace, job.Name, cronJob, err)
	}
	return wait(ctx, cs, created, timeout)
}

// jobFrom is the Job kubectl create job --from=cronjob/NAME makes.
func jobFrom(cj *batchv1.CronJob, now time.Time) *batchv1.Job {
	annotations := map[string]string{"cronjob.kubernetes.io/instantiate": "manual"}
	for k, v := range cj.Spec.JobTemplate.Annotations {
		annotations[k] = v
	}
	yes := true
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:        fmt.Sprintf("%s-manual-%d", truncate(cj.Name, 63-len("-manual-")-10), now.Unix()),
			Namespace:   cj.Namespace,
			Labels:      cj.Spec.JobTemplate.Labels,
			Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: &yes,
			}},
		},
		Spec: cj.Spec.JobTemplate.Spec,
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func activeJobs(ctx context.Context, cs kubernetes.Interface, cj *batchv1.CronJob) ([]string, error) {
	jobs, err := cs.BatchV1().Jobs(cj.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var active []string
	for _, j := range jobs.Items {
		if owned(j, cj) && !finished(j) {
			active = append(active, j.Name)
		}
	}
	sort.Strings(active)
	return active, nil
}

func owned(j batchv1.Job, cj *batchv1.CronJob) bool {
	for _, o := range j.OwnerReferences {
		if o.Kind == "CronJob" && o.UID == cj.UID {
			return true
		}
	}
	return false
}

func finished(j batchv1.Job) bool {
	_, _, done := outcome(j)
	return done
}

// outcome reads a Job's terminal condition.
func outcome(j batchv1.Job) (succeeded bool, reason string, done bool) {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return true, strings.TrimSpace("Complete " + c.Reason + " " + c.Message), true
		case batchv1.JobFailed:
			return false, strings.TrimSpace("Failed " + c.Reason + " " + c.Message), true
		}
	}
	return false, "", false
}

func wait(ctx context.Context, cs kubernetes.Interface, job *batchv1.Job, timeout time.Duration) (Result, error) {
	start := time.Now()
	res := Result{Job: job.Name, Namespace: job.Namespace}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		j, err := cs.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
		if err == nil {
			if ok, reason, done := outcome(*j); done {
				res.Succeeded, res.Reason, res.Duration = ok, reason, time.Since(start)
				res.Pods = pods(ctx, cs, j)
				return res, nil
			}
		}
		select {
		case <-ctx.Done():
			res.Duration = time.Since(start)
			res.Pods = pods(context.Background(), cs, job)
			res.Reason = fmt.Sprintf("still running after %s", timeout)
			return res, errors.New(res.String())
		case <-time.After(2 * time.Second):
		}
	}
}

// pods describes the Job's pods (name and phase) for the report.
func pods(ctx context.Context, cs kubernetes.Interface, j *batchv1.Job) []string {
	list, err := cs.CoreV1().Pods(j.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + j.Name})
	if err != nil {
		return []string{"(listing pods: " + err.Error() + ")"}
	}
	var out []string
	for _, p := range list.Items {
		out = append(out, p.Name+" "+string(p.Status.Phase))
	}
	sort.Strings(out)
	return out
}
