package backup

import (
	"strings"
	"testing"
)

func TestScratchDatabaseNames(t *testing.T) {
	long := strings.Repeat("d", 63)
	for _, target := range []string{"dataplatform", long} {
		for _, purpose := range []string{scratchRestore, scratchVerify, scratchReplaced} {
			name, err := scratchDatabaseName(target, purpose)
			if err != nil {
				t.Fatal(err)
			}
			if len(name) > 63 {
				t.Errorf("%q is longer than PostgreSQL's 63 bytes", name)
			}
			if !isScratchOf(name, target) {
				t.Errorf("isScratchOf(%q, %q) = false", name, target)
			}
			if isScratchOf(name, "other") {
				t.Errorf("isScratchOf(%q, other) = true", name)
			}
		}
	}
	for _, name := range []string{"dataplatform", "dataplatform_vxrestore_", "dataplatform_vxrestore_1234567", "dataplatform_vxrestore_1234567G", "dataplatform_vxother_12345678", "xdataplatform_vxrestore_12345678"} {
		if isScratchOf(name, "dataplatform") {
			t.Errorf("isScratchOf(%q) = true: a restore would drop a database it did not create", name)
		}
	}
}

func TestCompareRowCounts(t *testing.T) {
	manifest := []TableRows{{"public", "a", 3}, {"public", "b", 0}, {"audit", "c", 5}}
	tests := []struct {
		name string
		got  []TableRows
		want []string
	}{
		{"identical", []TableRows{{"audit", "c", 5}, {"public", "a", 3}, {"public", "b", 0}}, nil},
		{"fewer rows", []TableRows{{"public", "a", 2}, {"public", "b", 0}, {"audit", "c", 5}}, []string{"public.a: 2 rows, manifest: 3"}},
		{"missing table", []TableRows{{"public", "a", 3}, {"public", "b", 0}}, []string{"audit.c: missing (manifest: 5 rows)"}},
		{"extra table", append(append([]TableRows{}, manifest...), TableRows{"public", "x", 1}), []string{"public.x: not in the manifest (1 rows)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := compareRowCounts(manifest, tt.got)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("diffs %q, want %q", got, tt.want)
			}
		})
	}
}
