package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

func init() {
	register(&resourceType{
		token: "minio:index/iamUser:IamUser",
		inputs: []input{{name: "disableUser", kind: kindBool}, {name: "forceDestroy", kind: kindBool}, {name: "name", kind: kindString},
			{name: "secret", kind: kindString}, {name: "tags", kind: kindStringMap}, {name: "updateSecret", kind: kindBool}},
		defaults:      resource.PropertyMap{"disableUser": boolProp(false), "forceDestroy": boolProp(false), "updateSecret": boolProp(false)},
		replaceOn:     []string{"name"},
		autoName:      "name",
		computed:      []string{"status"},
		secretOutputs: []string{"secret"},
		create:        createUser, read: readUser, update: updateUser, delete: deleteUser,
	})
	register(&resourceType{
		token:     "minio:index/iamPolicy:IamPolicy",
		inputs:    []input{{name: "name", kind: kindString}, {name: "namePrefix", kind: kindString}, {name: "policy", kind: kindString, required: true}},
		replaceOn: []string{"name", "namePrefix"},
		autoName:  "name", autoNamePrefix: "namePrefix",
		create: func(ctx context.Context, c *conn, in resource.PropertyMap) (string, resource.PropertyMap, error) {
			return str(in, "name"), nil, putPolicy(ctx, c, str(in, "name"), str(in, "policy"))
		},
		read: readPolicy,
		update: func(ctx context.Context, c *conn, id string, _, news resource.PropertyMap) (resource.PropertyMap, error) {
			return nil, putPolicy(ctx, c, id, str(news, "policy"))
		},
		delete: func(ctx context.Context, c *conn, id string, _ resource.PropertyMap) error {
			return ignoreNotFound(c.mc.run(ctx, "", "admin", "policy", "remove", mcAlias, id))
		},
	})
	register(&resourceType{
		token:     "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment",
		inputs:    []input{{name: "policyName", kind: kindString, required: true}, {name: "userName", kind: kindString, required: true}},
		replaceOn: []string{"policyName", "userName"},
		create:    createAttachment, read: readAttachment,
		update: func(context.Context, *conn, string, resource.PropertyMap, resource.PropertyMap) (resource.PropertyMap, error) {
			return nil, fmt.Errorf("an attachment has no input that changes in place")
		},
		delete: func(ctx context.Context, c *conn, _ string, state resource.PropertyMap) error {
			attached, err := userPolicies(ctx, c, str(state, "userName"))
			if notFound(err) || (err == nil && !slices.Contains(attached, str(state, "policyName"))) {
				return nil
			}
			if err != nil {
				return err
			}
			_, err = c.mc.run(ctx, "", "admin", "policy", "detach", mcAlias, str(state, "policyName"), "--user", str(state, "userName"))
			return err
		},
	})
	register(&resourceType{
		token: "minio:index/iamServiceAccount:IamServiceAccount",
		inputs: []input{{name: "disableUser", kind: kindBool}, {name: "policy", kind: kindString},
			{name: "targetUser", kind: kindString, required: true}, {name: "updateSecret", kind: kindBool}},
		defaults:      resource.PropertyMap{"disableUser": boolProp(false), "updateSecret": boolProp(false)},
		replaceOn:     []string{"targetUser"},
		computed:      []string{"accessKey", "secretKey", "status"},
		secretOutputs: []string{"secretKey"},
		create:        createServiceAccount, read: readServiceAccount, update: updateServiceAccount,
		delete: func(ctx context.Context, c *conn, id string, _ resource.PropertyMap) error {
			return ignoreNotFound(c.mc.run(ctx, "", "admin", "user", "svcacct", "rm", mcAlias, id))
		},
	})
}

func ignoreNotFound(_ []map[string]any, err error) error {
	if notFound(err) {
		return nil
	}
	return err
}

const secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// generatedSecret is a 40-character secret, as upstream generates for a user
// created without one.
func generatedSecret() string {
	b := []byte(randomHex(40))
	for i := range b {
		b[i] = secretChars[int(b[i])%len(secretChars)]
	}
	return string(b)
}

// setUser creates the user or sets its secret; the secret goes on stdin.
func setUser(ctx context.Context, c *conn, name, secret string) error {
	_, err := c.mc.run(ctx, secret+"\n", "admin", "user", "add", mcAlias, name)
	return err
}

func setUserEnabled(ctx context.Context, c *conn, name string, disabled bool) error {
	verb := "enable"
	if disabled {
		verb = "disable"
	}
	_, err := c.mc.run(ctx, "", "admin", "user", verb, mcAlias, name)
	return err
}

