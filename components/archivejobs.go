package components

import (
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/internal/pitr"
	"github.com/virdx/vxplatform-infra/stacks"
)

// ArchiveJobsArgs are the inputs of ArchiveJobs.
type ArchiveJobsArgs struct {
	Env stacks.Environment
	// Image is the database image (pgBackRest and vxpitr).
	Image pulumi.StringInput
	// AccessSecret is the archive identity's storage access Secret; ClientSecret
	// the jobs' certificate for the database's pgBackRest sidecar.
	AccessSecret pulumi.StringInput
	ClientSecret pulumi.StringInput
	// Database is what the jobs wait for.
	Database pulumi.Resource
}

// ArchiveJobs are the scheduled pgBackRest jobs of a database with point-in-time
// recovery (full and differential backups, verify, the freshness check that is
// the alert), and the suspended template of a restore to a point in time.
type ArchiveJobs struct {
	pulumi.ResourceState

	CronJobs pulumi.StringArrayOutput `pulumi:"cronJobs"`
	// Restore is the suspended CronJob an operator creates a restore Job from.
	Restore pulumi.StringOutput `pulumi:"restore"`
}

// Objects of a restore to a point in time, which the operator creates
// (internal/pitr/README.md): the fresh volume and the target time.
const (
	restoreClaimName     = "pitr-restore"
	restoreRequestName   = "pitr-restore-request"
	restoreRequestTarget = "target"
	restoreMount         = "/restore"
)

// archiveRun is one scheduled pgBackRest job.
type archiveRun struct {
	name     string
	schedule string
	command  []string
}

// NewArchiveJobs creates the pgBackRest CronJobs of an environment's database.
func NewArchiveJobs(ctx *pulumi.Context, name string, args *ArchiveJobsArgs, opts ...pulumi.ResourceOption) (*ArchiveJobs, error) {
	component := &ArchiveJobs{}
	if err := ctx.RegisterComponentResource(typePrefix+"ArchiveJobs", name, component, opts...); err != nil {
		return nil, err
	}
	env := args.Env
	childOpts := []pulumi.ResourceOption{pulumi.Parent(component), pulumi.DependsOn([]pulumi.Resource{args.Database})}
	schedules := env.Backup.PointInTime.Schedules
	runs := []archiveRun{
		{"pitr-full", schedules.Full, pitr.BackupCommand(pitr.BackupFull)},
		{"pitr-diff", schedules.Diff, pitr.BackupCommand(pitr.BackupDiff)},
		{"pitr-verify", schedules.Verify, []string{"pgbackrest", "verify"}},
		{"pitr-check", schedules.Check, []string{"vxpitr", "check"}},
	}
	var names pulumi.StringArray
	for _, run := range runs {
		cron, err := batchv1.NewCronJob(ctx, name+"-"+run.name, &batchv1.CronJobArgs{
			Metadata: objectMeta(env, run.name, partArchive),
			Spec:     cronSpec(run.schedule, false, archiveJob(env, args, run.command)),
		}, childOpts...)
		if err != nil {
			return nil, err
		}
		names = append(names, cron.Metadata.Name().Elem())
	}
	// kubectl create job --from=cronjob/<name>, after creating the claim and the
	// request ConfigMap: the Job fails, naming what is missing, without them.
	restore, err := batchv1.NewCronJob(ctx, name+"-pitr-restore", &batchv1.CronJobArgs{
		Metadata: objectMeta(env, "pitr-restore", partArchive),
		Spec:     onDemandSpec(restoreJob(env, args)),
	}, childOpts...)
	if err != nil {
		return nil, err
	}
	component.CronJobs = names.ToStringArrayOutput()
	component.Restore = restore.Metadata.Name().Elem()
	if err := ctx.RegisterResourceOutputs(component, pulumi.Map{
		"cronJobs": component.CronJobs,
		"restore":  component.Restore,
	}); err != nil {
		return nil, err
	}
	return component, nil
}

// archiveJob runs pgBackRest against the repository directly and the database's
// files through its sidecar's TLS server.
func archiveJob(env stacks.Environment, args *ArchiveJobsArgs, command []string) *batchv1.JobTemplateSpecArgs {
	ca, cert, key := tlsFiles()
	vars := pointInTimeSettings(env).BackupJobEnv(pitr.TLSClient{
		Host: archiveServerHost(env), Port: archiveServerPort, CertFile: cert, KeyFile: key, CAFile: ca,
	})
	container := containerSpec{
		Name: partArchive, Image: args.Image, Command: command,
		Env:           archiveEnv(vars, args.AccessSecret),
		Resources:     env.Sizing.Job,
		WritablePaths: []string{"/tmp"},
		Mounts:        corev1.VolumeMountArray{tlsMount()},
	}
	return archiveJobTemplate(env, container, corev1.VolumeArray{tlsVolume(args.ClientSecret)})
}

// restoreJob restores the repository to the requested time into the fresh
// claim and verifies the copy (vxpitr restore); it never touches the running
// database, and swapping the copy in is a separate, deliberate step.
func restoreJob(env stacks.Environment, args *ArchiveJobsArgs) *batchv1.JobTemplateSpecArgs {
	target := corev1.EnvVarArgs{Name: pulumi.String(pitr.EnvTargetTime), ValueFrom: &corev1.EnvVarSourceArgs{
		ConfigMapKeyRef: &corev1.ConfigMapKeySelectorArgs{Name: pulumi.String(env.ResourceName(restoreRequestName)), Key: pulumi.String(restoreRequestTarget)},
	}}
	vars := archiveEnv(pointInTimeSettings(env).RepositoryEnv(), args.AccessSecret)
	vars = append(vars, target, plainEnv(pitr.EnvRestoreDir, restoreMount+"/pgdata"))
	container := containerSpec{
		Name: partArchive, Image: args.Image, Command: []string{"vxpitr", "restore"},
		Env:           vars,
		Resources:     env.Sizing.Job,
		WritablePaths: []string{"/tmp", socketDir},
		Mounts:        corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("restore"), MountPath: pulumi.String(restoreMount)}},
	}
	claim := corev1.VolumeArgs{Name: pulumi.String("restore"), PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{
		ClaimName: pulumi.String(env.ResourceName(restoreClaimName)),
	}}
	return archiveJobTemplate(env, container, corev1.VolumeArray{claim})
}

func archiveJobTemplate(env stacks.Environment, container containerSpec, volumes corev1.VolumeArray) *batchv1.JobTemplateSpecArgs {
	return jobTemplateOf(env, partArchive, podArgs{RunAsUser: postgresUID, Restart: restartNever, Volumes: volumes, Containers: []containerSpec{container}})
}
