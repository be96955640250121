package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// conn is the configured connection to one MinIO server: minio-go for S3
// operations, the mc program for IAM.
type conn struct {
	server string
	s3     *minio.Client
	mc     *mcRunner
}

// server is the gRPC ResourceProvider of the minio test double.
type server struct {
	pulumirpc.UnimplementedResourceProviderServer
	mcBin    string
	stateDir string

	mu   sync.Mutex
	conn *conn
}

// Secrets and unknowns travel through unchanged.
var keepAll = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepOutputValues: true, SkipNulls: true}

func (p *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// configKeys are the provider's config keys (provider.d.ts of 0.17.1).
var configKeys = map[string]kind{
	"minioServer": kindString, "minioUser": kindString, "minioPassword": kindString,
	"minioSsl": kindBool, "minioInsecure": kindBool, "minioRegion": kindString,
	"minioApiVersion": kindString, "minioCacertFile": kindString, "minioCertFile": kindString,
	"minioKeyFile": kindString, "minioSessionToken": kindString,
	"minioAccessKey": kindString, "minioSecretKey": kindString, // deprecated upstream
	"version": kindString, // the engine's own
}

func (p *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := plugin.UnmarshalProperties(req.GetNews(), keepAll)
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	for _, key := range slices.Sorted(maps.Keys(news)) {
		if _, ok := configKeys[string(key)]; !ok {
			failures = append(failures, &pulumirpc.CheckFailure{Property: string(key),
				Reason: fmt.Sprintf("%q is not a config key of the minio provider; its keys are %s", key, strings.Join(slices.Sorted(maps.Keys(configKeys)), ", "))})
		}
	}
	if v := plainValue(news["minioServer"]); !v.IsComputed() && (!v.IsString() || v.StringValue() == "") {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "minioServer", Reason: "minioServer is required: the MinIO server's host:port"})
	}
	if v := plainValue(news["minioApiVersion"]); v.IsString() && v.StringValue() != "v2" && v.StringValue() != "v4" {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "minioApiVersion", Reason: fmt.Sprintf("minioApiVersion %q: allowed are v2 and v4", v.StringValue())})
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

func (p *server) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds := req.GetOldInputs()
	if olds == nil {
		olds = req.GetOlds()
	}
	o, err := plugin.UnmarshalProperties(olds, keepAll)
	if err != nil {
		return nil, err
	}
	n, err := plugin.UnmarshalProperties(req.GetNews(), keepAll)
	if err != nil {
		return nil, err
	}
	return diffResponse(changedInputs(o, n, nil), nil), nil
}

// Configure connects nothing yet: a preview must not need the server.
func (p *server) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	cfg, err := configFromRequest(req)
	if err != nil {
		return nil, err
	}
	c, err := p.connect(cfg)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.conn = c
	p.mu.Unlock()
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

// configFromRequest reads the config as typed args, or as the engine's
// "minio:config:<key>" string variables.
func configFromRequest(req *pulumirpc.ConfigureRequest) (resource.PropertyMap, error) {
	if req.GetArgs() != nil {
		return plugin.UnmarshalProperties(req.GetArgs(), keepAll)
	}
	cfg := resource.PropertyMap{}
	for k, v := range req.GetVariables() {
		key := k[strings.LastIndex(k, ":")+1:]
		if configKeys[key] == kindBool {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("minio provider config %s: %q is not true or false", key, v)
			}
			cfg[resource.PropertyKey(key)] = boolProp(b)
		} else {
			cfg[resource.PropertyKey(key)] = strProp(v)
		}
	}
	return cfg, nil
}

