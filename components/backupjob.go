package components

import (
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/internal/backupenv"
	"github.com/virdx/vxplatform-infra/stacks"
)

const (
	backupCommand = "vxbackup"
	// backupUID is the non-root user of the backup image.
	backupUID = 10001
)

// BackupJobArgs are the inputs of BackupJob.
type BackupJobArgs struct {
	Env            stacks.Environment
	Image          pulumi.StringInput
	PostgresSecret pulumi.StringInput
	// BackupAccessSecret and RestoreAccessSecret name the storage access Secrets
	// of the backup and restore identities; each is needed only when that job exists.
	BackupAccessSecret  pulumi.StringInput
	RestoreAccessSecret pulumi.StringInput
	// Database is what the jobs wait for.
	Database pulumi.Resource
}

// BackupJob is the environment's backup CronJob and, where it is restored from
// another environment's backups, its restore job.
type BackupJob struct {
	pulumi.ResourceState

	// BackupCronJob is empty where the environment is not backed up.
	BackupCronJob pulumi.StringOutput `pulumi:"backupCronJob"`
	// Restore is the restore Job (restore on create) or the suspended restore CronJob
	// to start by hand; empty where there is none.
	Restore pulumi.StringOutput `pulumi:"restore"`
}

// NewBackupJob creates the backup and restore jobs of an environment.
func NewBackupJob(ctx *pulumi.Context, name string, args *BackupJobArgs, opts ...pulumi.ResourceOption) (*BackupJob, error) {
	component := &BackupJob{BackupCronJob: pulumi.String("").ToStringOutput(), Restore: pulumi.String("").ToStringOutput()}
	if err := ctx.RegisterComponentResource(typePrefix+"BackupJob", name, component, opts...); err != nil {
		return nil, err
	}
	env := args.Env
	childOpts := []pulumi.ResourceOption{pulumi.Parent(component), pulumi.DependsOn([]pulumi.Resource{args.Database})}
	if env.Backup.Enabled {
		backup := jobTemplate(env, args, jobRun{
			Part: partBackup, Verb: "dump", Environment: env.Backup.Environment,
			Bucket: env.Backup.Bucket, Prefix: env.Backup.Prefix, AccessSecret: args.BackupAccessSecret,
		})
		cron, err := batchv1.NewCronJob(ctx, name+"-backup", &batchv1.CronJobArgs{
			Metadata: objectMeta(env, "backup", partBackup),
			Spec:     cronSpec(env.Backup.Schedule, false, backup),
		}, childOpts...)
		if err != nil {
			return nil, err
		}
		component.BackupCronJob = cron.Metadata.Name().Elem()
	}
	if src := env.Backup.RestoreFrom; src != nil {
		restore := jobTemplate(env, args, jobRun{
			Part: partRestore, Verb: "restore", Environment: src.Environment,
			Bucket: src.Bucket, Prefix: src.Prefix, AccessSecret: args.RestoreAccessSecret,
		})
		objectName := "restore-from-" + src.Environment
		if src.OnCreate {
			job, err := batchv1.NewJob(ctx, name+"-restore", &batchv1.JobArgs{
				Metadata: objectMeta(env, objectName, partRestore),
				Spec:     restore.Spec,
			}, childOpts...)
			if err != nil {
				return nil, err
			}
			component.Restore = job.Metadata.Name().Elem()
		} else {
			cron, err := batchv1.NewCronJob(ctx, name+"-restore", &batchv1.CronJobArgs{
				Metadata: objectMeta(env, objectName, partRestore),
				Spec:     onDemandSpec(restore),
			}, childOpts...)
			if err != nil {
				return nil, err
			}
			component.Restore = cron.Metadata.Name().Elem()
		}
	}
	if err := ctx.RegisterResourceOutputs(component, pulumi.Map{
		"backupCronJob": component.BackupCronJob,
		"restore":       component.Restore,
	}); err != nil {
		return nil, err
	}
	return component, nil
}

