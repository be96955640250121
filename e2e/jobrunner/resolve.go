package jobrunner

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// resolver reads a pod's references from the API server.
type resolver struct {
	ctx                       context.Context
	client                    kubernetes.Interface
	namespace, pod, container string
}

func (r *resolver) fail(format string, args ...any) error {
	return fmt.Errorf("pod %s/%s container %s: %s", r.namespace, r.pod, r.container, fmt.Sprintf(format, args...))
}

var envName = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)

// environment is the container's variables: envFrom first, then env, later
// entries overriding earlier ones, as the kubelet does.
func (r *resolver) environment(c corev1.Container) (map[string]string, error) {
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		data, found, err := r.source(from.SecretRef, from.ConfigMapRef)
		if err != nil {
			return nil, err
		}
		if !found {
			continue // optional and absent: the kubelet adds nothing either
		}
		for _, k := range slices.Sorted(maps.Keys(data)) {
			name := from.Prefix + k
			if !envName.MatchString(name) {
				return nil, r.fail("envFrom: key %q gives the variable name %q, which is not valid", k, name)
			}
			env[name] = data[k]
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			if strings.Contains(e.Value, "$(") {
				return nil, r.fail("env %s: $(...) expansion is not implemented by the job runner", e.Name)
			}
			env[e.Name] = e.Value
			continue
		}
		value, set, err := r.valueFrom(e.Name, e.ValueFrom)
		if err != nil {
			return nil, err
		}
		if set {
			env[e.Name] = value
		}
	}
	return env, nil
}

// source reads a whole Secret or ConfigMap for envFrom.
func (r *resolver) source(secret *corev1.SecretEnvSource, configMap *corev1.ConfigMapEnvSource) (map[string]string, bool, error) {
	switch {
	case secret != nil:
		return r.secretData(secret.Name, secret.Optional)
	case configMap != nil:
		return r.configMapData(configMap.Name, configMap.Optional)
	}
	return nil, false, r.fail("envFrom: neither secretRef nor configMapRef")
}

func (r *resolver) valueFrom(name string, from *corev1.EnvVarSource) (string, bool, error) {
	switch {
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		data, found, err := r.secretData(ref.Name, ref.Optional)
		if err != nil || !found {
			return "", false, err
		}
		return r.key(name, "Secret", ref.Name, data, ref.Key, ref.Optional)
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		data, found, err := r.configMapData(ref.Name, ref.Optional)
		if err != nil || !found {
			return "", false, err
		}
		return r.key(name, "ConfigMap", ref.Name, data, ref.Key, ref.Optional)
	case from.FieldRef != nil:
		switch from.FieldRef.FieldPath {
		case "metadata.namespace":
			return r.namespace, true, nil
		case "metadata.name":
			return r.pod, true, nil
		}
		return "", false, r.fail("env %s: fieldRef %s is not implemented by the job runner", name, from.FieldRef.FieldPath)
	}
	return "", false, r.fail("env %s: this valueFrom is not implemented by the job runner", name)
}

func (r *resolver) key(env, kind, object string, data map[string]string, key string, optional *bool) (string, bool, error) {
	v, ok := data[key]
	if ok {
		return v, true, nil
	}
	if optional != nil && *optional {
		return "", false, nil
	}
	return "", false, r.fail("env %s: %s %s/%s has no key %q (it has %s)", env, kind, r.namespace, object, key, strings.Join(slices.Sorted(maps.Keys(data)), ", "))
}

func (r *resolver) secretData(name string, optional *bool) (map[string]string, bool, error) {
	s, err := r.client.CoreV1().Secrets(r.namespace).Get(r.ctx, name, metav1.GetOptions{})
	if notFound(err) && optional != nil && *optional {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, r.fail("Secret %s/%s: %v", r.namespace, name, err)
	}
	data := map[string]string{}
	for k, v := range s.Data {
		data[k] = string(v)
	}
	for k, v := range s.StringData { // only set on objects never stored; kept for completeness
		data[k] = v
	}
	return data, true, nil
}

func (r *resolver) configMapData(name string, optional *bool) (map[string]string, bool, error) {
	cm, err := r.client.CoreV1().ConfigMaps(r.namespace).Get(r.ctx, name, metav1.GetOptions{})
	if notFound(err) && optional != nil && *optional {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, r.fail("ConfigMap %s/%s: %v", r.namespace, name, err)
	}
	data := maps.Clone(cm.Data)
	if data == nil {
		data = map[string]string{}
	}
	for k, v := range cm.BinaryData {
		data[k] = string(v)
	}
	return data, true, nil
}

// mounts writes the files of the container's mounted volumes under dir and
// returns mount path -> local directory. emptyDir volumes are empty directories.
func (r *resolver) mounts(spec corev1.PodSpec, c corev1.Container, dir string) (map[string]string, error) {
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	out := map[string]string{}
	for i, m := range c.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			return nil, r.fail("volumeMount %s: no volume of that name", m.Name)
		}
		if m.SubPath != "" || m.SubPathExpr != "" {
			return nil, r.fail("volumeMount %s: subPath is not implemented by the job runner", m.Name)
		}
		local := filepath.Join(dir, fmt.Sprintf("mount-%d-%s", i, m.Name))
		if err := os.MkdirAll(local, 0o700); err != nil {
			return nil, err
		}
		var files map[string]string
		var err error
		switch {
		case v.EmptyDir != nil:
		case v.Secret != nil:
			var data map[string]string
			var found bool
			if data, found, err = r.secretData(v.Secret.SecretName, v.Secret.Optional); err == nil && found {
				files, err = r.items("Secret", v.Secret.SecretName, data, v.Secret.Items, v.Secret.Optional)
			}
		case v.ConfigMap != nil:
			var data map[string]string
			var found bool
			if data, found, err = r.configMapData(v.ConfigMap.Name, v.ConfigMap.Optional); err == nil && found {
				files, err = r.items("ConfigMap", v.ConfigMap.Name, data, v.ConfigMap.Items, v.ConfigMap.Optional)
			}
		default:
			return nil, r.fail("volume %s: only secret, configMap and emptyDir volumes are implemented by the job runner", v.Name)
		}
		if err != nil {
			return nil, err
		}
		for path, content := range files {
			file := filepath.Join(local, path)
			if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
				return nil, err
			}
			if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
				return nil, err
			}
		}
		out[m.MountPath] = local
	}
	return out, nil
}

// items are the files of a Secret or ConfigMap volume: every key, or the listed
// items (each of which must exist unless the volume is optional).
func (r *resolver) items(kind, name string, data map[string]string, items []corev1.KeyToPath, optional *bool) (map[string]string, error) {
	files := map[string]string{}
	if len(items) == 0 {
		maps.Copy(files, data)
		return files, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional != nil && *optional {
				continue
			}
			return nil, r.fail("volume item %s: %s %s/%s has no key %q", it.Path, kind, r.namespace, name, it.Key)
		}
		if strings.Contains(it.Path, "..") || filepath.IsAbs(it.Path) {
			return nil, r.fail("volume item path %q is not a relative path inside the volume", it.Path)
		}
		files[it.Path] = v
	}
	return files, nil
}
