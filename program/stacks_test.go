package program_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/virdx/vxplatform-infra/internal/programtest"
)

// Type tokens the tests talk about.
const (
	tNamespace   = "kubernetes:core/v1:Namespace"
	tQuota       = "kubernetes:core/v1:ResourceQuota"
	tLimitRange  = "kubernetes:core/v1:LimitRange"
	tNetPol      = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	tSecret      = "kubernetes:core/v1:Secret"
	tService     = "kubernetes:core/v1:Service"
	tDeployment  = "kubernetes:apps/v1:Deployment"
	tStatefulSet = "kubernetes:apps/v1:StatefulSet"
	tPDB         = "kubernetes:policy/v1:PodDisruptionBudget"
	tCronJob     = "kubernetes:batch/v1:CronJob"
	tJob         = "kubernetes:batch/v1:Job"
	tConfigMap   = "kubernetes:core/v1:ConfigMap"
	tPVC         = "kubernetes:core/v1:PersistentVolumeClaim"
	tIngress     = "kubernetes:networking.k8s.io/v1:Ingress"
	tBucket      = "minio:index/s3Bucket:S3Bucket"
	tVersioning  = "minio:index/s3BucketVersioning:S3BucketVersioning"
	tIlm         = "minio:index/ilmPolicy:IlmPolicy"
	tIamUser     = "minio:index/iamUser:IamUser"
	tIamPolicy   = "minio:index/iamPolicy:IamPolicy"
	tIamAttach   = "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment"
	tPassword    = "random:index/randomPassword:RandomPassword"
	tK8sProvider = "pulumi:providers:kubernetes"
	tMinio       = "pulumi:providers:minio"
	tDocker      = "pulumi:providers:docker"
	tRandom      = "pulumi:providers:random"
)

func component(name string) string { return "dataplatform:index:" + name }

// persistentCounts is what production registers; staging adds a restore identity
// and job, public resolves no digests.
var persistentCounts = map[string]int{
	component("Platform"): 1, component("Namespace"): 1, component("TrafficRules"): 1, component("Bucket"): 1,
	component("Postgres"): 1, component("WebService"): 2, component("BackupJob"): 1,
	tK8sProvider: 1, tMinio: 1, tDocker: 1, tRandom: 1,
	tNamespace: 1, tQuota: 1, tLimitRange: 1, tNetPol: 6,
	tSecret: 4, tService: 3, tDeployment: 2, tStatefulSet: 1, tPDB: 2, tCronJob: 1,
	tBucket: 2, tVersioning: 2, tIlm: 1, tIamUser: 3, tIamPolicy: 3, tIamAttach: 3, tPassword: 4,
}

func countsWith(base map[string]int, delta map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range delta {
		out[k] += v
		if out[k] == 0 {
			delete(out, k)
		}
	}
	return out
}

// archiveIdentity is the pgBackRest identity of the patient-data environments:
// a user, its policy and attachment, its key and the Secret carrying it.
var archiveIdentity = map[string]int{tIamUser: 1, tIamPolicy: 1, tIamAttach: 1, tSecret: 1, tPassword: 1}

// pointInTime is the rest of point-in-time recovery: the certificates (a seed and
// two Secrets), four scheduled pgBackRest jobs and the restore template, and the
// two traffic rules of the archive paths.
var pointInTime = map[string]int{
	component("ArchiveCertificates"): 1, component("ArchiveJobs"): 1,
	tPassword: 1, tSecret: 2, tCronJob: 5, tNetPol: 2,
}

var expectedCounts = map[string]map[string]int{
	"production": countsWith(countsWith(persistentCounts, archiveIdentity), pointInTime),
	"staging":    countsWith(countsWith(countsWith(persistentCounts, archiveIdentity), pointInTime), map[string]int{tIamUser: 1, tIamPolicy: 1, tIamAttach: 1, tSecret: 1, tPassword: 1, tCronJob: 1}),
	"public":     countsWith(persistentCounts, map[string]int{tDocker: -1}),
	"previews": {
		component("Platform"): 1, component("Namespace"): 1, tK8sProvider: 1,
		tNamespace: 1, tQuota: 1, tLimitRange: 1, tNetPol: 2,
	},
	"pr-123": {
		component("Platform"): 1, component("TrafficRules"): 1, component("Bucket"): 1, component("ObjectStore"): 1,
		component("Postgres"): 1, component("WebService"): 2, component("BackupJob"): 1,
		tK8sProvider: 1, tMinio: 1, tRandom: 1,
		tNetPol: 6, tSecret: 7, tService: 4, tDeployment: 3, tStatefulSet: 1, tJob: 2, tConfigMap: 1, tPVC: 1,
		tIamUser: 3, tIamPolicy: 3, tIamAttach: 3, tPassword: 7,
	},
}