// onDemandSpec is a suspended CronJob: the template of a Job that an operator
// starts by hand (kubectl create job --from=cronjob/<name>). Its schedule never
// fires while it is suspended.
func onDemandSpec(job *batchv1.JobTemplateSpecArgs) *batchv1.CronJobSpecArgs {
	return cronSpec("0 0 1 1 *", true, job)
}

func cronSpec(schedule string, suspended bool, job *batchv1.JobTemplateSpecArgs) *batchv1.CronJobSpecArgs {
	return &batchv1.CronJobSpecArgs{
		Schedule:                   pulumi.String(schedule),
		TimeZone:                   pulumi.String("Etc/UTC"),
		Suspend:                    pulumi.Bool(suspended),
		ConcurrencyPolicy:          pulumi.String("Forbid"),
		StartingDeadlineSeconds:    pulumi.Int(3600),
		SuccessfulJobsHistoryLimit: pulumi.Int(3),
		FailedJobsHistoryLimit:     pulumi.Int(5),
		JobTemplate:                job,
	}
}

// jobRun is one run of the backup tool: what it does and which backups it touches.
type jobRun struct {
	// Part names the container and the app.kubernetes.io/name of its pods.
	Part string
	// Verb is the vxbackup command: dump or restore.
	Verb string
	// Environment is the environment whose backups the run writes or reads.
	Environment string
	// Bucket and Prefix are where those backups are.
	Bucket string
	Prefix string
	// AccessSecret is the storage access Secret of the identity the run uses.
	AccessSecret pulumi.StringInput
}

// jobTemplate is one run of the backup tool against this environment's database.
func jobTemplate(env stacks.Environment, args *BackupJobArgs, run jobRun) *batchv1.JobTemplateSpecArgs {
	pg := args.PostgresSecret
	container := containerSpec{
		Name:    run.Part,
		Image:   args.Image,
		Command: []string{backupCommand},
		Args:    []string{run.Verb},
		Env: corev1.EnvVarArray{
			plainEnv(backupenv.Environment, run.Environment),
			plainEnv(backupenv.S3Endpoint, env.Storage.Central.HostPort),
			plainEnv(backupenv.S3UseTLS, boolString(env.Storage.Central.UseTLS)),
			plainEnv(backupenv.S3Bucket, run.Bucket),
			plainEnv(backupenv.S3Prefix, run.Prefix),
			secretEnv(backupenv.S3AccessKey, run.AccessSecret, StorageAccessKeyID),
			secretEnv(backupenv.S3SecretKey, run.AccessSecret, StorageAccessSecretKey),
			secretEnv(backupenv.PGHost, pg, PostgresKeyHost),
			secretEnv(backupenv.PGPort, pg, PostgresKeyPort),
			secretEnv(backupenv.PGDatabase, pg, PostgresKeyDatabase),
			secretEnv(backupenv.PGUser, pg, PostgresKeyUser),
			secretEnv(backupenv.PGPassword, pg, PostgresKeyPassword),
		},
		Resources:     env.Sizing.Job,
		WritablePaths: []string{"/tmp"},
	}
	return jobTemplateOf(env, run.Part, podArgs{RunAsUser: backupUID, Restart: restartNever, Containers: []containerSpec{container}})
}

// jobTemplateOf is the one shape of every job of the platform: one try more,
// six hours at most.
func jobTemplateOf(env stacks.Environment, part string, pod podArgs) *batchv1.JobTemplateSpecArgs {
	return &batchv1.JobTemplateSpecArgs{
		Metadata: &metav1.ObjectMetaArgs{Labels: objectLabels(env, part)},
		Spec: &batchv1.JobSpecArgs{
			// No TTL: a finished restore Job that vanished would be recreated by the
			// next refresh and restore over live data. CronJob history limits prune.
			BackoffLimit:          pulumi.Int(1),
			ActiveDeadlineSeconds: pulumi.Int(6 * 3600),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: objectLabels(env, part)},
				Spec:     podSpec(pod),
			},
		},
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
