package minio

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// The expected tokens and property names below are written out by hand from
// the provider schema (anchors §F) rather than taken from the package's
// constants, so that a typo in the package cannot also be in the test.

type registration struct {
	token         string
	name          string
	inputs        resource.PropertyMap
	provider      string
	version       string
	secretOutputs []string
}

// recordingMonitor stands in for the engine. Besides recording what was
// registered, it applies additionalSecretOutputs the way the real engine does;
// the stock mock monitor ignores that option, which would hide whether the
// package requests it.
type recordingMonitor struct {
	mu            sync.Mutex
	registrations []registration
}

func (m *recordingMonitor) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rpc := args.RegisterRPC
	m.mu.Lock()
	m.registrations = append(m.registrations, registration{
		token:         args.TypeToken,
		name:          args.Name,
		inputs:        args.Inputs,
		provider:      args.Provider,
		version:       rpc.GetVersion(),
		secretOutputs: rpc.GetAdditionalSecretOutputs(),
	})
	m.mu.Unlock()

	state := args.Inputs.Copy()
	for key, value := range computedOutputs[args.TypeToken] {
		state[resource.PropertyKey(key)] = resource.NewProperty(value)
	}
	for _, key := range rpc.GetAdditionalSecretOutputs() {
		if value, ok := state[resource.PropertyKey(key)]; ok && !value.IsSecret() {
			state[resource.PropertyKey(key)] = resource.MakeSecret(value)
		}
	}
	return args.Name + "-id", state, nil
}

func (m *recordingMonitor) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return args.Args, nil
}

func (m *recordingMonitor) only(t *testing.T) registration {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.registrations) != 1 {
		t.Fatalf("want exactly one registration, got %d", len(m.registrations))
	}
	return m.registrations[0]
}

// computedOutputs are the values a real provider would compute on create.
var computedOutputs = map[string]map[string]string{
	"minio:index/s3Bucket:S3Bucket": {
		"arn":              "arn:aws:s3:::reports",
		"bucketDomainName": "http://minio:9000/minio/reports",
	},
	"minio:index/iamUser:IamUser": {"status": "enabled"},
	"minio:index/iamServiceAccount:IamServiceAccount": {
		"accessKey": "SVCACCOUNTKEY",
		"secretKey": "generated-secret-key",
		"status":    "on",
	},
}

func run(t *testing.T, program pulumi.RunFunc) (*recordingMonitor, error) {
	t.Helper()
	monitor := &recordingMonitor{}
	err := pulumi.RunErr(program, pulumi.WithMocks("vxplatform", "test", monitor))
	return monitor, err
}

// reveal strips the secret markers from top-level inputs so values can be
// compared, and reports which inputs carried one.
func reveal(inputs resource.PropertyMap) (resource.PropertyMap, []string) {
	revealed := resource.PropertyMap{}
	var secret []string
	for key, value := range inputs {
		switch {
		case value.IsSecret():
			secret = append(secret, string(key))
			value = value.SecretValue().Element
		case value.IsOutput() && value.OutputValue().Secret:
			secret = append(secret, string(key))
			value = value.OutputValue().Element
		}
		revealed[key] = value
	}
	slices.Sort(secret)
	return revealed, secret
}

