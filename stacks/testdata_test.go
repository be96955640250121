package stacks

// validConfig is a complete, valid config for each kind of stack; tests mutate a copy.
func validConfig(stack string) Config {
	id, err := ParseStackName(stack)
	if err != nil {
		panic(err)
	}
	cfg := Config{"kubeContext": "vx-cluster"}
	if id.Kind == KindPreviews {
		return cfg
	}
	for k, v := range map[string]string{
		"frontendTag": "v1.4.2", "apiTag": "v1.4.2", "backupTag": "v0.3.0",
		"s3Endpoint": "192.168.10.101:10000", "minioUser": "admin", "minioPassword": "s3cr3t",
	} {
		cfg[k] = v
	}
	if id.Kind.ArchivesWAL() {
		cfg["databaseTag"] = "v0.2.0"
	}
	return cfg
}

func with(cfg Config, kv ...string) Config {
	out := Config{}
	for k, v := range cfg {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func without(cfg Config, keys ...string) Config {
	out := with(cfg)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}
