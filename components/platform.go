package components

import (
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-docker/sdk/v4/go/docker"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/internal/minio"
	"github.com/virdx/vxplatform-infra/stacks"
)

// ProviderCredentials are the secrets a stack's config supplies to the providers:
// the central MinIO's admin and the registry that resolves image digests.
type ProviderCredentials struct {
	MinioUser        pulumi.StringInput
	MinioPassword    pulumi.StringInput
	RegistryUser     pulumi.StringInput // optional, with RegistryPassword
	RegistryPassword pulumi.StringInput
}

// PlatformArgs are the inputs of Platform.
type PlatformArgs struct {
	Env                 stacks.Environment
	ProviderCredentials ProviderCredentials
}

// Platform is the whole data platform of one environment. Its tagged fields are
// the stack outputs, written down here only: the component registers them, the
// program exports them, and tools that print them use PlatformOutputNames.
type Platform struct {
	pulumi.ResourceState

	Namespace       pulumi.StringOutput      `pulumi:"namespace"`
	FrontendService pulumi.StringOutput      `pulumi:"frontendService"`
	APIService      pulumi.StringOutput      `pulumi:"apiService"`
	PostgresService pulumi.StringOutput      `pulumi:"postgresService"`
	Hostname        pulumi.StringOutput      `pulumi:"hostname"`
	TargetBucket    pulumi.StringOutput      `pulumi:"targetBucket"`
	ReadBuckets     pulumi.StringArrayOutput `pulumi:"readBuckets"`
	S3Endpoints     pulumi.StringMapOutput   `pulumi:"s3Endpoints"`
	Images          pulumi.StringMapOutput   `pulumi:"images"`
}

// NewPlatform creates everything one environment consists of. The dependency graph
// between the parts is visible here: each part takes the previous parts' outputs.
func NewPlatform(ctx *pulumi.Context, name string, args *PlatformArgs, opts ...pulumi.ResourceOption) (*Platform, error) {
	p := &Platform{}
	if err := ctx.RegisterComponentResource(typePrefix+"Platform", name, p, opts...); err != nil {
		return nil, err
	}
	env := args.Env
	p.Namespace = pulumi.String(env.Namespace).ToStringOutput()
	empty := pulumi.String("").ToStringOutput()
	p.FrontendService, p.APIService, p.PostgresService, p.Hostname, p.TargetBucket = empty, empty, empty, empty, empty
	p.ReadBuckets = pulumi.ToStringArray(env.Storage.ReadBuckets).ToStringArrayOutput()
	p.S3Endpoints = pulumi.StringMap{}.ToStringMapOutput()
	p.Images = pulumi.StringMap{}.ToStringMapOutput()

	k8s, err := kubernetes.NewProvider(ctx, name+"-kubernetes", &kubernetes.ProviderArgs{
		Context: pulumi.StringPtr(env.Cluster.KubeContext),
		// Never fall back to a namespace from the kubeconfig: every object names its own.
		Namespace: pulumi.StringPtr(env.Namespace),
	}, pulumi.Parent(p))
	if err != nil {
		return nil, err
	}
	inCluster := []pulumi.ResourceOption{pulumi.Parent(p), pulumi.Provider(k8s)}
	var namespace []pulumi.Resource
	if env.OwnsNamespace {
		ns, err := NewNamespace(ctx, name+"-namespace", &NamespaceArgs{Env: env}, inCluster...)
		if err != nil {
			return nil, err
		}
		namespace = []pulumi.Resource{ns}
	}
	if env.HasWorkloads {
		if err := p.deployWorkloads(ctx, name, args, k8s, namespace); err != nil {
			return nil, err
		}
	}
	if err := ctx.RegisterResourceOutputs(p, p.Outputs()); err != nil {
		return nil, err
	}
	return p, nil
}

// Outputs are the platform's outputs by name, as the stack exports them.
func (p *Platform) Outputs() pulumi.Map {
	outputs := pulumi.Map{}
	v := reflect.ValueOf(p).Elem()
	for _, field := range platformOutputFields() {
		outputs[field.name] = v.Field(field.index).Interface().(pulumi.Output)
	}
	return outputs
}

// PlatformOutputNames are the names of the stack outputs, sorted.
func PlatformOutputNames() []string {
	var names []string
	for _, field := range platformOutputFields() {
		names = append(names, field.name)
	}
	return slices.Sorted(slices.Values(names))
}

type outputField struct {
	name  string
	index int
}