func TestConstructorsRegisterSchemaTokensPropertiesAndSecrets(t *testing.T) {
	tests := []struct {
		name              string
		register          func(ctx *pulumi.Context) error
		wantToken         string
		wantInputs        map[string]any
		wantSecretInputs  []string
		wantSecretOutputs []string
	}{
		{
			name: "provider",
			register: func(ctx *pulumi.Context) error {
				_, err := NewProvider(ctx, "preview-minio", &ProviderArgs{
					MinioServer:   pulumi.String("minio.pr-42.svc:9000"),
					MinioUser:     pulumi.String("admin"),
					MinioPassword: pulumi.String("hunter22"),
					MinioSsl:      pulumi.Bool(false),
					MinioInsecure: pulumi.Bool(true),
					MinioRegion:   pulumi.String("eu-central-1"),
				})
				return err
			},
			wantToken: "pulumi:providers:minio",
			// Booleans travel as booleans: the Go SDK, like the generated
			// one, does not stringify provider inputs.
			wantInputs: map[string]any{
				"minioServer":   "minio.pr-42.svc:9000",
				"minioUser":     "admin",
				"minioPassword": "hunter22",
				"minioSsl":      false,
				"minioInsecure": true,
				"minioRegion":   "eu-central-1",
			},
			wantSecretInputs:  []string{"minioPassword"},
			wantSecretOutputs: []string{"minioPassword", "minioSessionToken"},
		},
		{
			name: "provider session token",
			register: func(ctx *pulumi.Context) error {
				_, err := NewProvider(ctx, "sts-minio", &ProviderArgs{
					MinioServer:       pulumi.String("minio:9000"),
					MinioSessionToken: pulumi.String("session"),
					MinioApiVersion:   pulumi.String("v4"),
				})
				return err
			},
			wantToken: "pulumi:providers:minio",
			wantInputs: map[string]any{
				"minioServer":       "minio:9000",
				"minioSessionToken": "session",
				"minioApiVersion":   "v4",
			},
			wantSecretInputs:  []string{"minioSessionToken"},
			wantSecretOutputs: []string{"minioPassword", "minioSessionToken"},
		},
		{
			name: "s3 bucket",
			register: func(ctx *pulumi.Context) error {
				_, err := NewS3Bucket(ctx, "reports", &S3BucketArgs{
					Acl:           pulumi.String("private"),
					Bucket:        pulumi.String("reports"),
					ForceDestroy:  pulumi.Bool(true),
					ObjectLocking: pulumi.Bool(false),
					Quota:         pulumi.Int(1 << 30),
				})
				return err
			},
			wantToken: "minio:index/s3Bucket:S3Bucket",
			wantInputs: map[string]any{
				"acl":           "private",
				"bucket":        "reports",
				"forceDestroy":  true,
				"objectLocking": false,
				"quota":         float64(1 << 30),
			},
		},
		{
			name: "s3 bucket with prefix only",
			register: func(ctx *pulumi.Context) error {
				_, err := NewS3Bucket(ctx, "scratch", &S3BucketArgs{BucketPrefix: pulumi.String("scratch-")})
				return err
			},
			wantToken:  "minio:index/s3Bucket:S3Bucket",
			wantInputs: map[string]any{"bucketPrefix": "scratch-"},
		},
		{
			name: "s3 bucket policy",
			register: func(ctx *pulumi.Context) error {
				_, err := NewS3BucketPolicy(ctx, "reports-policy", &S3BucketPolicyArgs{
					Bucket: pulumi.String("reports"),
					Policy: pulumi.String(`{"Version":"2012-10-17","Statement":[]}`),
				})
				return err
			},
			wantToken: "minio:index/s3BucketPolicy:S3BucketPolicy",
			wantInputs: map[string]any{
				"bucket": "reports",
				"policy": `{"Version":"2012-10-17","Statement":[]}`,
			},
		},
		{
			name: "s3 bucket versioning",
			register: func(ctx *pulumi.Context) error {
				_, err := NewS3BucketVersioning(ctx, "reports-versioning", &S3BucketVersioningArgs{
					Bucket: pulumi.String("reports"),
					VersioningConfiguration: &S3BucketVersioningVersioningConfigurationArgs{
						Status:           pulumi.String("Enabled"),
						ExcludeFolders:   pulumi.Bool(true),
						ExcludedPrefixes: pulumi.StringArray{pulumi.String("tmp/")},
					},
				})
				return err
			},
			wantToken: "minio:index/s3BucketVersioning:S3BucketVersioning",
			wantInputs: map[string]any{
				"bucket": "reports",
				"versioningConfiguration": map[string]any{
					"status":           "Enabled",
					"excludeFolders":   true,
					"excludedPrefixes": []any{"tmp/"},
				},
			},
		},
		{
			name: "ilm policy",
			register: func(ctx *pulumi.Context) error {
				_, err := NewIlmPolicy(ctx, "reports-expiry", &IlmPolicyArgs{
					Bucket: pulumi.String("reports"),
					Rules: IlmPolicyRuleArray{
						IlmPolicyRuleArgs{
							Id:                              pulumi.String("expire-tmp"),
							Expiration:                      pulumi.String("7d"),
							Filter:                          pulumi.String("tmp/"),
							NoncurrentVersionExpirationDays: pulumi.Int(3),
							Status:                          pulumi.String("Enabled"),
							Tags:                            pulumi.Map{"class": pulumi.String("scratch")},
						},
						&IlmPolicyRuleArgs{Id: pulumi.String("expire-logs"), Expiration: pulumi.String("30d")},
					},
				})
				return err
			},
			wantToken: "minio:index/ilmPolicy:IlmPolicy",
			wantInputs: map[string]any{
				"bucket": "reports",
				"rules": []any{
					map[string]any{
						"id":                              "expire-tmp",
						"expiration":                      "7d",
						"filter":                          "tmp/",
						"noncurrentVersionExpirationDays": float64(3),
						"status":                          "Enabled",
						"tags":                            map[string]any{"class": "scratch"},
					},
					map[string]any{"id": "expire-logs", "expiration": "30d"},
				},
			},
		},
		{
			name: "iam user",
			register: func(ctx *pulumi.Context) error {
				_, err := NewIamUser(ctx, "reports-writer", &IamUserArgs{
					Name:         pulumi.String("reports-writer"),
					Secret:       pulumi.String("plain-text-in"),
					Tags:         pulumi.Map{"team": pulumi.String("platform")},
					ForceDestroy: pulumi.Bool(true),
					UpdateSecret: pulumi.Bool(false),
					DisableUser:  pulumi.Bool(false),
				})
				return err
			},
			wantToken: "minio:index/iamUser:IamUser",
			wantInputs: map[string]any{
				"name":         "reports-writer",
				"secret":       "plain-text-in",
				"tags":         map[string]any{"team": "platform"},
				"forceDestroy": true,
				"updateSecret": false,
				"disableUser":  false,
			},
			wantSecretInputs:  []string{"secret"},
			wantSecretOutputs: []string{"secret"},
		},
		{
			name: "iam user with generated secret",
			register: func(ctx *pulumi.Context) error {
				_, err := NewIamUser(ctx, "generated", nil)
				return err
			},
			wantToken:         "minio:index/iamUser:IamUser",
			wantInputs:        map[string]any{},
			wantSecretOutputs: []string{"secret"},
		},
		{
			name: "iam policy",
			register: func(ctx *pulumi.Context) error {
				_, err := NewIamPolicy(ctx, "reports-rw", &IamPolicyArgs{
					Name:   pulumi.String("reports-rw"),
					Policy: pulumi.String(`{"Version":"2012-10-17","Statement":[]}`),
				})
				return err
			},
			wantToken: "minio:index/iamPolicy:IamPolicy",
			wantInputs: map[string]any{
				"name":   "reports-rw",
				"policy": `{"Version":"2012-10-17","Statement":[]}`,
			},
		},
		{
			name: "iam policy with name prefix",
			register: func(ctx *pulumi.Context) error {
				_, err := NewIamPolicy(ctx, "reports-ro", &IamPolicyArgs{
					NamePrefix: pulumi.String("reports-ro-"),
					Policy:     pulumi.String("{}"),
				})
				return err
			},
			wantToken:  "minio:index/iamPolicy:IamPolicy",
			wantInputs: map[string]any{"namePrefix": "reports-ro-", "policy": "{}"},
		},
		{
			name: "iam user policy attachment",
			register: func(ctx *pulumi.Context) error {
				_, err := NewIamUserPolicyAttachment(ctx, "reports-writer-rw", &IamUserPolicyAttachmentArgs{
					PolicyName: pulumi.String("reports-rw"),
					UserName:   pulumi.String("reports-writer"),
				})
				return err
			},
			wantToken:  "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment",
			wantInputs: map[string]any{"policyName": "reports-rw", "userName": "reports-writer"},
		},
		{
			name: "iam service account",
			register: func(ctx *pulumi.Context) error {
				_, err := NewIamServiceAccount(ctx, "reports-app", &IamServiceAccountArgs{
					TargetUser:   pulumi.String("reports-writer"),
					Policy:       pulumi.String("{}"),
					DisableUser:  pulumi.Bool(false),
					UpdateSecret: pulumi.Bool(true),
				})
				return err
			},
			wantToken: "minio:index/iamServiceAccount:IamServiceAccount",
			wantInputs: map[string]any{
				"targetUser":   "reports-writer",
				"policy":       "{}",
				"disableUser":  false,
				"updateSecret": true,
			},
			wantSecretOutputs: []string{"secretKey"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			monitor, err := run(t, tt.register)
			if err != nil {
				t.Fatalf("register: %v", err)
			}
			got := monitor.only(t)

			if got.token != tt.wantToken {
				t.Errorf("token = %q, want %q", got.token, tt.wantToken)
			}
			if got.version != "0.17.1" {
				t.Errorf("version = %q, want the pinned 0.17.1", got.version)
			}

			inputs, secretInputs := reveal(got.inputs)
			if want := resource.NewPropertyMapFromMap(tt.wantInputs); !inputs.DeepEquals(want) {
				t.Errorf("inputs =\n  %v\nwant\n  %v", inputs, want)
			}
			if !slices.Equal(secretInputs, tt.wantSecretInputs) {
				t.Errorf("secret inputs = %v, want %v", secretInputs, tt.wantSecretInputs)
			}

			secretOutputs := slices.Sorted(slices.Values(got.secretOutputs))
			if !slices.Equal(secretOutputs, tt.wantSecretOutputs) {
				t.Errorf("additionalSecretOutputs = %v, want %v", secretOutputs, tt.wantSecretOutputs)
			}
		})
	}
}

