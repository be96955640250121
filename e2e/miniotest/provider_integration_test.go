//go:build integration

package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

// testServer is the local test MinIO (scripts/test-servers.sh); the test fails,
// never skips, without it.
type testServer struct{ endpoint, user, password, mc string }

func localMinIO(t *testing.T) testServer {
	t.Helper()
	s := testServer{os.Getenv("MINIO_ENDPOINT"), os.Getenv("MINIO_ROOT_USER"), os.Getenv("MINIO_ROOT_PASSWORD"), os.Getenv("MC")}
	if s.endpoint == "" || s.user == "" || s.password == "" || s.mc == "" {
		t.Fatal(`MINIO_ENDPOINT, MINIO_ROOT_USER, MINIO_ROOT_PASSWORD and MC must be set: eval "$(scripts/test-servers.sh start)"`)
	}
	return s
}

func (s testServer) client(t *testing.T, key, secret string) *minio.Client {
	t.Helper()
	c, err := minio.New(s.endpoint, &minio.Options{Creds: credentials.NewStaticV4(key, secret, "")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// configured is a provider configured for the local MinIO, as the engine does it.
func configured(t *testing.T, s testServer) *server {
	t.Helper()
	p := newServer(s.mc, t.TempDir())
	args := props(t, resource.PropertyMap{"minioServer": strProp(s.endpoint), "minioUser": strProp(s.user),
		"minioPassword": resource.MakeSecret(strProp(s.password)), "minioSsl": boolProp(false)})
	if _, err := p.Configure(context.Background(), &pulumirpc.ConfigureRequest{Args: args}); err != nil {
		t.Fatal(err)
	}
	return p
}

func mapOf(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := plugin.UnmarshalProperties(s, keepAll)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func unique(prefix string) string { return prefix + "-" + randomHex(4) }

// lifecycleCase drives one resource type through the engine's calls.
type lifecycleCase struct {
	token  string
	setup  func(t *testing.T, s testServer) resource.PropertyMap // returns the inputs
	verify func(t *testing.T, s testServer, id string, state resource.PropertyMap)
	// inPlace is an input change the provider applies in place.
	inPlace resource.PropertyMap
	// replacing are input changes that must replace the resource.
	replacing []resource.PropertyMap
	// gone checks that Delete removed it from the server.
	gone func(t *testing.T, s testServer, id string, state resource.PropertyMap)
}

func TestResourceLifecycleOnRealMinIO(t *testing.T) {
	s := localMinIO(t)
	root := s.client(t, s.user, s.password)
	ctx := context.Background()
	newBucket := func(t *testing.T) string {
		b := unique("mt-bucket")
		if err := root.MakeBucket(ctx, b, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { root.RemoveBucketWithOptions(ctx, b, minio.RemoveBucketOptions{ForceDelete: true}) })
		return b
	}
	p := configured(t, s)
	mcRun := func(t *testing.T, stdin string, args ...string) map[string]any {
		t.Helper()
		out, err := p.conn.mc.one(ctx, stdin, args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	newUser := func(t *testing.T) string {
		u := unique("mt-user")
		if err := setUser(ctx, p.conn, u, "user-secret-123456"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { deleteUser(ctx, p.conn, u, resource.PropertyMap{"forceDestroy": boolProp(true)}) })
		return u
	}
	newPolicy := func(t *testing.T, bucket string) string {
		name := unique("mt-policy")
		if err := putPolicy(ctx, p.conn, name, readPolicyDoc(bucket)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.conn.mc.run(ctx, "", "admin", "policy", "remove", mcAlias, name) })
		return name
	}

	cases := []lifecycleCase{
		{
			token: "minio:index/s3Bucket:S3Bucket",
			setup: func(t *testing.T, s testServer) resource.PropertyMap {
				return resource.PropertyMap{"bucket": strProp(unique("mt-b")), "forceDestroy": boolProp(true)}
			},
			verify: func(t *testing.T, s testServer, id string, state resource.PropertyMap) {
				if ok, err := root.BucketExists(ctx, id); err != nil || !ok {
					t.Fatalf("bucket %s not on the server (%v)", id, err)
				}
				if p, _ := root.GetBucketPolicy(ctx, id); (str(state, "acl") == "private") != (p == "") {
					t.Errorf("acl %s but the bucket policy is %q", str(state, "acl"), p)
				}
				if str(state, "arn") != "arn:aws:s3:::"+id {
					t.Errorf("arn %q", str(state, "arn"))
				}
			},
			inPlace:   resource.PropertyMap{"acl": strProp("public-read")},
			replacing: []resource.PropertyMap{{"bucket": strProp(unique("mt-b"))}, {"objectLocking": boolProp(true)}},
			gone: func(t *testing.T, s testServer, id string, _ resource.PropertyMap) {
				if ok, _ := root.BucketExists(ctx, id); ok {
					t.Errorf("bucket %s still exists", id)
				}
			},
		},
		{
			token: "minio:index/s3BucketVersioning:S3BucketVersioning",
			setup: func(t *testing.T, s testServer) resource.PropertyMap {
				return resource.PropertyMap{"bucket": strProp(newBucket(t)),
					"versioningConfiguration": resource.NewObjectProperty(resource.PropertyMap{"status": strProp("Enabled")})}
			},
			verify: func(t *testing.T, s testServer, id string, state resource.PropertyMap) {
				vc, err := root.GetBucketVersioning(ctx, id)
				want := str(plainValue(state["versioningConfiguration"]).ObjectValue(), "status")
				if err != nil || vc.Status != want {
					t.Errorf("versioning of %s is %q (%v), want %s", id, vc.Status, err, want)
				}
			},
			inPlace:   resource.PropertyMap{"versioningConfiguration": resource.NewObjectProperty(resource.PropertyMap{"status": strProp("Suspended")})},
			replacing: []resource.PropertyMap{{"bucket": strProp("another-bucket")}},
			gone: func(t *testing.T, s testServer, id string, _ resource.PropertyMap) {
				if vc, _ := root.GetBucketVersioning(ctx, id); vc.Status == "Enabled" {
					t.Errorf("versioning of %s still enabled after delete", id)
				}
			},
		},
		{
			token: "minio:index/ilmPolicy:IlmPolicy",
			setup: func(t *testing.T, s testServer) resource.PropertyMap {
				return resource.PropertyMap{"bucket": strProp(newBucket(t)), "rules": ilmRules("30d", 30)}
			},
			verify: func(t *testing.T, s testServer, id string, state resource.PropertyMap) {
				cfg, err := root.GetBucketLifecycle(ctx, id)
				if err != nil || len(cfg.Rules) != 1 {
					t.Fatalf("lifecycle of %s: %v %v", id, cfg, err)
				}
				want := str(plainValue(state["rules"]).ArrayValue()[0].ObjectValue(), "expiration")
				if got := fmt.Sprintf("%dd", cfg.Rules[0].Expiration.Days); got != want || cfg.Rules[0].ID != "expire-backups" {
					t.Errorf("rule %s expires after %s, want %s", cfg.Rules[0].ID, got, want)
				}
			},
			inPlace:   resource.PropertyMap{"rules": ilmRules("7d", 7)},
			replacing: []resource.PropertyMap{{"bucket": strProp("another-bucket")}},
			gone: func(t *testing.T, s testServer, id string, _ resource.PropertyMap) {
				if cfg, err := root.GetBucketLifecycle(ctx, id); err == nil && len(cfg.Rules) > 0 {
					t.Errorf("lifecycle of %s still has %d rules", id, len(cfg.Rules))
				}
			},
		},
		{
			token: "minio:index/s3BucketPolicy:S3BucketPolicy",
			setup: func(t *testing.T, s testServer) resource.PropertyMap {
				b := newBucket(t)
				return resource.PropertyMap{"bucket": strProp(b), "policy": strProp(anonymousRead(b, "a/"))}
			},
			verify: func(t *testing.T, s testServer, id string, state resource.PropertyMap) {
				got, err := root.GetBucketPolicy(ctx, id)
				if err != nil || sameJSONOr(str(state, "policy"), got) != str(state, "policy") {
					t.Errorf("bucket policy of %s is %s (%v), want %s", id, got, err, str(state, "policy"))
				}
			},
			inPlace:   resource.PropertyMap{"policy": strProp("")}, // filled in below
			replacing: []resource.PropertyMap{{"bucket": strProp("another-bucket")}},
			gone: func(t *testing.T, s testServer, id string, _ resource.PropertyMap) {
				if got, _ := root.GetBucketPolicy(ctx, id); got != "" {
					t.Errorf("bucket policy of %s still set: %s", id, got)
				}
			},
		},
		{
			token: "minio:index/iamUser:IamUser",
			setup: func(t *testing.T, s testServer) resource.PropertyMap {
				return resource.PropertyMap{"name": strProp(unique("mt-user")), "secret": resource.MakeSecret(strProp("first-secret-1234567"))}
			},
			verify: func(t *testing.T, s testServer, id string, state resource.PropertyMap) {
				requireCredentials(t, s, id, str(state, "secret"), true)
				info := mcRun(t, "", "admin", "user", "info", mcAlias, id)
				if want := str(state, "status"); info["userStatus"] != want {
					t.Errorf("user %s is %v, state says %s", id, info["userStatus"], want)
				}
			},
			inPlace:   resource.PropertyMap{"secret": resource.MakeSecret(strProp("second-secret-123456"))},
			replacing: []resource.PropertyMap{{"name": strProp(unique("mt-user"))}},
			gone: func(t *testing.T, s testServer, id string, state resource.PropertyMap) {
				requireCredentials(t, s, id, str(state, "secret"), false)
			},
		},
		{
			token: "minio:index/iamPolicy:IamPolicy",
			setup: func(t *testing.T, s testServer) resource.PropertyMap {
				return resource.PropertyMap{"name": strProp(unique("mt-policy")), "policy": strProp(readPolicyDoc("bucket-a"))}
			},
			verify: func(t *testing.T, s testServer, id string, state resource.PropertyMap) {
				info := mcRun(t, "", "admin", "policy", "info", mcAlias, id)
				if !strings.Contains(fmt.Sprint(info["policyInfo"]), bucketOf(str(state, "policy"))) {
					t.Errorf("policy %s on the server is %v, want the document of %s", id, info["policyInfo"], bucketOf(str(state, "policy")))
				}
			},
			inPlace:   resource.PropertyMap{"policy": strProp(readPolicyDoc("bucket-b"))},
			replacing: []resource.PropertyMap{{"name": strProp(unique("mt-policy"))}, {"namePrefix": strProp("mt-prefix-")}},
			gone: func(t *testing.T, s testServer, id string, _ resource.PropertyMap) {
				if _, err := p.conn.mc.one(ctx, "", "admin", "policy", "info", mcAlias, id); !notFound(err) {
					t.Errorf("policy %s still there (%v)", id, err)
				}
			},
		},
		{
			token: "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment",
			setup: func(t *testing.T, s testServer) resource.PropertyMap {
				return resource.PropertyMap{"userName": strProp(newUser(t)), "policyName": strProp(newPolicy(t, "bucket-a"))}
			},
			verify: func(t *testing.T, s testServer, id string, state resource.PropertyMap) {
				attached, err := userPolicies(ctx, p.conn, str(state, "userName"))
				if err != nil || !slices.Contains(attached, str(state, "policyName")) {
					t.Errorf("user %s has policies %v (%v), want %s", str(state, "userName"), attached, err, str(state, "policyName"))
				}
			},
			replacing: []resource.PropertyMap{{"userName": strProp("another-user")}, {"policyName": strProp("another-policy")}},
			gone: func(t *testing.T, s testServer, id string, state resource.PropertyMap) {
				if attached, _ := userPolicies(ctx, p.conn, str(state, "userName")); slices.Contains(attached, str(state, "policyName")) {
					t.Errorf("policy %s still attached to %s", str(state, "policyName"), str(state, "userName"))
				}
			},
		},
		{
			token: "minio:index/iamServiceAccount:IamServiceAccount",
			setup: func(t *testing.T, s testServer) resource.PropertyMap {
				u := newUser(t)
				mcRun(t, "", "admin", "policy", "attach", mcAlias, newPolicy(t, "bucket-a"), "--user", u)
				return resource.PropertyMap{"targetUser": strProp(u)}
			},
			verify: func(t *testing.T, s testServer, id string, state resource.PropertyMap) {
				if str(state, "accessKey") != id || !state["secretKey"].IsSecret() {
					t.Errorf("accessKey %q (id %s), secretKey secret=%v", str(state, "accessKey"), id, state["secretKey"].IsSecret())
				}
				// A disabled account's keys are refused.
				requireCredentials(t, s, id, str(state, "secretKey"), str(state, "status") == "on")
				info := mcRun(t, "", "admin", "user", "svcacct", "info", mcAlias, id)
				if info["parentUser"] != str(state, "targetUser") || info["accountStatus"] != str(state, "status") {
					t.Errorf("service account %s: %v, state %v", id, info, state)
				}
			},
			inPlace:   resource.PropertyMap{"disableUser": boolProp(true)},
			replacing: []resource.PropertyMap{{"targetUser": strProp("another-user")}},
			gone: func(t *testing.T, s testServer, id string, state resource.PropertyMap) {
				requireCredentials(t, s, id, str(state, "secretKey"), false)
			},
		},
	}
	for _, c := range cases {
		t.Run(c.token[strings.LastIndex(c.token, ":")+1:], func(t *testing.T) {
			runLifecycle(t, p, s, c)
		})
	}
}

func runLifecycle(t *testing.T, p *server, s testServer, c lifecycleCase) {
	ctx := context.Background()
	urn := "urn:pulumi:test::data-platform::" + c.token + "::" + unique("r")
	inputs := c.setup(t, s)
	checked := check(t, p, urn, nil, inputs)
	created, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: urn, Type: c.token, Properties: props(t, checked)})
	if err != nil {
		t.Fatal(err)
	}
	id, state := created.Id, mapOf(t, created.Properties)
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			p.Delete(ctx, &pulumirpc.DeleteRequest{Urn: urn, Type: c.token, Id: id, Properties: props(t, state)})
		}
	})
	c.verify(t, s, id, state)

	if d := diff(t, p, urn, c.token, checked, checked); d.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("the same inputs: diff %v %v, want none", d.Changes, d.Diffs)
	}
	for _, change := range c.replacing {
		news := check(t, p, urn, checked, withChanges(checked, change))
		d := diff(t, p, urn, c.token, checked, news)
		key := firstKey(change)
		if d.Changes != pulumirpc.DiffResponse_DIFF_SOME || !slices.Contains(d.Replaces, key) {
			t.Errorf("changing %s: diff %v, diffs %v, replaces %v; want a replacement on %s", key, d.Changes, d.Diffs, d.Replaces, key)
		}
	}
	if c.inPlace != nil {
		change := c.inPlace
		if c.token == "minio:index/s3BucketPolicy:S3BucketPolicy" {
			change = resource.PropertyMap{"policy": strProp(anonymousRead(id, "b/"))}
		}
		news := check(t, p, urn, checked, withChanges(checked, change))
		key := firstKey(change)
		d := diff(t, p, urn, c.token, checked, news)
		if d.Changes != pulumirpc.DiffResponse_DIFF_SOME || len(d.Replaces) != 0 || !slices.Contains(d.Diffs, key) {
			t.Fatalf("changing %s: diff %v, diffs %v, replaces %v; want an update in place", key, d.Changes, d.Diffs, d.Replaces)
		}
		updated, err := p.Update(ctx, &pulumirpc.UpdateRequest{Urn: urn, Type: c.token, Id: id, Olds: props(t, state), News: props(t, news)})
		if err != nil {
			t.Fatal(err)
		}
		state, checked = mapOf(t, updated.Properties), news
		c.verify(t, s, id, state)
	}

	read, err := p.Read(ctx, &pulumirpc.ReadRequest{Urn: urn, Type: c.token, Id: id, Properties: props(t, state)})
	if err != nil {
		t.Fatal(err)
	}
	if read.Id != id {
		t.Fatalf("read of %s returned id %q", id, read.Id)
	}
	if d := diff(t, p, urn, c.token, mapOf(t, read.Inputs), checked); d.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("what the server holds differs from the inputs: %v (read %v)", d.Diffs, mapOf(t, read.Inputs))
	}

	if _, err := p.Delete(ctx, &pulumirpc.DeleteRequest{Urn: urn, Type: c.token, Id: id, Properties: props(t, state)}); err != nil {
		t.Fatal(err)
	}
	deleted = true
	c.gone(t, s, id, state)
	if c.token != "minio:index/s3BucketVersioning:S3BucketVersioning" { // suspended, not gone
		read, err = p.Read(ctx, &pulumirpc.ReadRequest{Urn: urn, Type: c.token, Id: id, Properties: props(t, state)})
		if err != nil || read.Id != "" {
			t.Errorf("read after delete: id %q, %v; want not found", read.GetId(), err)
		}
	}
}

