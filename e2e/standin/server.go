package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// server is the gRPC ResourceProvider of one stand-in package. Methods it does not
// implement (Construct, Call, GetSchema, Handshake, ...) answer Unimplemented, which
// the engine handles as "not supported".
type server struct {
	pulumirpc.UnimplementedResourceProviderServer
	pkg pkg
}

func newServer(p pkg) *server { return &server{pkg: p} }

// Secrets and unknowns travel through unchanged: what the program marked secret
// stays secret in the state, and a preview sees unknowns as unknown.
var keepAll = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

// plain is for comparisons: whether a value is secret is not a change of the value.
var plain = plugin.MarshalOptions{KeepUnknowns: true, SkipNulls: true}

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: s.pkg.version}, nil
}

func (s *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// CheckConfig accepts any provider configuration: there is no server to reach.
func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *server) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds := req.GetOldInputs()
	if olds == nil {
		olds = req.GetOlds()
	}
	changed, err := changedKeys(olds, req.GetNews(), nil)
	if err != nil {
		return nil, err
	}
	return diffResponse(changed, nil), nil
}

func (s *server) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if _, err := s.kind(req.GetType(), req.GetUrn()); err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	k, err := s.kind(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds := req.GetOldInputs()
	if olds == nil { // an old state without recorded inputs: outputs minus computed values
		state, err := plugin.UnmarshalProperties(req.GetOlds(), keepAll)
		if err != nil {
			return nil, err
		}
		for _, key := range k.computedKeys {
			delete(state, key)
		}
		if olds, err = plugin.MarshalProperties(state, keepAll); err != nil {
			return nil, err
		}
	}
	changed, err := changedKeys(olds, req.GetNews(), req.GetIgnoreChanges())
	if err != nil {
		return nil, err
	}
	var replaces []string
	for _, key := range changed {
		for _, r := range k.replaceOn {
			if r == "*" || string(r) == key {
				replaces = append(replaces, key)
				break
			}
		}
	}
	return diffResponse(changed, replaces), nil
}

func (s *server) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	k, err := s.kind(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	inputs, err := plugin.UnmarshalProperties(req.GetProperties(), keepAll)
	if err != nil {
		return nil, err
	}
	outputs := inputs.Copy()
	id := ""
	if req.GetPreview() {
		for _, key := range k.computedKeys {
			outputs[key] = resource.MakeComputed(resource.NewStringProperty(""))
		}
	} else {
		if k.computed != nil {
			extra, err := k.computed(inputs)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", req.GetUrn(), err)
			}
			for key, v := range extra {
				outputs[key] = v
			}
		}
		id = "standin-" + randomHex(8)
	}
	props, err := plugin.MarshalProperties(outputs, keepAll)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// Read returns the state as recorded: there is no real object to refresh from.
func (s *server) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if req.GetProperties() == nil || len(req.GetProperties().GetFields()) == 0 {
		return nil, fmt.Errorf("the %s stand-in (a test double) cannot import %s: it has no real object to read", s.pkg.name, req.GetId())
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (s *server) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	k, err := s.kind(req.GetType(), req.GetUrn())
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), keepAll)
	if err != nil {
		return nil, err
	}
	olds, err := plugin.UnmarshalProperties(req.GetOlds(), keepAll)
	if err != nil {
		return nil, err
	}
	outputs := news.Copy()
	for _, key := range k.computedKeys { // computed once, kept across in-place updates
		if _, set := outputs[key]; !set {
			if v, ok := olds[key]; ok {
				outputs[key] = v
			}
		}
	}
	props, err := plugin.MarshalProperties(outputs, keepAll)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (s *server) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (s *server) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	fn, ok := s.pkg.invokes[req.GetTok()]
	if !ok {
		return nil, fmt.Errorf("the %s stand-in (a test double) does not implement the function %s; it implements: %s",
			s.pkg.name, req.GetTok(), strings.Join(slices.Sorted(maps.Keys(s.pkg.invokes)), ", "))
	}
	args, err := plugin.UnmarshalProperties(req.GetArgs(), plain)
	if err != nil {
		return nil, err
	}
	result, err := fn(args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.GetTok(), err)
	}
	ret, err := plugin.MarshalProperties(result, plain)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: ret}, nil
}

// kind finds how a resource type behaves; typ is the request's type, or "" on an
// older engine, when the type comes from the URN.
func (s *server) kind(typ, urn string) (kind, error) {
	if typ == "" {
		typ = string(resource.URN(urn).Type())
	}
	if k, ok := s.pkg.kinds[typ]; ok {
		return k, nil
	}
	return kind{}, fmt.Errorf("the %s stand-in (a test double) does not implement the resource type %s; it implements: %s",
		s.pkg.name, typ, strings.Join(slices.Sorted(maps.Keys(s.pkg.kinds)), ", "))
}

// changedKeys are the top-level inputs that differ, ignoring the given ones.
func changedKeys(olds, news *structpb.Struct, ignore []string) ([]string, error) {
	o, err := plugin.UnmarshalProperties(olds, plain)
	if err != nil {
		return nil, err
	}
	n, err := plugin.UnmarshalProperties(news, plain)
	if err != nil {
		return nil, err
	}
	for _, key := range ignore {
		delete(o, resource.PropertyKey(key))
		delete(n, resource.PropertyKey(key))
	}
	diff := o.Diff(n)
	if diff == nil || !diff.AnyChanges() {
		return nil, nil
	}
	var keys []string
	for _, k := range diff.ChangedKeys() {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	return keys, nil
}

func diffResponse(changed, replaces []string) *pulumirpc.DiffResponse {
	if len(changed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}
	}
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: changed, Replaces: replaces}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}
