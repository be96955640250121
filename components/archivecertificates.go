package components

import (
	"crypto/sha256"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/virdx/vxplatform-infra/internal/pki"
	"github.com/virdx/vxplatform-infra/stacks"
)

// ArchiveCertificatesArgs are the inputs of ArchiveCertificates.
type ArchiveCertificatesArgs struct {
	Env stacks.Environment
}

// ArchiveCertificates are the certificates of the pgBackRest TLS link of one
// database: the sidecar's server certificate (for the database Service's name)
// and the jobs' client certificate, signed by a CA of this database alone, as
// two Secrets. They are derived from a generated seed that stays a Pulumi
// secret (internal/pki); `pulumi up --replace` of the seed rotates them.
type ArchiveCertificates struct {
	pulumi.ResourceState

	ServerSecret pulumi.StringOutput `pulumi:"serverSecret"`
	ClientSecret pulumi.StringOutput `pulumi:"clientSecret"`
}

// NewArchiveCertificates issues the certificates of an environment's database.
func NewArchiveCertificates(ctx *pulumi.Context, name string, args *ArchiveCertificatesArgs, opts ...pulumi.ResourceOption) (*ArchiveCertificates, error) {
	component := &ArchiveCertificates{}
	if err := ctx.RegisterComponentResource(typePrefix+"ArchiveCertificates", name, component, opts...); err != nil {
		return nil, err
	}
	env := args.Env
	parent := pulumi.Parent(component)
	seed, err := random.NewRandomPassword(ctx, name+"-seed", &random.RandomPasswordArgs{Length: pulumi.Int(64), Special: pulumi.Bool(false)}, parent)
	if err != nil {
		return nil, err
	}
	host := archiveServerHost(env)
	request := pki.Request{
		Authority:   "vxplatform " + env.Backup.PointInTime.Stanza + " pgBackRest CA",
		ServerNames: []string{host, host + ".cluster.local", env.ResourceName(partPostgres)},
		ClientCN:    archiveClientCN,
	}
	bundle := seed.Result.ApplyT(func(s string) (pki.Bundle, error) {
		sum := sha256.Sum256([]byte(s))
		return pki.Issue(sum[:], request)
	})
	field := func(pick func(pki.Bundle) string) pulumi.StringOutput {
		// Outputs of a secret stay secret: the keys never show in a diff.
		return pulumi.ToSecret(bundle.ApplyT(func(v any) string { return pick(v.(pki.Bundle)) })).(pulumi.StringOutput)
	}
	ca := field(func(b pki.Bundle) string { return b.CACert })
	server, err := tlsSecret(ctx, name+"-server", env, "pgbackrest-server-tls", ca,
		field(func(b pki.Bundle) string { return b.ServerCert }), field(func(b pki.Bundle) string { return b.ServerKey }), parent)
	if err != nil {
		return nil, err
	}
	client, err := tlsSecret(ctx, name+"-client", env, "pgbackrest-client-tls", ca,
		field(func(b pki.Bundle) string { return b.ClientCert }), field(func(b pki.Bundle) string { return b.ClientKey }), parent)
	if err != nil {
		return nil, err
	}
	component.ServerSecret = server.Metadata.Name().Elem()
	component.ClientSecret = client.Metadata.Name().Elem()
	if err := ctx.RegisterResourceOutputs(component, pulumi.Map{
		"serverSecret": component.ServerSecret,
		"clientSecret": component.ClientSecret,
	}); err != nil {
		return nil, err
	}
	return component, nil
}

func tlsSecret(ctx *pulumi.Context, name string, env stacks.Environment, object string, ca, cert, key pulumi.StringOutput, opts ...pulumi.ResourceOption) (*corev1.Secret, error) {
	return corev1.NewSecret(ctx, name, &corev1.SecretArgs{
		Metadata:   objectMeta(env, object, partPostgres),
		Type:       pulumi.String("kubernetes.io/tls"),
		StringData: pulumi.StringMap{tlsKeyCA: ca, tlsKeyCert: cert, tlsKeyKey: key},
	}, opts...)
}