// platformOutputFields are the Platform fields tagged as outputs.
func platformOutputFields() []outputField {
	var fields []outputField
	t := reflect.TypeFor[Platform]()
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("pulumi"); name != "" && name != "-" {
			fields = append(fields, outputField{name: name, index: i})
		}
	}
	return fields
}

// deployWorkloads creates everything but the namespace: storage, database, web
// services, jobs, traffic rules and the optional ingress.
func (p *Platform) deployWorkloads(ctx *pulumi.Context, name string, args *PlatformArgs, k8s *kubernetes.Provider, namespace []pulumi.Resource) error {
	env := args.Env
	// Generated passwords and keys come from an explicit provider like everything else.
	randomness, err := random.NewProvider(ctx, name+"-random", &random.ProviderArgs{}, pulumi.Parent(p))
	if err != nil {
		return err
	}
	central, err := minio.NewProvider(ctx, name+"-central-minio", &minio.ProviderArgs{
		MinioServer:   pulumi.String(env.Storage.Central.HostPort),
		MinioUser:     args.ProviderCredentials.MinioUser,
		MinioPassword: args.ProviderCredentials.MinioPassword,
		MinioSsl:      pulumi.BoolPtr(env.Storage.Central.UseTLS),
	}, pulumi.Parent(p))
	if err != nil {
		return err
	}
	var registry *docker.Provider
	if env.Images.PinDigests {
		if registry, err = newRegistryProvider(ctx, name+"-registry", args.ProviderCredentials, pulumi.Parent(p)); err != nil {
			return err
		}
	}
	// Each image is resolved once; the workloads and the stack output share it.
	images := pulumi.StringMap{}
	byRole := env.Images.ByRole()
	for _, role := range slices.Sorted(maps.Keys(byRole)) {
		images[role] = imageReference(ctx, byRole[role], env.Images.PinDigests, registry, p)
	}
	image := func(role string) pulumi.StringOutput { return images[role].(pulumi.StringOutput) }
	opts := []pulumi.ResourceOption{pulumi.Parent(p), pulumi.Providers(k8s, randomness, central), pulumi.DependsOn(namespace)}

	if _, err := NewTrafficRules(ctx, name+"-traffic", &TrafficRulesArgs{Env: env}, opts...); err != nil {
		return err
	}
	bucket, err := NewBucket(ctx, name+"-bucket", &BucketArgs{Env: env}, opts...)
	if err != nil {
		return err
	}
	stores := storeEndpoints{central: env.Storage.Central.HostPort, centralTLS: env.Storage.Central.UseTLS, centralSecrets: bucket.AccessSecrets}
	endpoints := pulumi.StringMap{"central": pulumi.String(env.Storage.Central.HostPort)}
	if env.Storage.TargetIsPreviewStore {
		store, err := NewObjectStore(ctx, name+"-object-store", &ObjectStoreArgs{
			Env: env, Image: image("objectStore"), ToolImage: image("objectTool"),
		}, opts...)
		if err != nil {
			return err
		}
		stores.preview, stores.previewSecrets = store.Endpoint, store.AccessSecrets
		endpoints["preview"] = store.Endpoint
	}
	archiveSecret := bucket.AccessSecrets.MapIndex(pulumi.String(string(stacks.PurposeArchive)))
	var archive *PostgresArchive
	var certificates *ArchiveCertificates
	if env.Backup.PointInTime != nil {
		if certificates, err = NewArchiveCertificates(ctx, name+"-archive-certificates", &ArchiveCertificatesArgs{Env: env}, opts...); err != nil {
			return err
		}
		archive = &PostgresArchive{AccessSecret: archiveSecret, ServerSecret: certificates.ServerSecret}
	}
	db, err := NewPostgres(ctx, name+"-postgres", &PostgresArgs{Env: env, Image: image("postgres"), Archive: archive}, opts...)
	if err != nil {
		return err
	}
	if certificates != nil {
		if _, err := NewArchiveJobs(ctx, name+"-archive", &ArchiveJobsArgs{
			Env: env, Image: image("postgres"), AccessSecret: archiveSecret, ClientSecret: certificates.ClientSecret, Database: db.Ready,
		}, opts...); err != nil {
			return err
		}
	}
	api, err := NewWebService(ctx, name+"-api", &WebServiceArgs{
		Env: env, Part: partAPI, Image: image("api"), Workload: env.Sizing.API, Port: apiPort,
		ReadyPath: "/health", LivePath: "/health",
		Variables: append(corev1.EnvVarArray{secretEnv("DATABASE_URL", db.SecretName, PostgresKeyURL)}, stores.variables(env, stacks.PurposeApp)...),
	}, opts...)
	if err != nil {
		return err
	}
	frontend, err := NewWebService(ctx, name+"-frontend", &WebServiceArgs{
		Env: env, Part: partFrontend, Image: image("frontend"), Workload: env.Sizing.Frontend, Port: frontendPort,
		ReadyPath: "/", LivePath: "/",
		Variables: append(corev1.EnvVarArray{plainEnv("API_URL", "http://"+env.ResourceName(partAPI))}, stores.variables(env, stacks.PurposeViewer)...),
	}, opts...)
	if err != nil {
		return err
	}
	if _, err := NewBackupJob(ctx, name+"-backup", &BackupJobArgs{
		Env: env, Image: image("backup"), PostgresSecret: db.SecretName, Database: db.Ready,
		BackupAccessSecret:  bucket.AccessSecrets.MapIndex(pulumi.String(string(stacks.PurposeBackup))),
		RestoreAccessSecret: bucket.AccessSecrets.MapIndex(pulumi.String(string(stacks.PurposeRestore))),
	}, opts...); err != nil {
		return err
	}
	if env.Ingress.Enabled {
		ingress, err := NewIngress(ctx, name+"-ingress", &IngressArgs{Env: env, FrontendService: frontend.ServiceName}, opts...)
		if err != nil {
			return err
		}
		p.Hostname = ingress.Hostname
	}
	p.FrontendService, p.APIService, p.PostgresService = frontend.ServiceName, api.ServiceName, db.ServiceName
	p.TargetBucket = pulumi.String(env.Storage.TargetBucket).ToStringOutput()
	p.S3Endpoints = endpoints.ToStringMapOutput()
	p.Images = images.ToStringMapOutput()
	return nil
}

