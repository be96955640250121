package main

import (
	pathpkg "path"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

var literalCredentialsRule = resourceRule{
	name: "kubernetes-container-no-literal-credentials",
	description: "Credentials reach containers only from Secrets (env valueFrom.secretKeyRef, envFrom secretRef, mounted Secret files): " +
		"never as literal env values, from ConfigMaps, or in command lines (args, probes, lifecycle hooks).",
	scope: everywhere,
	check: checkLiteralCredentials,
}

// credentialName matches names of variables, keys and flags that carry
// credentials, in any case and position: DB_PASS, PGPASSWORD, MYSQL_PWD,
// apiToken, SIGNING_KEY, CLIENT_SECRET, credentials.json.
var credentialName = regexp.MustCompile(`(?i)(pass|pwd|token|key|secret|credential)`)

// referenceSuffix ends the names of variables and flags that say where a
// credential is (a file, a directory, a variable, a Secret), not what it is.
var referenceSuffix = regexp.MustCompile(`(?i)([-_.]?(file|path|dir)|[-_.](env|ref|name))$`)

// urlWithPassword matches a URL with user:password@ in it; the password is the
// first group, so that a shell variable reference ("$PGPASSWORD") can be told apart.
var urlWithPassword = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:([^@\s/]+)@`)

// credentialAssignment matches NAME=value in a shell command line.
var credentialAssignment = regexp.MustCompile(`(?:^|[\s;&|(])([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^\s;&|)]*)`)

// credentialFlag matches --name=value or --name (value in the next argument).
var credentialFlag = regexp.MustCompile(`^--?([A-Za-z0-9][A-Za-z0-9_.-]*)(?:=(.*))?$`)

// fromSecretOnly ends every message of the rule: it says what to do instead.
const fromSecretOnly = "credentials come only from a Secret (valueFrom.secretKeyRef)"

// checkLiteralCredentials: a credential in a pod spec is readable by everyone who
// can read the Deployment (kubectl get -o yaml), lands in Pulumi state and diffs in
// plain text, and outlives every rotation of the Secret it was copied from. The
// rule never prints a value it inspects.
func checkLiteralCredentials(_ target, r analyzed) []finding {
	if r.isKube("ConfigMap", "core") {
		return checkConfigMapCredentials(r)
	}
	f := newFindings()
	pod, containers, ok := workloadPod(r, f)
	if !ok {
		return f.all()
	}
	secretPaths := secretMountPaths(pod)
	for _, c := range containers {
		checkEnvCredentials(c, secretPaths(c))
		for _, path := range commandLines {
			checkArgCredentials(c, path)
		}
	}
	return f.all()
}

// commandLines are where a container runs commands: its own, and the exec
// actions of its probes and lifecycle hooks, which run in it the same way.
var commandLines = [][]string{
	{"command"}, {"args"},
	{"livenessProbe", "exec", "command"}, {"readinessProbe", "exec", "command"}, {"startupProbe", "exec", "command"},
	{"lifecycle", "postStart", "exec", "command"}, {"lifecycle", "preStop", "exec", "command"},
}

// checkConfigMapCredentials: whatever is in a ConfigMap reaches containers in the
// clear, through envFrom, configMapKeyRef or a volume, and every reader of the
// namespace can read it. A key named like a credential with a value is one.
func checkConfigMapCredentials(r analyzed) []finding {
	f := newFindings()
	for _, field := range []string{"data", "binaryData"} {
		data, ok := judge(f, mapAt(r.Props, field))
		if !ok {
			continue
		}
		for key, value := range data.AllStable {
			if credentialName.MatchString(key) && !referenceSuffix.MatchString(key) && !(value.IsString() && value.AsString() == "") && !value.IsNull() {
				f.violation("%s[%q] is a credential in a ConfigMap, which containers receive in the clear (envFrom, configMapKeyRef, volumes): %s", field, key, fromSecretOnly)
			}
		}
	}
	return f.all()
}

// secretMountPaths returns, per container, the directories where Secret
// volumes (or projected volumes of Secrets only) are mounted.
func secretMountPaths(pod property.Map) func(container) []string {
	secretVolumes := map[string]bool{}
	if volumes := listAt(pod, "volumes"); volumes.state == known {
		for _, item := range elements(volumes.value, "volumes") {
			volume := item.asMap()
			if volume.state != known {
				continue
			}
			name := stringAt(volume.value, "name")
			if name.state == known && isSecretVolume(volume.value) {
				secretVolumes[name.value] = true
			}
		}
	}
	return func(c container) []string {
		var paths []string
		mounts := listAt(c.props, "volumeMounts")
		if mounts.state != known {
			return nil
		}
		for _, item := range elements(mounts.value, "volumeMounts") {
			mount := item.asMap()
			if mount.state != known {
				continue
			}
			name, path := stringAt(mount.value, "name"), stringAt(mount.value, "mountPath")
			if name.state == known && path.state == known && secretVolumes[name.value] {
				paths = append(paths, strings.TrimSuffix(path.value, "/")+"/")
			}
		}
		return paths
	}
}

func isSecretVolume(volume property.Map) bool {
	if mapAt(volume, "secret").state == known {
		return true
	}
	sources := listAt(volume, "projected", "sources")
	if sources.state != known || len(sources.value) == 0 {
		return false
	}
	for _, item := range elements(sources.value, "sources") {
		source := item.asMap()
		if source.state != known || source.value.Len() != 1 || mapAt(source.value, "secret").state != known {
			return false
		}
	}
	return true
}

func checkEnvCredentials(c container, secretPaths []string) {
	env, ok := judge(c.f, listAt(c.props, "env"))
	if !ok {
		return
	}
	for _, item := range elements(env, "env") {
		variable, ok := judge(c.f, item.asMap())
		if !ok {
			continue
		}
		name := stringAt(variable, "name")
		name.path = item.path + ".name"
		varName, ok := judge(c.f, name)
		if !ok {
			continue
		}
		value := stringAt(variable, "value")
		value.path = "env " + varName
		isCredential := credentialName.MatchString(varName)
		isReference := isCredential && referenceSuffix.MatchString(varName)
		switch {
		case isReference && value.state == known && value.value != "" && !underAny(value.value, secretPaths):
			c.f.violation("env %s points at %q, which is not in a mounted Secret: %s", varName, value.value, fromSecretOnly)
		case isReference:
			// A *_FILE variable naming a file of a mounted Secret is how the
			// credential should arrive; an unknown path is a reference, not one.
		case isCredential && value.state != absent && !(value.state == known && value.value == ""):
			c.f.violation("env %s is a literal value: "+fromSecretOnly, varName)
		case value.state == known && hasLiteralURLPassword(value.value):
			c.f.violation("env %s has a password in a URL: "+fromSecretOnly, varName)
		default:
			judge(c.f, value)
		}
		if isCredential {
			if ref := mapAt(variable, "valueFrom", "configMapKeyRef"); ref.state != absent {
				c.f.violation("env %s comes from a ConfigMap: "+fromSecretOnly, varName)
			}
		}
	}
}

func checkArgCredentials(c container, path []string) {
	field := strings.Join(path, ".")
	args, ok := judge(c.f, listAt(c.props, path...))
	if !ok {
		return
	}
	items := elements(args, field)
	for i, item := range items {
		arg, ok := judge(c.f, item.asString())
		if !ok {
			continue
		}
		if hasLiteralURLPassword(arg) {
			c.f.violation("%s has a password in a URL: "+fromSecretOnly, item.path)
		}
		for _, m := range credentialAssignment.FindAllStringSubmatch(arg, -1) {
			if credentialName.MatchString(m[1]) && isLiteral(m[2]) {
				c.f.violation("%s sets %s to a literal value: "+fromSecretOnly, item.path, m[1])
			}
		}
		flag := credentialFlag.FindStringSubmatch(arg)
		if flag == nil || !isCredentialFlag(flag[1]) {
			continue
		}
		value, inline := flag[2], strings.Contains(arg, "=")
		if !inline {
			if i+1 >= len(items) {
				continue
			}
			next := items[i+1].asString()
			if next.state != known {
				continue
			}
			value = next.value
		}
		if isLiteral(value) {
			c.f.violation("%s passes --%s a literal value: "+fromSecretOnly, item.path, flag[1])
		}
	}
}

// isCredentialFlag: --password, --db-pass and --client-secret carry a
// credential; --password-file, --token-path and --secret-name say where one is,
// and --password-secret names the Secret that holds it.
func isCredentialFlag(name string) bool {
	if !credentialName.MatchString(name) || referenceSuffix.MatchString(name) {
		return false
	}
	if head, ok := cutSuffixFold(name, "secret"); ok && len(head) > 1 && credentialName.MatchString(head[:len(head)-1]) {
		return false
	}
	return true
}

func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) < len(suffix) || !strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return "", false
	}
	return s[:len(s)-len(suffix)], true
}

// underAny reports whether a path lies inside one of the directories.
func underAny(path string, dirs []string) bool {
	path = pathpkg.Clean(path)
	for _, dir := range dirs {
		if strings.HasPrefix(path, dir) {
			return true
		}
	}
	return false
}

// isLiteral: a value that is not empty and not a reference to a variable ($X,
// "${X}") is a literal.
func isLiteral(value string) bool {
	v := strings.Trim(value, `"'`)
	return v != "" && !strings.HasPrefix(v, "$")
}

func hasLiteralURLPassword(s string) bool {
	for _, m := range urlWithPassword.FindAllStringSubmatch(s, -1) {
		if isLiteral(m[1]) {
			return true
		}
	}
	return false
}