func TestComputedSecretOutputsResolveAsSecrets(t *testing.T) {
	type resolved struct {
		value  any
		secret bool
	}
	outputs := map[string]resolved{}
	await := func(ctx *pulumi.Context, key string, output pulumi.Output) error {
		result, err := internals.UnsafeAwaitOutput(ctx.Context(), output)
		outputs[key] = resolved{result.Value, result.Secret}
		return err
	}

	_, err := run(t, func(ctx *pulumi.Context) error {
		account, err := NewIamServiceAccount(ctx, "reports-app", &IamServiceAccountArgs{
			TargetUser: pulumi.String("reports-writer"),
		})
		if err != nil {
			return err
		}
		user, err := NewIamUser(ctx, "generated", nil)
		if err != nil {
			return err
		}
		for key, output := range map[string]pulumi.Output{
			"account.secretKey": account.SecretKey,
			"account.accessKey": account.AccessKey,
			"account.status":    account.Status,
			"user.status":       user.Status,
		} {
			if err := await(ctx, key, output); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("register: %v", err)
	}

	want := map[string]resolved{
		"account.secretKey": {"generated-secret-key", true},
		"account.accessKey": {"SVCACCOUNTKEY", false},
		"account.status":    {"on", false},
		"user.status":       {"enabled", false},
	}
	for key, w := range want {
		if got := outputs[key]; got != w {
			t.Errorf("%s = %+v, want %+v", key, got, w)
		}
	}
}

func TestMissingRequiredInputsFailBeforeRegistering(t *testing.T) {
	policyJSON := pulumi.String("{}")
	tests := []struct {
		name        string
		register    func(ctx *pulumi.Context) error
		wantMessage string
	}{
		{
			name: "provider without args",
			register: func(ctx *pulumi.Context) error {
				_, err := NewProvider(ctx, "minio", nil)
				return err
			},
			wantMessage: `minio.Provider "minio": missing required argument(s): MinioServer`,
		},
		{
			name: "provider without server",
			register: func(ctx *pulumi.Context) error {
				_, err := NewProvider(ctx, "minio", &ProviderArgs{MinioUser: pulumi.String("admin")})
				return err
			},
			wantMessage: `minio.Provider "minio": missing required argument(s): MinioServer`,
		},
		{
			name: "bucket policy without args names every missing input",
			register: func(ctx *pulumi.Context) error {
				_, err := NewS3BucketPolicy(ctx, "open", nil)
				return err
			},
			wantMessage: `minio.S3BucketPolicy "open": missing required argument(s): Bucket, Policy`,
		},
		{
			name: "versioning without configuration",
			register: func(ctx *pulumi.Context) error {
				_, err := NewS3BucketVersioning(ctx, "v", &S3BucketVersioningArgs{Bucket: pulumi.String("b")})
				return err
			},
			wantMessage: `minio.S3BucketVersioning "v": missing required argument(s): VersioningConfiguration`,
		},
		{
			name: "versioning with a nil configuration pointer",
			register: func(ctx *pulumi.Context) error {
				var config *S3BucketVersioningVersioningConfigurationArgs
				_, err := NewS3BucketVersioning(ctx, "v", &S3BucketVersioningArgs{
					Bucket:                  pulumi.String("b"),
					VersioningConfiguration: config,
				})
				return err
			},
			wantMessage: `minio.S3BucketVersioning "v": missing required argument(s): VersioningConfiguration`,
		},
		{
			name: "versioning configuration without status",
			register: func(ctx *pulumi.Context) error {
				_, err := NewS3BucketVersioning(ctx, "v", &S3BucketVersioningArgs{
					Bucket:                  pulumi.String("b"),
					VersioningConfiguration: S3BucketVersioningVersioningConfigurationArgs{ExcludeFolders: pulumi.Bool(true)},
				})
				return err
			},
			wantMessage: `minio.S3BucketVersioning "v": missing required argument(s): VersioningConfiguration.Status`,
		},
		{
			name: "ilm policy without rules",
			register: func(ctx *pulumi.Context) error {
				_, err := NewIlmPolicy(ctx, "expiry", &IlmPolicyArgs{Bucket: pulumi.String("b")})
				return err
			},
			wantMessage: `minio.IlmPolicy "expiry": missing required argument(s): Rules`,
		},
		{
			name: "ilm policy with an empty rule list",
			register: func(ctx *pulumi.Context) error {
				_, err := NewIlmPolicy(ctx, "expiry", &IlmPolicyArgs{Bucket: pulumi.String("b"), Rules: IlmPolicyRuleArray{}})
				return err
			},
			wantMessage: `minio.IlmPolicy "expiry": missing required argument(s): Rules`,
		},
		{
			name: "ilm policy rule without id",
			register: func(ctx *pulumi.Context) error {
				_, err := NewIlmPolicy(ctx, "expiry", &IlmPolicyArgs{
					Bucket: pulumi.String("b"),
					Rules: IlmPolicyRuleArray{
						IlmPolicyRuleArgs{Id: pulumi.String("first"), Expiration: pulumi.String("1d")},
						&IlmPolicyRuleArgs{Expiration: pulumi.String("7d")},
					},
				})
				return err
			},
			wantMessage: `minio.IlmPolicy "expiry": missing required argument(s): Rules[1].Id`,
		},
		{
			name: "iam policy without document",
			register: func(ctx *pulumi.Context) error {
				_, err := NewIamPolicy(ctx, "rw", &IamPolicyArgs{Name: pulumi.String("rw")})
				return err
			},
			wantMessage: `minio.IamPolicy "rw": missing required argument(s): Policy`,
		},
		{
			name: "attachment without user",
			register: func(ctx *pulumi.Context) error {
				_, err := NewIamUserPolicyAttachment(ctx, "att", &IamUserPolicyAttachmentArgs{PolicyName: policyJSON})
				return err
			},
			wantMessage: `minio.IamUserPolicyAttachment "att": missing required argument(s): UserName`,
		},
		{
			name: "service account without target user",
			register: func(ctx *pulumi.Context) error {
				_, err := NewIamServiceAccount(ctx, "app", &IamServiceAccountArgs{Policy: policyJSON})
				return err
			},
			wantMessage: `minio.IamServiceAccount "app": missing required argument(s): TargetUser`,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			monitor, err := run(t, tt.register)
			if err == nil {
				t.Fatal("want an error, got none")
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantMessage)
			}
			if n := len(monitor.registrations); n != 0 {
				t.Errorf("registered %d resource(s), want none", n)
			}
		})
	}
}

