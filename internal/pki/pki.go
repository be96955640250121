// Package pki issues the small private PKI of one database's pgBackRest TLS
// link: a CA, the server certificate of the pgBackRest sidecar and the client
// certificate of the backup jobs.
//
// Everything is derived from a secret seed, deterministically (Ed25519 keys
// from the seed, Ed25519 signatures, serial numbers from the seed, fixed
// validity): the Pulumi program has no TLS provider, and the same seed must
// give byte-identical certificates on every `pulumi up`, or every run would
// replace the Secrets and restart the database. The seed lives in the stack's
// state as a secret (a random password); rotating the certificates is
// replacing that seed.
package pki

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// MinSeedLength is the shortest seed accepted: the keys are no stronger than it.
const MinSeedLength = 32

// Validity of every certificate. Fixed, so that the same seed always gives the
// same certificate; they never expire on their own (RFC 5280's "no well-defined
// expiration" date) and are rotated by replacing the seed.
var (
	notBefore = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)
)

// Request names what the certificates are for.
type Request struct {
	// Authority is the CA's common name, e.g. "vxplatform production pgBackRest CA".
	Authority string
	// ServerNames are the DNS names of the server: the first is its CN.
	// pgBackRest checks the server's name, never an IP address.
	ServerNames []string
	// ClientCN is the client certificate's CN, which the server admits
	// (pgBackRest's tls-server-auth).
	ClientCN string
}

// Bundle is the issued PKI, PEM encoded.
type Bundle struct {
	CACert     string
	ServerCert string
	ServerKey  string
	ClientCert string
	ClientKey  string
}

// Issue derives the CA, server and client certificates from seed.
func Issue(seed []byte, req Request) (Bundle, error) {
	if err := req.validate(len(seed)); err != nil {
		return Bundle{}, err
	}
	caKey := derivedKey(seed, "ca")
	ca := &x509.Certificate{
		SerialNumber:          derivedSerial(seed, "ca"),
		Subject:               pkix.Name{CommonName: req.Authority},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(nil, ca, ca, caKey.Public(), caKey)
	if err != nil {
		return Bundle{}, fmt.Errorf("pki: CA %q: %w", req.Authority, err)
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		return Bundle{}, err
	}
	serverCert, serverKey, err := leaf(seed, "server", ca, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: req.ServerNames[0]},
		DNSNames:    req.ServerNames,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return Bundle{}, err
	}
	clientCert, clientKey, err := leaf(seed, "client", ca, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: req.ClientCN},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return Bundle{}, err
	}
	return Bundle{
		CACert:     encode("CERTIFICATE", caDER),
		ServerCert: serverCert, ServerKey: serverKey,
		ClientCert: clientCert, ClientKey: clientKey,
	}, nil
}

func (r Request) validate(seedLength int) error {
	var problems []string
	if seedLength < MinSeedLength {
		problems = append(problems, fmt.Sprintf("seed: %d bytes; at least %d", seedLength, MinSeedLength))
	}
	if strings.TrimSpace(r.Authority) == "" {
		problems = append(problems, fmt.Sprintf("authority=%q: a non-empty CA name", r.Authority))
	}
	if len(r.ServerNames) == 0 {
		problems = append(problems, "server names: none; at least one DNS name (pgBackRest checks the name)")
	}
	for _, name := range r.ServerNames {
		if name == "" || strings.ContainsAny(name, " /:") {
			problems = append(problems, fmt.Sprintf("server name %q: a DNS name", name))
		}
	}
	if strings.TrimSpace(r.ClientCN) == "" {
		problems = append(problems, fmt.Sprintf("client CN=%q: the name the server admits", r.ClientCN))
	}
	if len(problems) > 0 {
		return errors.New("pki: " + strings.Join(problems, "; "))
	}
	return nil
}

// leaf issues one end-entity certificate signed by the CA.
func leaf(seed []byte, role string, ca *x509.Certificate, caKey ed25519.PrivateKey, template *x509.Certificate) (certPEM, keyPEM string, err error) {
	key := derivedKey(seed, role)
	template.SerialNumber = derivedSerial(seed, role)
	template.NotBefore, template.NotAfter = notBefore, notAfter
	template.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(nil, template, ca, key.Public(), caKey)
	if err != nil {
		return "", "", fmt.Errorf("pki: %s certificate: %w", role, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	return encode("CERTIFICATE", der), encode("PRIVATE KEY", keyDER), nil
}

// derivedKey is the Ed25519 key of one role: independent per role, fixed per seed.
func derivedKey(seed []byte, role string) ed25519.PrivateKey {
	sum := sha256.Sum256(append([]byte("vxplatform-pki key "+role+"\x00"), seed...))
	return ed25519.NewKeyFromSeed(sum[:])
}

// derivedSerial is a positive 127-bit serial number, unique per role and seed.
func derivedSerial(seed []byte, role string) *big.Int {
	sum := sha256.Sum256(append([]byte("vxplatform-pki serial "+role+"\x00"), seed...))
	sum[0] &= 0x7f
	return new(big.Int).SetBytes(sum[:16])
}

func encode(kind string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}))
}
