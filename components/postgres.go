package components

import (
	"fmt"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/internal/pitr"
	"github.com/virdx/vxplatform-infra/stacks"
)

// Keys of the Postgres Secret, which is the only way workloads learn the database
// credentials.
const (
	PostgresKeyHost     = "host"
	PostgresKeyPort     = "port"
	PostgresKeyDatabase = "database"
	PostgresKeyUser     = "username"
	PostgresKeyPassword = "password"
	PostgresKeyURL      = "url"
)

const (
	postgresUser     = "dataplatform"
	postgresDatabase = "dataplatform"
	// postgresUID is the postgres user of the official image.
	postgresUID  = 999
	postgresData = "/var/lib/postgresql/data"
)

// PostgresArgs are the inputs of Postgres.
type PostgresArgs struct {
	Env   stacks.Environment
	Image pulumi.StringInput
	// Archive is set when the environment has point-in-time recovery
	// (Env.Backup.PointInTime).
	Archive *PostgresArchive
}

// PostgresArchive is what a database that archives its WAL needs: the archive
// identity's storage access Secret and the sidecar's server certificate Secret.
type PostgresArchive struct {
	AccessSecret pulumi.StringInput
	ServerSecret pulumi.StringInput
}

// Postgres is the environment's database: a StatefulSet with its volume, a Service
// and a Secret whose password is generated and stays a Pulumi secret.
type Postgres struct {
	pulumi.ResourceState

	ServiceName pulumi.StringOutput `pulumi:"serviceName"`
	SecretName  pulumi.StringOutput `pulumi:"secretName"`
	// Ready is the StatefulSet: jobs that need the database depend on it.
	Ready pulumi.Resource `pulumi:"-"`
}

// NewPostgres creates the database of an environment.
func NewPostgres(ctx *pulumi.Context, name string, args *PostgresArgs, opts ...pulumi.ResourceOption) (*Postgres, error) {
	component := &Postgres{}
	if err := ctx.RegisterComponentResource(typePrefix+"Postgres", name, component, opts...); err != nil {
		return nil, err
	}
	env := args.Env
	parent := pulumi.Parent(component)
	password, err := random.NewRandomPassword(ctx, name+"-password", &random.RandomPasswordArgs{
		Length: pulumi.Int(32),
		// URL-safe, so the connection URL needs no escaping.
		Special: pulumi.Bool(false),
	}, parent)
	if err != nil {
		return nil, err
	}
	serviceName := env.ResourceName(partPostgres)
	host := fmt.Sprintf("%s.%s.svc", serviceName, env.Namespace)
	url := pulumi.Sprintf("postgresql://%s:%s@%s:%d/%s", postgresUser, password.Result, host, postgresPort, postgresDatabase)
	secret, err := corev1.NewSecret(ctx, name+"-credentials", &corev1.SecretArgs{
		Metadata: objectMeta(env, "postgres-credentials", partPostgres),
		Type:     pulumi.String("Opaque"),
		StringData: pulumi.StringMap{
			PostgresKeyHost:     pulumi.String(host),
			PostgresKeyPort:     pulumi.Sprintf("%d", postgresPort),
			PostgresKeyDatabase: pulumi.String(postgresDatabase),
			PostgresKeyUser:     pulumi.String(postgresUser),
			PostgresKeyPassword: password.Result,
			PostgresKeyURL:      url, // secret: it is built from the generated password
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	secretName := secret.Metadata.Name().Elem()
	service, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: objectMeta(env, partPostgres, partPostgres),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: selectorLabels(env, partPostgres),
			Ports:    postgresServicePorts(args.Archive != nil),
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	set, err := appsv1.NewStatefulSet(ctx, name, &appsv1.StatefulSetArgs{
		Metadata: objectMeta(env, partPostgres, partPostgres),
		Spec:     postgresSpec(env, args, serviceName, secretName),
	}, parent, pulumi.DependsOn([]pulumi.Resource{service}))
	if err != nil {
		return nil, err
	}
	component.ServiceName = service.Metadata.Name().Elem()
	component.SecretName = secretName
	component.Ready = set
	if err := ctx.RegisterResourceOutputs(component, pulumi.Map{
		"serviceName": component.ServiceName,
		"secretName":  component.SecretName,
	}); err != nil {
		return nil, err
	}
	return component, nil
}

func postgresServicePorts(archives bool) corev1.ServicePortArray {
	ports := corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String("postgres"), Port: pulumi.Int(postgresPort), TargetPort: pulumi.String("postgres")}}
	if archives {
		ports = append(ports, corev1.ServicePortArgs{Name: pulumi.String(sidecarName), Port: pulumi.Int(archiveServerPort), TargetPort: pulumi.String(sidecarName)})
	}
	return ports
}

func postgresSpec(env stacks.Environment, args *PostgresArgs, serviceName string, secret pulumi.StringOutput) *appsv1.StatefulSetSpecArgs {
	isReady := execProbe(10, "pg_isready", "-h", "127.0.0.1", "-U", postgresUser, "-d", postgresDatabase)
	container := containerSpec{
		Name:     partPostgres,
		Image:    args.Image,
		Port:     postgresPort,
		PortName: "postgres",
		Env: corev1.EnvVarArray{
			secretEnv("POSTGRES_USER", secret, PostgresKeyUser),
			secretEnv("POSTGRES_PASSWORD", secret, PostgresKeyPassword),
			secretEnv("POSTGRES_DB", secret, PostgresKeyDatabase),
			plainEnv("PGDATA", postgresData+"/pgdata"),
		},
		Resources:     env.Sizing.Postgres.Resources,
		Readiness:     isReady,
		Liveness:      execProbe(30, "pg_isready", "-h", "127.0.0.1", "-U", postgresUser, "-d", postgresDatabase),
		WritablePaths: []string{"/var/run/postgresql", "/tmp"},
		Mounts:        corev1.VolumeMountArray{dataMount},
	}
	var pod *corev1.PodSpecArgs
	if args.Archive != nil {
		pod = archivingPodSpec(env, args, container)
	} else {
		pod = podSpec(podArgs{RunAsUser: postgresUID, Containers: []containerSpec{container}})
	}
	return &appsv1.StatefulSetSpecArgs{
		ServiceName: pulumi.String(serviceName),
		Replicas:    pulumi.Int(env.Sizing.Postgres.Replicas),
		Selector:    &metav1.LabelSelectorArgs{MatchLabels: selectorLabels(env, partPostgres)},
		Template: &corev1.PodTemplateSpecArgs{
			Metadata: &metav1.ObjectMetaArgs{Labels: objectLabels(env, partPostgres)},
			Spec:     pod,
		},
		PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs{
			WhenDeleted: pulumi.String(claimRetention(env.Sizing.PostgresVolume)), WhenScaled: pulumi.String("Retain"),
		},
		VolumeClaimTemplates: corev1.PersistentVolumeClaimTypeArray{corev1.PersistentVolumeClaimTypeArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("data"), Labels: objectLabels(env, partPostgres)},
			Spec:     claimSpec(env.Sizing.PostgresVolume),
		}},
	}
}