func check(t *testing.T, p *server, urn string, olds, news resource.PropertyMap) resource.PropertyMap {
	t.Helper()
	req := &pulumirpc.CheckRequest{Urn: urn, News: props(t, news)}
	if olds != nil {
		req.Olds = props(t, olds)
	}
	res, err := p.Check(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) > 0 {
		t.Fatalf("check failures: %v", res.Failures)
	}
	return mapOf(t, res.Inputs)
}

func diff(t *testing.T, p *server, urn, token string, olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	t.Helper()
	res, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: urn, Type: token, OldInputs: props(t, olds), Olds: props(t, olds), News: props(t, news)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func withChanges(m, change resource.PropertyMap) resource.PropertyMap {
	out := m.Copy()
	for k, v := range change {
		out[k] = v
		if k == "namePrefix" {
			delete(out, "name") // a prefix only applies to a generated name
		}
	}
	return out
}

func firstKey(m resource.PropertyMap) string {
	for k := range m {
		return string(k)
	}
	return ""
}

// requireCredentials: the keys sign requests MinIO accepts (or rejects).
func requireCredentials(t *testing.T, s testServer, key, secret string, valid bool) {
	t.Helper()
	_, err := s.client(t, key, secret).ListBuckets(context.Background())
	code := minio.ToErrorResponse(err).Code
	accepted := err == nil || code == "AccessDenied"
	if accepted != valid {
		t.Errorf("keys of %s: ListBuckets gave %v; want accepted=%v", key, err, valid)
	}
}

func readPolicyDoc(bucket string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::` + bucket + `/*"]}]}`
}

func bucketOf(policy string) string {
	i := strings.Index(policy, "arn:aws:s3:::")
	rest := policy[i+len("arn:aws:s3:::"):]
	return rest[:strings.IndexAny(rest, "/\"")]
}

func anonymousRead(bucket, prefix string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::` + bucket + `/` + prefix + `*"]}]}`
}

func ilmRules(expiration string, noncurrentDays float64) resource.PropertyValue {
	return resource.NewArrayProperty([]resource.PropertyValue{resource.NewObjectProperty(resource.PropertyMap{
		"id": strProp("expire-backups"), "expiration": strProp(expiration),
		"noncurrentVersionExpirationDays": numProp(noncurrentDays), "status": strProp("Enabled"),
	})})
}