func userStatus(disabled bool) resource.PropertyValue {
	if disabled {
		return strProp("disabled")
	}
	return strProp("enabled")
}

func createUser(ctx context.Context, c *conn, in resource.PropertyMap) (string, resource.PropertyMap, error) {
	name, secret := str(in, "name"), str(in, "secret")
	computed := resource.PropertyMap{}
	if secret == "" {
		secret = generatedSecret()
		computed["secret"] = resource.MakeSecret(strProp(secret))
	}
	// Upstream refuses to take over an existing user.
	if _, err := c.mc.one(ctx, "", "admin", "user", "info", mcAlias, name); err == nil {
		return "", nil, fmt.Errorf("user %s already exists on the server", name)
	} else if !notFound(err) {
		return "", nil, err
	}
	if err := setUser(ctx, c, name, secret); err != nil {
		return "", nil, err
	}
	if boolean(in, "disableUser") {
		if err := setUserEnabled(ctx, c, name, true); err != nil {
			return "", nil, err
		}
	}
	computed["status"] = userStatus(boolean(in, "disableUser"))
	return name, computed, nil
}

func readUser(ctx context.Context, c *conn, id string, state resource.PropertyMap) (resource.PropertyMap, bool, error) {
	info, err := c.mc.one(ctx, "", "admin", "user", "info", mcAlias, id)
	if notFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := state.Copy() // the secret and tags cannot be read back
	out["name"] = strProp(id)
	disabled := info["userStatus"] == "disabled"
	out["status"] = userStatus(disabled)
	out["disableUser"] = boolProp(disabled)
	return out, true, nil
}

func updateUser(ctx context.Context, c *conn, id string, state, news resource.PropertyMap) (resource.PropertyMap, error) {
	computed := resource.PropertyMap{}
	secret := str(news, "secret")
	switch {
	case secret != "" && secret != str(state, "secret"):
		if err := setUser(ctx, c, id, secret); err != nil {
			return nil, err
		}
	case secret == "" && boolean(news, "updateSecret"):
		secret = generatedSecret()
		if err := setUser(ctx, c, id, secret); err != nil {
			return nil, err
		}
		computed["secret"] = resource.MakeSecret(strProp(secret))
	case secret == "":
		computed["secret"] = state["secret"] // generated once, kept
	}
	if boolean(news, "disableUser") != boolean(state, "disableUser") {
		if err := setUserEnabled(ctx, c, id, boolean(news, "disableUser")); err != nil {
			return nil, err
		}
	}
	computed["status"] = userStatus(boolean(news, "disableUser"))
	return computed, nil
}

func deleteUser(ctx context.Context, c *conn, id string, state resource.PropertyMap) error {
	if boolean(state, "forceDestroy") {
		accounts, err := c.mc.run(ctx, "", "admin", "user", "svcacct", "ls", mcAlias, id)
		if err != nil && !notFound(err) {
			return err
		}
		for _, a := range accounts {
			if key, _ := a["accessKey"].(string); key != "" {
				if err := ignoreNotFound(c.mc.run(ctx, "", "admin", "user", "svcacct", "rm", mcAlias, key)); err != nil {
					return err
				}
			}
		}
	}
	return ignoreNotFound(c.mc.run(ctx, "", "admin", "user", "remove", mcAlias, id))
}

// putPolicy creates or replaces a canned policy; the document goes on stdin.
func putPolicy(ctx context.Context, c *conn, name, document string) error {
	if !json.Valid([]byte(document)) {
		return fmt.Errorf("policy %s: the document is not valid JSON", name)
	}
	_, err := c.mc.run(ctx, document, "admin", "policy", "create", mcAlias, name, "/dev/stdin")
	return err
}

func readPolicy(ctx context.Context, c *conn, id string, state resource.PropertyMap) (resource.PropertyMap, bool, error) {
	info, err := c.mc.one(ctx, "", "admin", "policy", "info", mcAlias, id)
	if notFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	pi, _ := info["policyInfo"].(map[string]any)
	doc, err := json.Marshal(pi["Policy"])
	if err != nil {
		return nil, false, err
	}
	out := state.Copy()
	out["name"] = strProp(id)
	out["policy"] = strProp(sameJSONOr(str(state, "policy"), string(doc)))
	return out, true, nil
}

