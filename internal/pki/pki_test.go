package pki

import (
	"bytes"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

var (
	seedA = bytes.Repeat([]byte{0xa5}, MinSeedLength)
	seedB = bytes.Repeat([]byte{0x5a}, MinSeedLength)
	req   = Request{
		Authority:   "vxplatform production pgBackRest CA",
		ServerNames: []string{"postgres.data-platform-production.svc", "postgres"},
		ClientCN:    "vx-backup-job",
	}
)

func issue(t *testing.T, seed []byte) Bundle {
	t.Helper()
	b, err := Issue(seed, req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parse(t *testing.T, certPEM string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("not a PEM certificate: %q", certPEM)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The same seed must give byte-identical output, or every pulumi up would
// rewrite the Secrets and restart the database.
func TestIssueIsDeterministic(t *testing.T) {
	if a, b := issue(t, seedA), issue(t, seedA); a != b {
		t.Fatal("two issues from the same seed differ")
	}
	a, b := issue(t, seedA), issue(t, seedB)
	for name, pair := range map[string][2]string{
		"CA": {a.CACert, b.CACert}, "server key": {a.ServerKey, b.ServerKey}, "client key": {a.ClientKey, b.ClientKey},
	} {
		if pair[0] == pair[1] {
			t.Errorf("%s is the same for two seeds", name)
		}
	}
}

func TestChainsAndUsages(t *testing.T) {
	b := issue(t, seedA)
	roots := x509.NewCertPool()
	roots.AddCert(parse(t, b.CACert))
	cases := []struct {
		name  string
		cert  string
		usage x509.ExtKeyUsage
		dns   string
		want  bool
	}{
		{"server for its first name", b.ServerCert, x509.ExtKeyUsageServerAuth, req.ServerNames[0], true},
		{"server for its second name", b.ServerCert, x509.ExtKeyUsageServerAuth, req.ServerNames[1], true},
		{"server for another name", b.ServerCert, x509.ExtKeyUsageServerAuth, "postgres.data-platform-staging.svc", false},
		{"server used as a client", b.ServerCert, x509.ExtKeyUsageClientAuth, "", false},
		{"client", b.ClientCert, x509.ExtKeyUsageClientAuth, "", true},
		{"client used as a server", b.ClientCert, x509.ExtKeyUsageServerAuth, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse(t, c.cert).Verify(x509.VerifyOptions{Roots: roots, DNSName: c.dns, KeyUsages: []x509.ExtKeyUsage{c.usage}})
			if (err == nil) != c.want {
				t.Fatalf("verify: %v, want ok=%v", err, c.want)
			}
		})
	}
	if cn := parse(t, b.ClientCert).Subject.CommonName; cn != req.ClientCN {
		t.Errorf("client CN %q, want %q", cn, req.ClientCN)
	}
	other := x509.NewCertPool()
	other.AddCert(parse(t, issue(t, seedB).CACert))
	if _, err := parse(t, b.ServerCert).Verify(x509.VerifyOptions{Roots: other, DNSName: req.ServerNames[0]}); err == nil {
		t.Error("the server certificate verifies against another seed's CA")
	}
}

func TestKeysMatchCertificates(t *testing.T) {
	b := issue(t, seedA)
	for name, pair := range map[string][2]string{"server": {b.ServerCert, b.ServerKey}, "client": {b.ClientCert, b.ClientKey}} {
		pair, err := tls.X509KeyPair([]byte(pair[0]), []byte(pair[1]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, ok := pair.PrivateKey.(ed25519.PrivateKey); !ok {
			t.Errorf("%s key is %T", name, pair.PrivateKey)
		}
	}
}

func TestIssueRefusesBadRequests(t *testing.T) {
	cases := []struct {
		name string
		seed []byte
		req  Request
		want string
	}{
		{"short seed", seedA[:MinSeedLength-1], req, "seed: 31 bytes; at least 32"},
		{"no authority", seedA, Request{ServerNames: req.ServerNames, ClientCN: "c"}, `authority="": a non-empty CA name`},
		{"no server name", seedA, Request{Authority: "a", ClientCN: "c"}, "server names: none"},
		{"address as a name", seedA, Request{Authority: "a", ServerNames: []string{"10.0.0.1:8432"}, ClientCN: "c"}, `server name "10.0.0.1:8432": a DNS name`},
		{"no client", seedA, Request{Authority: "a", ServerNames: []string{"x"}}, `client CN="": the name the server admits`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Issue(c.seed, c.req)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}