func runStack(t testing.TB, stack string) *programtest.Run {
	t.Helper()
	run, err := programtest.RunProgram(stack, programtest.ValidConfig(stack))
	if err != nil {
		t.Fatalf("%s: %v", stack, err)
	}
	return run
}

func TestRegisteredResourcesPerStack(t *testing.T) {
	for stack, want := range expectedCounts {
		t.Run(stack, func(t *testing.T) {
			got := runStack(t, stack).CountByType()
			for typ := range mergeKeys(got, want) {
				if got[typ] != want[typ] {
					t.Errorf("%s: %d registered, want %d", typ, got[typ], want[typ])
				}
			}
		})
	}
}

func mergeKeys(a, b map[string]int) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

// TestKeyProperties checks, per stack, what makes each environment what it is.
func TestKeyProperties(t *testing.T) {
	tests := []struct {
		stack       string
		namespace   string
		prefix      string
		sensitivity string // namespace label, "" where the stack owns no namespace
		replicas    int
		volume      string
		pinned      bool
		backupCron  bool
		restoreType string // type of the restore object, "" for none
		restoreName string
	}{
		{"production", "data-platform-production", "", "patient-data", 2, "50Gi", true, true, "", ""},
		{"staging", "data-platform-staging", "", "patient-data", 2, "50Gi", true, true, tCronJob, "restore-from-production"},
		{"public", "data-platform-public", "", "none", 2, "50Gi", false, true, "", ""},
		{"pr-123", "data-platform-previews", "pr-123-", "", 1, "2Gi", false, false, tJob, "pr-123-restore-from-public"},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			run := runStack(t, tt.stack)
			for _, res := range run.Resources {
				if !strings.HasPrefix(res.Type, "kubernetes:") || res.Type == tNamespace {
					continue
				}
				if ns := str(res.Inputs, "metadata.namespace"); ns != tt.namespace {
					t.Errorf("%s %s in namespace %q, want %q", res.Type, res.Name, ns, tt.namespace)
				}
				if name := programtest.KubernetesName(res); !strings.HasPrefix(name, tt.prefix) || len(name) > 63 {
					t.Errorf("%s name %q: want prefix %q and at most 63 characters", res.Type, name, tt.prefix)
				}
				if res.Type == tService && str(res.Inputs, "spec.type") != "ClusterIP" {
					t.Errorf("service %s is %s, want ClusterIP", res.Name, str(res.Inputs, "spec.type"))
				}
			}
			ns, ownsNamespace := run.Find(tNamespace, tt.namespace)
			if ownsNamespace != (tt.sensitivity != "") {
				t.Errorf("namespace %s registered = %v, want %v", tt.namespace, ownsNamespace, tt.sensitivity != "")
			}
			if ownsNamespace {
				if got := label(ns, "virdx.dev/sensitivity"); got != tt.sensitivity {
					t.Errorf("namespace sensitivity label %q, want %q", got, tt.sensitivity)
				}
			}
			for _, part := range []string{"frontend", "api"} {
				d, ok := run.Find(tDeployment, tt.prefix+part)
				if !ok {
					t.Fatalf("no %s Deployment", part)
				}
				if n := num(d.Inputs, "spec.replicas"); n != tt.replicas {
					t.Errorf("%s replicas %d, want %d", part, n, tt.replicas)
				}
				image := str(d.Inputs, "spec.template.spec.containers.0.image")
				if !strings.HasPrefix(image, "ghcr.io/virdx/vxplatform-"+part) || strings.Contains(image, "@sha256:") != tt.pinned {
					t.Errorf("%s image %q, pinned want %v", part, image, tt.pinned)
				}
				_, hasPDB := run.Find(tPDB, tt.prefix+part)
				if hasPDB != (tt.replicas > 1) {
					t.Errorf("%s PodDisruptionBudget %v with %d replicas", part, hasPDB, tt.replicas)
				}
				if num(d.Inputs, "spec.strategy.rollingUpdate.maxUnavailable") != 0 {
					t.Errorf("%s rollout may drop capacity", part)
				}
			}
			db, ok := run.Find(tStatefulSet, tt.prefix+"postgres")
			if !ok {
				t.Fatal("no postgres StatefulSet")
			}
			if got := str(db.Inputs, "spec.volumeClaimTemplates.0.spec.resources.requests.storage"); got != tt.volume {
				t.Errorf("postgres volume %q, want %q", got, tt.volume)
			}
			cron, hasCron := run.Find(tCronJob, tt.prefix+"backup")
			if hasCron != tt.backupCron {
				t.Errorf("backup CronJob present %v, want %v", hasCron, tt.backupCron)
			} else if hasCron {
				if str(cron.Inputs, "spec.schedule") != "15 2 * * *" || str(cron.Inputs, "spec.concurrencyPolicy") != "Forbid" {
					t.Errorf("backup CronJob spec %v", cron.Inputs["spec"])
				}
			}
			if tt.restoreType != "" {
				r, ok := run.Find(tt.restoreType, tt.restoreName)
				if !ok {
					t.Fatalf("no restore %s %s", tt.restoreType, tt.restoreName)
				}
				if tt.restoreType == tCronJob {
					if suspended, _ := flag(r.Inputs, "spec.suspend"); !suspended {
						t.Errorf("restore CronJob must be suspended (run on demand)")
					}
				}
			}
			if len(run.ByType(tIngress)) != 0 {
				t.Errorf("ingress registered although off by default")
			}
		})
	}
}

