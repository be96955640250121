package stacks

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ConfigNamespace is the Pulumi project name, which namespaces every config key.
const ConfigNamespace = "data-platform"

// Config is a stack's raw config: key (without the namespace) to value. Secret
// values are only checked for presence here; components read them as secrets.
type Config map[string]string

// ConfigKey documents one config key and the kinds of environment that use it.
// Pulumi.yaml declares every key with its type, secrecy and Doc.
type ConfigKey struct {
	Name string
	// Type is the Pulumi config type: ConfigString, ConfigInteger or ConfigBoolean.
	Type     string
	Kinds    []Kind
	Secret   bool
	Required bool
	Doc      string
}

// Pulumi config types of the keys.
const (
	ConfigString  = "string"
	ConfigInteger = "integer"
	ConfigBoolean = "boolean"
)

var (
	allKinds      = []Kind{KindProduction, KindStaging, KindPublic, KindPreviews, KindPreview}
	workloadKinds = []Kind{KindProduction, KindStaging, KindPublic, KindPreview}
	storedKinds   = []Kind{KindProduction, KindStaging, KindPublic}
	previewKinds  = []Kind{KindPreview}
	archivedKinds = kindsWhere(Kind.ArchivesWAL)
)

// ConfigKeys is every key a stack may set. The README's config reference follows it.
var ConfigKeys = []ConfigKey{
	{Name: "kubeContext", Type: ConfigString, Kinds: allKinds, Required: true, Doc: "kubeconfig context of the target cluster (the Kubernetes provider is explicit, never ambient)"},
	{Name: "frontendTag", Type: ConfigString, Kinds: workloadKinds, Required: true, Doc: "tag of ghcr.io/virdx/vxplatform-frontend"},
	{Name: "apiTag", Type: ConfigString, Kinds: workloadKinds, Required: true, Doc: "tag of ghcr.io/virdx/vxplatform-api"},
	{Name: "backupTag", Type: ConfigString, Kinds: workloadKinds, Required: true, Doc: "tag of ghcr.io/virdx/vxplatform-backup (backup and restore jobs)"},
	{Name: "databaseTag", Type: ConfigString, Kinds: archivedKinds, Required: true, Doc: "tag of ghcr.io/virdx/vxplatform-postgres, the database image with pgBackRest (images/postgres)"},
	{Name: "frontendReplicas", Type: ConfigInteger, Kinds: workloadKinds, Doc: "frontend replicas: 2-10 (default 2), previews 1-2 (default 1)"},
	{Name: "apiReplicas", Type: ConfigInteger, Kinds: workloadKinds, Doc: "API replicas: 2-10 (default 2), previews 1-2 (default 1)"},
	{Name: "storageClass", Type: ConfigString, Kinds: workloadKinds, Doc: "storage class of the Postgres volume (default: the cluster's default)"},
	{Name: "postgresStorage", Type: ConfigString, Kinds: workloadKinds, Doc: "Postgres volume size: 10Gi-2Ti (default 50Gi), previews 1Gi-10Gi (default 2Gi)"},
	{Name: "pinImages", Type: ConfigBoolean, Kinds: workloadKinds, Doc: "deploy images by registry digest; always true on production and staging, default false elsewhere"},
	{Name: "s3Endpoint", Type: ConfigString, Kinds: workloadKinds, Required: true, Doc: "host:port of the central MinIO"},
	{Name: "s3UseTLS", Type: ConfigBoolean, Kinds: workloadKinds, Doc: "talk to the central MinIO over TLS (default true; always true on production and staging, whose pgBackRest speaks HTTPS only); its certificate must chain to the system roots of the runner and the images"},
	{Name: "s3EgressCidr", Type: ConfigString, Kinds: workloadKinds, Doc: "address range the egress policy opens for the central MinIO (default: its IP/32; required when s3Endpoint is a hostname)"},
	{Name: "minioUser", Type: ConfigString, Kinds: workloadKinds, Secret: true, Required: true, Doc: "admin user the MinIO provider manages buckets and identities with (secret)"},
	{Name: "minioPassword", Type: ConfigString, Kinds: workloadKinds, Secret: true, Required: true, Doc: "password of minioUser (secret)"},
	{Name: "registryUser", Type: ConfigString, Kinds: workloadKinds, Secret: true, Doc: "ghcr.io user for digest lookups (secret; with registryPassword)"},
	{Name: "registryPassword", Type: ConfigString, Kinds: workloadKinds, Secret: true, Doc: "ghcr.io token for digest lookups (secret; with registryUser)"},
	{Name: "bucket", Type: ConfigString, Kinds: storedKinds, Doc: "the environment's own target bucket (defaults: dataplatform-prod, dataplatform-dev, dataplatform-public)"},
	{Name: "sourceBucket", Type: ConfigString, Kinds: previewKinds, Doc: "central bucket a preview reads (default dataplatform-public); never a patient-data bucket"},
	{Name: "backupSchedule", Type: ConfigString, Kinds: storedKinds, Doc: "cron schedule of the backup CronJob (default '15 2 * * *', UTC)"},
	{Name: "backupRetentionDays", Type: ConfigInteger, Kinds: storedKinds, Doc: "days a backup is kept before its lifecycle rule expires it: 7-3650 (default 30)"},
	{Name: "ingress", Type: ConfigBoolean, Kinds: workloadKinds, Doc: "expose the frontend through an Ingress (default false)"},
	{Name: "hostname", Type: ConfigString, Kinds: workloadKinds, Doc: "the Ingress host (default <env>.data.virdx.dev, pr-<N>.previews.data.virdx.dev)"},
	{Name: "ingressClass", Type: ConfigString, Kinds: workloadKinds, Doc: "ingress class; production and staging may use only 'internal' (default), others default 'nginx'"},
	{Name: "ingressAllowedSources", Type: ConfigString, Kinds: workloadKinds, Doc: "comma-separated CIDRs allowed to reach the Ingress; required on production and staging when ingress is on"},
	{Name: "ingressTlsSecret", Type: ConfigString, Kinds: workloadKinds, Doc: "TLS Secret of the Ingress (default <prefix>web-tls)"},
}

