package program_test

import "testing"

// The backup bucket's lifecycle: dumps expire after the retention period; in
// pgBackRest's repository only what was deleted (non-current versions) does,
// since pgBackRest writes its info files once and expires backups itself.
func TestBackupBucketLifecycleSparesTheArchive(t *testing.T) {
	for _, stack := range []string{"production", "staging", "public"} {
		run := runStack(t, stack)
		policies := run.ByType(tIlm)
		if len(policies) != 1 {
			t.Fatalf("%s: %d lifecycle policies, want 1", stack, len(policies))
		}
		in := policies[0].Inputs
		want := map[string]string{
			"rules.0.id": "expire-backups", "rules.0.filter": "postgres/", "rules.0.expiration": "30d",
			"rules.1.id": "expire-archive-history", "rules.1.filter": "pgbackrest/", "rules.1.expiration": "",
		}
		for path, v := range want {
			if got := str(in, path); got != v {
				t.Errorf("%s: %s = %q, want %q", stack, path, got, v)
			}
		}
	}
}
