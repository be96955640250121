package main

import (
	"fmt"
	"math/rand"
	"net/netip"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// The address-range and document-key families are about spellings: the pack
// must reach the same verdict for every way of writing the same thing. These
// tests generate the spellings instead of listing a few.

// splitRange spells a prefix as the 2^depth ranges it divides into.
func splitRange(p netip.Prefix, depth int) []netip.Prefix {
	if depth == 0 {
		return []netip.Prefix{p}
	}
	low, high := halves(p)
	return append(splitRange(low, depth-1), splitRange(high, depth-1)...)
}

// rangeSpellings writes each range in several equivalent ways: canonical, with
// host bits set, and IPv4 as IPv4-mapped IPv6.
func rangeSpellings(rng *rand.Rand, ranges []netip.Prefix) []string {
	out := make([]string, 0, len(ranges))
	for _, p := range ranges {
		s := p.String()
		switch rng.Intn(3) {
		case 1: // host bits set: the same network
			b := p.Addr().AsSlice()
			if p.Bits() < len(b)*8 {
				b[len(b)-1] |= 1
				a, _ := netip.AddrFromSlice(b)
				s = netip.PrefixFrom(a, p.Bits()).String()
			}
		case 2:
			if p.Addr().Is4() {
				s = netip.PrefixFrom(netip.AddrFrom16(p.Addr().As16()), p.Bits()+96).String()
			}
		}
		out = append(out, s)
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func TestAddressRangeSpellings(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	tests := []struct {
		name     string
		space    netip.Prefix
		everyone bool
	}{
		{name: "all of IPv4", space: netip.MustParsePrefix("0.0.0.0/0"), everyone: true},
		{name: "all of IPv6", space: netip.MustParsePrefix("::/0"), everyone: true},
		{name: "a private IPv4 range", space: netip.MustParsePrefix("10.0.0.0/8")},
		{name: "an IPv6 unique-local range", space: netip.MustParsePrefix("fc00::/7")},
	}
	for _, tt := range tests {
		for depth := 0; depth <= 6; depth++ {
			pieces := splitRange(tt.space, depth)
			for round := 0; round < 5; round++ {
				spelled := rangeSpellings(rng, pieces)
				name := fmt.Sprintf("%s/depth %d/%s", tt.name, depth, strings.Join(spelled, ","))
				t.Run(name, func(t *testing.T) {
					checkRangeVerdict(t, spelled, tt.everyone)
				})
				if tt.everyone && len(pieces) > 1 {
					// One piece fewer is not everyone any more: the twin that must pass.
					missing := rangeSpellings(rng, pieces[1:])
					t.Run(name+"/one piece missing", func(t *testing.T) {
						checkRangeVerdict(t, missing, false)
					})
				}
			}
		}
	}
}

// checkRangeVerdict runs the spelled ranges through both rules that judge
// address ranges, as an Ingress allow-list and as NetworkPolicy ipBlocks.
func checkRangeVerdict(t *testing.T, spelled []string, everyone bool) {
	t.Helper()
	ingress := analyzed{Type: ingressType, URN: "ingress", Props: property.NewMap(map[string]property.Value{
		"spec": obj(map[string]property.Value{"ingressClassName": str("internal")}),
		"metadata": obj(map[string]property.Value{"annotations": obj(map[string]property.Value{
			sourceRangeAnnotations[0]: str(strings.Join(spelled, " , "))})}),
	})}
	var peers []property.Value
	for _, s := range spelled {
		peers = append(peers, ipBlock(s))
	}
	netpol := analyzed{Type: netpolType, URN: "netpol", Props: property.NewMap(map[string]property.Value{
		"spec": obj(map[string]property.Value{"ingress": list(obj(map[string]property.Value{"from": list(peers...)}))}),
	})}
	production := targetFor("production")
	for _, c := range []struct {
		rule string
		got  []finding
	}{
		{"ingress allow-list", checkIngressInternalOnly(production, ingress)},
		{"NetworkPolicy ipBlocks", checkNetworkPolicyOpenPeers(production, netpol)},
	} {
		admits := false
		for _, f := range c.got {
			if strings.Contains(f.message, "every") {
				admits = true
			} else {
				t.Errorf("%s: unexpected finding %q", c.rule, f.message)
			}
		}
		if admits != everyone {
			t.Errorf("%s %v: admits everyone %v, want %v (findings %v)", c.rule, spelled, admits, everyone, c.got)
		}
	}
}

// keySpellings are ways encoding/json, and so MinIO, reads the same key.
func keySpellings(rng *rand.Rand, key string) []string {
	mixed := []rune(key)
	for i := range mixed {
		if rng.Intn(2) == 0 {
			mixed[i] = []rune(strings.ToUpper(string(mixed[i])))[0]
		} else {
			mixed[i] = []rune(strings.ToLower(string(mixed[i])))[0]
		}
	}
	return []string{key, strings.ToLower(key), strings.ToUpper(key), string(mixed)}
}

// document writes a policy document with the given key spellings; each value
// is a list or a single string at random.
func document(rng *rand.Rand, keys map[string]string, action, resource string) string {
	one := func(v string) string {
		if rng.Intn(2) == 0 {
			return fmt.Sprintf("%q", v)
		}
		return fmt.Sprintf("[%q]", v)
	}
	st := fmt.Sprintf(`{%q:%q,%q:%s,%q:%s}`, keys["Effect"], "Allow", keys["Action"], one(action), keys["Resource"], one(resource))
	if rng.Intn(2) == 0 {
		st = "[" + st + "]"
	}
	return fmt.Sprintf(`{%q:"2012-10-17",%q:%s}`, keys["Version"], keys["Statement"], st)
}

func TestDocumentKeySpellings(t *testing.T) {
	rng := rand.New(rand.NewSource(12))
	tests := []struct {
		name             string
		action, resource string
		want             string // a fragment of the one finding, or "" for none
	}{
		{name: "s3:* on every bucket", action: "s3:*", resource: "arn:aws:s3:::*", want: "allows s3:* on every bucket"},
		{name: "s3:* on a bucket of policy variables", action: "S3:*", resource: "arn:aws:s3:::${aws:username}", want: "allows s3:* on every bucket"},
		{name: "administration", action: "admin:ServerInfo", resource: "arn:aws:s3:::dataplatform-public", want: "allows MinIO administration"},
		{name: "reading the public bucket", action: "s3:GetObject", resource: "arn:aws:s3:::dataplatform-public/*"},
	}
	keys := []string{"Version", "Statement", "Effect", "Action", "Resource"}
	for _, tt := range tests {
		for round := 0; round < 40; round++ {
			spelling := map[string]string{}
			for _, k := range keys {
				options := keySpellings(rng, k)
				spelling[k] = options[rng.Intn(len(options))]
			}
			doc := document(rng, spelling, tt.action, tt.resource)
			t.Run(tt.name+"/"+doc, func(t *testing.T) {
				policy := analyzed{Type: iamPolicyType, URN: "policy", Props: property.NewMap(map[string]property.Value{
					"name": str("dataplatform-public-app"), "policy": str(doc)})}
				got := checkIAMWildcard(targetFor("public"), policy)
				switch {
				case tt.want == "" && len(got) > 0:
					t.Errorf("findings %v, want none", got)
				case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0].message, tt.want)):
					t.Errorf("findings %v, want one containing %q", got, tt.want)
				}
			})
		}
	}
}