func (p *server) connect(cfg resource.PropertyMap) (*conn, error) {
	server := str(cfg, "minioServer")
	user, password := str(cfg, "minioUser"), str(cfg, "minioPassword")
	if user == "" { // the deprecated keys, as upstream accepts them
		user, password = str(cfg, "minioAccessKey"), str(cfg, "minioSecretKey")
	}
	for _, unsupported := range []string{"minioCacertFile", "minioCertFile", "minioKeyFile", "minioSessionToken"} {
		if set(cfg, unsupported) {
			return nil, fmt.Errorf("minio test double: config %s is not supported (the program names no CA or client certificate: "+
				"the server's certificate is verified against the system roots, SSL_CERT_FILE here; and there is no STS)", unsupported)
		}
	}
	// Both clients (minio-go here, mc for IAM) verify the server's certificate
	// against the system roots (SSL_CERT_FILE): nothing skips verification.
	if boolean(cfg, "minioInsecure") {
		return nil, fmt.Errorf("minio test double: config minioInsecure=true is not supported: the double verifies every certificate " +
			"(give the server's CA through SSL_CERT_FILE, as localenv.Env.TrustedCAFile does)")
	}
	region := str(cfg, "minioRegion")
	if region == "" {
		region = "us-east-1"
	}
	creds := credentials.NewStaticV4(user, password, "")
	if str(cfg, "minioApiVersion") == "v2" {
		creds = credentials.NewStaticV2(user, password, "")
	}
	client, err := minio.New(server, &minio.Options{Creds: creds, Secure: boolean(cfg, "minioSsl"), Region: region})
	if err != nil {
		return nil, fmt.Errorf("minio test double: minioServer %q: %w", server, err)
	}
	return &conn{server: server, s3: client,
		mc: newMCRunner(p.mcBin, p.stateDir, server, boolean(cfg, "minioSsl"), user, password)}, nil
}

func (p *server) connection() (*conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		return nil, fmt.Errorf("minio test double: the provider was not configured")
	}
	return p.conn, nil
}

func (p *server) resourceType(typ, urn string) (*resourceType, error) {
	if typ == "" {
		typ = string(resource.URN(urn).Type())
	}
	t, ok := resourceTypes[typ]
	if !ok {
		return nil, fmt.Errorf("the minio test double does not implement %s; it implements %s",
			typ, strings.Join(slices.Sorted(maps.Keys(resourceTypes)), ", "))
	}
	return t, nil
}

// request finds the resource type of a call and unmarshals its property maps
// (a nil struct is an empty map).
func (p *server) request(typ, urn string, structs ...*structpb.Struct) (*resourceType, []resource.PropertyMap, error) {
	t, err := p.resourceType(typ, urn)
	if err != nil {
		return nil, nil, err
	}
	out := make([]resource.PropertyMap, len(structs))
	for i, st := range structs {
		if out[i], err = plugin.UnmarshalProperties(st, keepAll); err != nil {
			return nil, nil, err
		}
	}
	return t, out, nil
}

func (p *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	t, props, err := p.request(req.GetType(), req.GetUrn(), req.GetNews(), req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, olds := props[0], props[1]
	var failures []*pulumirpc.CheckFailure
	for _, problem := range t.check(news) {
		property, _, _ := strings.Cut(problem, ":")
		failures = append(failures, &pulumirpc.CheckFailure{Property: property, Reason: problem})
	}
	checked := news.Copy()
	for k, v := range t.defaults {
		if _, ok := checked[k]; !ok {
			checked[k] = v
		}
	}
	if t.autoName != "" && !set(checked, t.autoName) {
		key := resource.PropertyKey(t.autoName)
		if old, ok := olds[key]; ok && str(olds, t.autoNamePrefix) == str(checked, t.autoNamePrefix) {
			checked[key] = old // an auto-name stays what it was
		} else {
			prefix := resource.URN(req.GetUrn()).Name() + "-"
			if t.autoNamePrefix != "" && set(checked, t.autoNamePrefix) {
				prefix = str(checked, t.autoNamePrefix)
			}
			checked[key] = strProp(prefix + randomHex(4)[:7])
		}
	}
	result, err := plugin.MarshalProperties(checked, keepAll)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: result, Failures: failures}, nil
}

func (p *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	oldStruct := req.GetOldInputs()
	if oldStruct == nil {
		oldStruct = req.GetOlds()
	}
	t, props, err := p.request(req.GetType(), req.GetUrn(), oldStruct, req.GetNews())
	if err != nil {
		return nil, err
	}
	olds, news := props[0], props[1]
	for _, key := range t.computed { // an old state without inputs: its outputs minus computed values
		delete(olds, resource.PropertyKey(key))
	}
	changed := changedInputs(olds, news, req.GetIgnoreChanges())
	var replaces []string
	for _, key := range changed {
		if slices.Contains(t.replaceOn, key) {
			replaces = append(replaces, key)
		}
	}
	return diffResponse(changed, replaces), nil
}