// dataMount is the database volume where the server and its sidecar expect it.
var dataMount = corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String(postgresData)}

// claimRetention is the StatefulSet's policy for a claim when the set is deleted.
func claimRetention(vol stacks.Volume) string {
	if vol.RetainOnDelete {
		return "Retain"
	}
	return "Delete"
}

// archivingPodSpec is the database pod with point-in-time recovery: the server
// archives every WAL segment with pgBackRest, and a pgBackRest sidecar creates
// the stanza and serves the data directory to the backup jobs over TLS. The two
// share the data volume and the socket directory.
func archivingPodSpec(env stacks.Environment, args *PostgresArgs, database containerSpec) *corev1.PodSpecArgs {
	settings := pointInTimeSettings(env)
	database.Args = append([]string{"postgres"}, settings.PostgresArgs()...)
	database.Env = append(database.Env, archiveEnv(settings.DatabaseEnv(), args.Archive.AccessSecret)...)
	database.WritablePaths = []string{"/tmp"}
	socket := corev1.VolumeMountArgs{Name: pulumi.String(socketVolume), MountPath: pulumi.String(socketDir)}
	database.Mounts = append(database.Mounts, socket)

	ca, cert, key := tlsFiles()
	server := pitr.TLSServer{Address: "0.0.0.0", Port: archiveServerPort, CertFile: cert, KeyFile: key, CAFile: ca, ClientCN: archiveClientCN}
	listening := &corev1.ProbeArgs{
		TcpSocket:        &corev1.TCPSocketActionArgs{Port: pulumi.String(sidecarName)},
		PeriodSeconds:    pulumi.Int(10),
		FailureThreshold: pulumi.Int(6),
	}
	sidecar := containerSpec{
		Name:          sidecarName,
		Image:         args.Image,
		Command:       []string{sidecarCommand},
		Env:           archiveEnv(settings.SidecarEnv(server), args.Archive.AccessSecret),
		Port:          archiveServerPort,
		PortName:      sidecarName,
		Resources:     env.Sizing.Archiver,
		Readiness:     listening,
		Liveness:      listening,
		WritablePaths: []string{"/tmp"},
		Mounts: corev1.VolumeMountArray{
			dataMount,
			socket, tlsMount(),
		},
	}
	return podSpec(podArgs{
		RunAsUser:  postgresUID,
		Containers: []containerSpec{database, sidecar},
		Volumes: corev1.VolumeArray{
			corev1.VolumeArgs{Name: pulumi.String(socketVolume), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("16Mi")}},
			tlsVolume(args.Archive.ServerSecret),
		},
	})
}
