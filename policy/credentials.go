package main

import (
	"regexp"
	"strings"
)

var literalCredentialsRule = resourceRule{
	name: "kubernetes-container-no-literal-credentials",
	description: "Credentials reach containers only from Secrets (env valueFrom.secretKeyRef): " +
		"never as literal env values, from ConfigMaps, or in command-line arguments.",
	scope: everywhere,
	check: checkLiteralCredentials,
}

// credentialName matches names of variables and flags that carry credentials.
var credentialName = regexp.MustCompile(`(?i)(password|passwd|passphrase|secret|token|credential|private[_-]?key|access[_-]?key|api[_-]?key)`)

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
	return eachContainer(r, func(c container) {
		checkEnvCredentials(c)
		for _, field := range []string{"command", "args"} {
			checkArgCredentials(c, field)
		}
	})
}

func checkEnvCredentials(c container) {
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
		switch {
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

func checkArgCredentials(c container, field string) {
	args, ok := judge(c.f, listAt(c.props, field))
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

// isCredentialFlag: --password is a credential, --password-file names where one is.
func isCredentialFlag(name string) bool {
	lower := strings.ToLower(name)
	for _, suffix := range []string{"-file", "_file", "-path", "-env", "-ref"} {
		if strings.HasSuffix(lower, suffix) {
			return false
		}
	}
	return credentialName.MatchString(name)
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