func TestResourcesUseTheExplicitProviderAndPinnedVersion(t *testing.T) {
	monitor, err := run(t, func(ctx *pulumi.Context) error {
		provider, err := NewProvider(ctx, "preview-minio", &ProviderArgs{MinioServer: pulumi.String("minio:9000")})
		if err != nil {
			return err
		}
		_, err = NewS3Bucket(ctx, "reports", &S3BucketArgs{Bucket: pulumi.String("reports")}, pulumi.Provider(provider))
		return err
	})
	if err != nil {
		t.Fatalf("register: %v", err)
	}

	var bucket *registration
	for i := range monitor.registrations {
		if monitor.registrations[i].token == "minio:index/s3Bucket:S3Bucket" {
			bucket = &monitor.registrations[i]
		}
	}
	if bucket == nil {
		t.Fatal("bucket was not registered")
	}
	wantProvider := "urn:pulumi:test::vxplatform::pulumi:providers:minio::preview-minio::preview-minio-id"
	if bucket.provider != wantProvider {
		t.Errorf("provider = %q, want %q", bucket.provider, wantProvider)
	}
	if bucket.version != "0.17.1" {
		t.Errorf("version = %q, want 0.17.1", bucket.version)
	}
}

func TestCallerVersionOptionOverridesTheDefault(t *testing.T) {
	monitor, err := run(t, func(ctx *pulumi.Context) error {
		_, err := NewS3Bucket(ctx, "reports", nil, pulumi.Version("0.17.2"))
		return err
	})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if got := monitor.only(t).version; got != "0.17.2" {
		t.Errorf("version = %q, want the caller's 0.17.2", got)
	}
}

