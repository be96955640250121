// Package testconfig holds complete, valid stack configs for tests. It imports
// only stacks, so that every package's tests (including those the program
// imports) can use it; internal/programtest re-exports it.
package testconfig

import "github.com/virdx/vxplatform-infra/stacks"

// KubeContext is the kubeContext of Valid configs.
const KubeContext = "vx-cluster"

// SecretConfigValue is what Valid sets for each secret config key.
func SecretValue(key string) string { return "config-secret-" + key }

// Valid is a complete, valid config for a stack.
func Valid(stack string) stacks.Config {
	id, err := stacks.ParseStackName(stack)
	if err != nil {
		panic(err)
	}
	cfg := stacks.Config{"kubeContext": KubeContext}
	if id.Kind == stacks.KindPreviews {
		return cfg
	}
	for k, v := range map[string]string{
		"frontendTag": "v1.4.2", "apiTag": "v1.4.2", "backupTag": "v0.3.0",
		"s3Endpoint": "192.168.10.101:10000", "s3UseTLS": "true",
		"minioUser": SecretValue("minioUser"), "minioPassword": SecretValue("minioPassword"),
	} {
		cfg[k] = v
	}
	if id.Kind.ArchivesWAL() {
		cfg["databaseTag"] = "v0.2.0"
	}
	return cfg
}

// With returns a copy of cfg with key/value pairs set; Without one with keys removed.
func With(cfg stacks.Config, kv ...string) stacks.Config {
	out := stacks.Config{}
	for k, v := range cfg {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// Without returns a copy of cfg without the keys.
func Without(cfg stacks.Config, keys ...string) stacks.Config {
	out := With(cfg)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}