// userPolicies are the policies attached to a user.
func userPolicies(ctx context.Context, c *conn, user string) ([]string, error) {
	info, err := c.mc.one(ctx, "", "admin", "user", "info", mcAlias, user)
	if err != nil {
		return nil, err
	}
	names, _ := info["policyName"].(string)
	var out []string
	for _, n := range strings.Split(names, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out, nil
}

func createAttachment(ctx context.Context, c *conn, in resource.PropertyMap) (string, resource.PropertyMap, error) {
	user, policy := str(in, "userName"), str(in, "policyName")
	attached, err := userPolicies(ctx, c, user)
	if err != nil {
		return "", nil, err
	}
	if !slices.Contains(attached, policy) {
		if _, err := c.mc.run(ctx, "", "admin", "policy", "attach", mcAlias, policy, "--user", user); err != nil {
			return "", nil, err
		}
	}
	// Upstream: a unique id prefixed with the user name.
	return user + "-" + randomHex(13), nil, nil
}

func readAttachment(ctx context.Context, c *conn, _ string, state resource.PropertyMap) (resource.PropertyMap, bool, error) {
	attached, err := userPolicies(ctx, c, str(state, "userName"))
	if notFound(err) {
		return nil, false, nil
	}
	if err != nil || !slices.Contains(attached, str(state, "policyName")) {
		return nil, false, err
	}
	return state.Copy(), true, nil
}

func accountStatus(disabled bool) resource.PropertyValue {
	if disabled {
		return strProp("off")
	}
	return strProp("on")
}

func createServiceAccount(ctx context.Context, c *conn, in resource.PropertyMap) (string, resource.PropertyMap, error) {
	args := []string{"admin", "user", "svcacct", "add", mcAlias, str(in, "targetUser")}
	stdin := ""
	if policy := str(in, "policy"); policy != "" {
		args, stdin = append(args, "--policy", "/dev/stdin"), policy
	}
	out, err := c.mc.one(ctx, stdin, args...)
	if err != nil {
		return "", nil, err
	}
	key, _ := out["accessKey"].(string)
	secret, _ := out["secretKey"].(string)
	if key == "" || secret == "" {
		return "", nil, fmt.Errorf("mc svcacct add returned no keys")
	}
	if boolean(in, "disableUser") {
		if _, err := c.mc.run(ctx, "", "admin", "user", "svcacct", "disable", mcAlias, key); err != nil {
			return "", nil, err
		}
	}
	return key, resource.PropertyMap{"accessKey": strProp(key), "secretKey": resource.MakeSecret(strProp(secret)),
		"status": accountStatus(boolean(in, "disableUser"))}, nil
}

func readServiceAccount(ctx context.Context, c *conn, id string, state resource.PropertyMap) (resource.PropertyMap, bool, error) {
	info, err := c.mc.one(ctx, "", "admin", "user", "svcacct", "info", mcAlias, id)
	if notFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := state.Copy() // the secret key cannot be read back
	out["accessKey"] = strProp(id)
	if parent, _ := info["parentUser"].(string); parent != "" {
		out["targetUser"] = strProp(parent)
	}
	disabled := info["accountStatus"] == "off"
	out["status"], out["disableUser"] = accountStatus(disabled), boolProp(disabled)
	if implied, _ := info["impliedPolicy"].(bool); implied {
		delete(out, "policy")
	} else if doc, err := json.Marshal(info["policy"]); err == nil {
		out["policy"] = strProp(sameJSONOr(str(state, "policy"), string(doc)))
	}
	return out, true, nil
}

func updateServiceAccount(ctx context.Context, c *conn, id string, state, news resource.PropertyMap) (resource.PropertyMap, error) {
	if boolean(news, "updateSecret") {
		return nil, fmt.Errorf("updateSecret: rotating a service account's secret is not implemented by the test double")
	}
	if str(news, "policy") != str(state, "policy") {
		if str(news, "policy") == "" {
			return nil, fmt.Errorf("policy: removing a service account's session policy is not implemented by the test double")
		}
		if _, err := c.mc.run(ctx, str(news, "policy"), "admin", "user", "svcacct", "edit", mcAlias, id, "--policy", "/dev/stdin"); err != nil {
			return nil, err
		}
	}
	if boolean(news, "disableUser") != boolean(state, "disableUser") {
		verb := "enable"
		if boolean(news, "disableUser") {
			verb = "disable"
		}
		if _, err := c.mc.run(ctx, "", "admin", "user", "svcacct", verb, mcAlias, id); err != nil {
			return nil, err
		}
	}
	return resource.PropertyMap{"accessKey": strProp(id), "secretKey": state["secretKey"],
		"status": accountStatus(boolean(news, "disableUser"))}, nil
}