func TestSecretWrappingLeavesCallerArgsUntouched(t *testing.T) {
	password := pulumi.String("hunter22")
	userSecret := pulumi.String("user-secret")
	providerArgs := &ProviderArgs{MinioServer: pulumi.String("minio:9000"), MinioPassword: password}
	userArgs := &IamUserArgs{Secret: userSecret}

	_, err := run(t, func(ctx *pulumi.Context) error {
		if _, err := NewProvider(ctx, "minio", providerArgs); err != nil {
			return err
		}
		_, err := NewIamUser(ctx, "user", userArgs)
		return err
	})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if providerArgs.MinioPassword != password {
		t.Errorf("ProviderArgs.MinioPassword was replaced by %T", providerArgs.MinioPassword)
	}
	if userArgs.Secret != userSecret {
		t.Errorf("IamUserArgs.Secret was replaced by %T", userArgs.Secret)
	}
}

// Compile-time checks that the nested args satisfy the input interfaces in
// both value and pointer form, as they do in the generated SDK.
var (
	_ S3BucketVersioningVersioningConfigurationInput = S3BucketVersioningVersioningConfigurationArgs{}
	_ S3BucketVersioningVersioningConfigurationInput = &S3BucketVersioningVersioningConfigurationArgs{}
	_ IlmPolicyRuleInput                             = IlmPolicyRuleArgs{}
	_ IlmPolicyRuleInput                             = &IlmPolicyRuleArgs{}
	_ IlmPolicyRuleArrayInput                        = IlmPolicyRuleArray{}
)