// newRegistryProvider is the Docker provider that resolves image digests, with
// registry credentials when the stack has them (ghcr.io images are private).
func newRegistryProvider(ctx *pulumi.Context, name string, creds ProviderCredentials, opts ...pulumi.ResourceOption) (*docker.Provider, error) {
	args := &docker.ProviderArgs{}
	if creds.RegistryUser != nil && creds.RegistryPassword != nil {
		args.RegistryAuth = docker.ProviderRegistryAuthArray{docker.ProviderRegistryAuthArgs{
			Address:  pulumi.String("ghcr.io"),
			Username: creds.RegistryUser,
			Password: creds.RegistryPassword,
		}}
	}
	return docker.NewProvider(ctx, name, args, opts...)
}

// storeEndpoints knows where each object store is and which Secret holds each
// identity's keys, and turns that into a container's S3 environment.
type storeEndpoints struct {
	central        string
	centralTLS     bool
	centralSecrets pulumi.StringMapOutput
	preview        pulumi.StringOutput
	previewSecrets pulumi.StringMapOutput
}

// variables is the S3 part of a web service's environment: S3_* for the store it
// writes (or views), and S3_SOURCE_* for the central store when that is a
// different one (previews read public data from it).
func (s storeEndpoints) variables(env stacks.Environment, purpose stacks.Purpose) corev1.EnvVarArray {
	secretOf := func(m pulumi.StringMapOutput) pulumi.StringOutput { return m.MapIndex(pulumi.String(string(purpose))) }
	vars := corev1.EnvVarArray{
		plainEnv("S3_BUCKET", env.Storage.TargetBucket),
		plainEnv("S3_READ_BUCKETS", strings.Join(env.Storage.ReadBuckets, ",")),
	}
	central := pulumi.String(s.central)
	if !env.Storage.TargetIsPreviewStore {
		return append(vars, storeVariables("S3_", central, s.centralTLS, secretOf(s.centralSecrets))...)
	}
	vars = append(vars, storeVariables("S3_", s.preview, false, secretOf(s.previewSecrets))...)
	return append(vars, storeVariables("S3_SOURCE_", central, s.centralTLS, secretOf(s.centralSecrets))...)
}

// storeVariables tell a container where one object store is and which Secret
// holds its keys.
func storeVariables(prefix string, endpoint pulumi.StringInput, useTLS bool, secret pulumi.StringOutput) corev1.EnvVarArray {
	return corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String(prefix + "ENDPOINT"), Value: endpoint},
		plainEnv(prefix+"USE_TLS", boolString(useTLS)),
		secretEnv(prefix+"ACCESS_KEY_ID", secret, StorageAccessKeyID),
		secretEnv(prefix+"SECRET_ACCESS_KEY", secret, StorageAccessSecretKey),
	}
}