func kindsWhere(holds func(Kind) bool) []Kind {
	var kinds []Kind
	for _, k := range allKinds {
		if holds(k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

func (k ConfigKey) appliesTo(kind Kind) bool {
	for _, kk := range k.Kinds {
		if kk == kind {
			return true
		}
	}
	return false
}

func lookupKey(name string) (ConfigKey, bool) {
	for _, k := range ConfigKeys {
		if k.Name == name {
			return k, true
		}
	}
	return ConfigKey{}, false
}

// reader reads typed values from a Config, recording problems instead of stopping.
type reader struct {
	kind     Kind
	cfg      Config
	problems problems
}

func (r *reader) raw(key string) (string, bool) {
	v, ok := r.cfg[key]
	return v, ok
}

func (r *reader) string(key, fallback string) string {
	if v, ok := r.raw(key); ok {
		return v
	}
	return fallback
}

func (r *reader) bool(key string, fallback bool) bool {
	v, ok := r.raw(key)
	if !ok {
		return fallback
	}
	b, err := strconv.ParseBool(v)
	if err != nil || (v != "true" && v != "false") {
		r.problems.add(key, v, allowedBool)
		return fallback
	}
	return b
}

func (r *reader) intIn(key string, fallback, lo, hi int) int {
	v, ok := r.raw(key)
	if !ok {
		return fallback
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.problems.add(key, v, fmt.Sprintf("a whole number from %d to %d for a %s stack", lo, hi, r.kind))
		return fallback
	}
	return n
}

// checkKeys reports unknown keys, keys the kind does not use, and missing required ones.
func (r *reader) checkKeys() {
	names := make([]string, 0, len(r.cfg))
	for name := range r.cfg {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		key, known := lookupKey(name)
		switch {
		case !known:
			// An unknown key may be a misspelt secret: its value is not shown.
			r.problems.add(name, hiddenValue, fmt.Sprintf("a key this program knows: did you mean %s? (every key is in the README's config reference)", Closest(name, configKeyNames())))
		case !key.appliesTo(r.kind):
			r.problems.add(name, r.shown(key), fmt.Sprintf("not set: a %s stack does not use %s", r.kind, name))
		}
	}
	for _, key := range ConfigKeys {
		if _, set := r.cfg[key.Name]; key.Required && key.appliesTo(r.kind) && !set {
			how := "pulumi config set " + key.Name + " <value>"
			if key.Secret {
				how = "pulumi config set --secret " + key.Name + " <value>"
			}
			r.problems.add(key.Name, "", "required for a "+string(r.kind)+" stack: "+key.Doc+"; set it with '"+how+"'")
		}
	}
}

// shown is a key's value as an error may print it: secrets never appear.
func (r *reader) shown(key ConfigKey) string {
	if key.Secret {
		return "[secret]"
	}
	return r.cfg[key.Name]
}

// hiddenValue stands for a value an error message must not print.
const hiddenValue = "[not shown]"

func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Description is how Pulumi.yaml describes the key: what it is, its type, and
// which stacks use it.
func (k ConfigKey) Description() string {
	need := "optional"
	if k.Required {
		need = "required"
	}
	return fmt.Sprintf("%s. Type %s; %s on %s.", k.Doc, k.Type, need, kindsText(k.Kinds))
}

// RequiredEverywhere reports whether every kind of stack must set the key: only
// such keys can be Pulumi project config, which Pulumi requires on every stack.
func (k ConfigKey) RequiredEverywhere() bool {
	return k.Required && len(k.Kinds) == len(allKinds)
}

func kindsText(kinds []Kind) string {
	names := make([]string, 0, len(kinds))
	for _, k := range kinds {
		if k == KindPreview {
			names = append(names, previewStackPrefix+"<N>")
		} else {
			names = append(names, string(k))
		}
	}
	if len(names) == len(allKinds) {
		return "every stack"
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