func TestPersistentStacksSizedIdentically(t *testing.T) {
	sizing := func(stack string) map[string]string {
		run := runStack(t, stack)
		out := map[string]string{}
		for _, typ := range []string{tDeployment, tStatefulSet} {
			for _, res := range run.ByType(typ) {
				key := strings.TrimPrefix(programtest.KubernetesName(res), "pr-123-")
				out[key+".replicas"] = strconv.Itoa(num(res.Inputs, "spec.replicas"))
				for _, q := range []string{"requests.cpu", "requests.memory", "limits.cpu", "limits.memory"} {
					out[key+"."+q] = str(res.Inputs, "spec.template.spec.containers.0.resources."+q)
				}
			}
		}
		for _, res := range run.ByType(tStatefulSet) {
			out["volume"] = str(res.Inputs, "spec.volumeClaimTemplates.0.spec.resources.requests.storage")
		}
		return out
	}
	production := sizing("production")
	for _, stack := range []string{"staging", "public"} {
		got := sizing(stack)
		for k, v := range production {
			if got[k] != v {
				t.Errorf("%s %s = %q, production %q", stack, k, got[k], v)
			}
		}
	}
	preview := sizing("pr-123")
	for _, k := range []string{"frontend.replicas", "api.replicas", "postgres.requests.memory", "api.requests.cpu", "volume"} {
		if preview[k] == production[k] {
			t.Errorf("preview %s = %q, same as production: want smaller", k, preview[k])
		}
	}
}

// TestResourceGraph: every resource but the top component has a parent, every
// custom resource uses an explicit provider, every component registers outputs.
func TestResourceGraph(t *testing.T) {
	for stack := range expectedCounts {
		t.Run(stack, func(t *testing.T) {
			run := runStack(t, stack)
			components := 0
			for _, res := range run.Resources {
				if !res.Custom {
					components++
				}
				if res.Parent == "" {
					t.Errorf("%s %s has no parent", res.Type, res.Name)
				}
				// Only the platform component hangs off the stack itself.
				isTop := res.Type == component("Platform")
				if strings.Contains(res.Parent, "::pulumi:pulumi:Stack::") != isTop {
					t.Errorf("%s %s has parent %q", res.Type, res.Name, res.Parent)
				}
				if res.Custom && !strings.HasPrefix(res.Type, "pulumi:providers:") {
					if res.Provider == "" || strings.Contains(res.Provider, "::default") {
						t.Errorf("%s %s uses the ambient default provider %q", res.Type, res.Name, res.Provider)
					}
				}
			}
			// One RegisterResourceOutputs per component, plus the stack's own.
			if run.OutputsRegistered != components+1 {
				t.Errorf("%d outputs registered for %d components (+1 stack)", run.OutputsRegistered, components)
			}
		})
	}
}