// changedInputs are the top-level keys whose values differ (secret markers
// aside), ignoring the given ones, sorted.
func changedInputs(olds, news resource.PropertyMap, ignore []string) []string {
	var changed []string
	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	for k := range keys {
		if slices.Contains(ignore, string(k)) {
			continue
		}
		o, n := olds[k], news[k]
		if plainValue(n).IsComputed() || !sameValue(o, n) {
			changed = append(changed, string(k))
		}
	}
	sort.Strings(changed)
	return changed
}

func diffResponse(changed, replaces []string) *pulumirpc.DiffResponse {
	if len(changed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}
	}
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: changed, Replaces: replaces}
}

// outputs are the inputs plus computed values, secret where the schema says.
func (t *resourceType) outputs(inputs, computed resource.PropertyMap) resource.PropertyMap {
	out := inputs.Copy()
	for k, v := range computed {
		out[k] = v
	}
	for _, key := range t.secretOutputs {
		if v, ok := out[resource.PropertyKey(key)]; ok && !v.IsSecret() && !v.IsComputed() {
			out[resource.PropertyKey(key)] = resource.MakeSecret(v)
		}
	}
	return out
}

func (p *server) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	t, props, err := p.request(req.GetType(), req.GetUrn(), req.GetProperties())
	if err != nil {
		return nil, err
	}
	inputs := props[0]
	id, computed := "", resource.PropertyMap{}
	if req.GetPreview() {
		for _, key := range t.computed {
			if !set(inputs, key) {
				computed[resource.PropertyKey(key)] = resource.MakeComputed(strProp(""))
			}
		}
	} else {
		c, err := p.connection()
		if err != nil {
			return nil, err
		}
		if id, computed, err = t.create(ctx, c, inputs); err != nil {
			return nil, fmt.Errorf("creating %s on MinIO %s: %w", req.GetUrn(), c.server, err)
		}
	}
	result, err := plugin.MarshalProperties(t.outputs(inputs, computed), keepAll)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: result}, nil
}

func (p *server) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	t, props, err := p.request(req.GetType(), req.GetUrn(), req.GetProperties())
	if err != nil {
		return nil, err
	}
	state := props[0]
	c, err := p.connection()
	if err != nil {
		return nil, err
	}
	out, found, err := t.read(ctx, c, req.GetId(), state)
	if err != nil {
		return nil, fmt.Errorf("reading %s (id %s) from MinIO %s: %w", req.GetUrn(), req.GetId(), c.server, err)
	}
	if !found {
		return &pulumirpc.ReadResponse{}, nil // gone: the engine drops it from the state
	}
	out = t.outputs(out, nil)
	inputs := resource.PropertyMap{}
	for _, in := range t.inputs {
		if v, ok := out[resource.PropertyKey(in.name)]; ok {
			inputs[resource.PropertyKey(in.name)] = v
		}
	}
	result, err := plugin.MarshalProperties(out, keepAll)
	if err != nil {
		return nil, err
	}
	inProps, err := plugin.MarshalProperties(inputs, keepAll)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: result, Inputs: inProps}, nil
}

func (p *server) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	t, props, err := p.request(req.GetType(), req.GetUrn(), req.GetOlds(), req.GetNews())
	if err != nil {
		return nil, err
	}
	state, news := props[0], props[1]
	computed := resource.PropertyMap{}
	if req.GetPreview() {
		for _, key := range t.computed {
			computed[resource.PropertyKey(key)] = state[resource.PropertyKey(key)]
		}
	} else {
		c, err := p.connection()
		if err != nil {
			return nil, err
		}
		if computed, err = t.update(ctx, c, req.GetId(), state, news); err != nil {
			return nil, fmt.Errorf("updating %s (id %s) on MinIO %s: %w", req.GetUrn(), req.GetId(), c.server, err)
		}
	}
	result, err := plugin.MarshalProperties(t.outputs(news, computed), keepAll)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: result}, nil
}

func (p *server) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	t, props, err := p.request(req.GetType(), req.GetUrn(), req.GetProperties())
	if err != nil {
		return nil, err
	}
	state := props[0]
	c, err := p.connection()
	if err != nil {
		return nil, err
	}
	if err := t.delete(ctx, c, req.GetId(), state); err != nil {
		return nil, fmt.Errorf("deleting %s (id %s) on MinIO %s: %w", req.GetUrn(), req.GetId(), c.server, err)
	}
	return &emptypb.Empty{}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// newServer makes a provider that runs mcBin with its config in stateDir.
func newServer(mcBin, stateDir string) *server {
	return &server{mcBin: mcBin, stateDir: stateDir}
}
