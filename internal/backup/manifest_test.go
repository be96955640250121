package backup

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestBackupIDsSortByTime(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 7e6, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600)), // 2026-12-31T23:00Z: before the previous
	}
	var ids []string
	for _, ts := range times {
		id, err := NewBackupID(ts)
		if err != nil {
			t.Fatal(err)
		}
		if !validBackupID(id) {
			t.Fatalf("NewBackupID made %q, which validBackupID rejects", id)
		}
		ids = append(ids, id)
	}
	keys := []string{ManifestKey("postgres/", ids[3]), ManifestKey("postgres/", ids[0]), ManifestKey("postgres/", ids[2]), ManifestKey("postgres/", ids[1])}
	got := BackupIDs("postgres/", keys)
	want := []string{ids[0], ids[1], ids[3], ids[2]}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("order:\n got %v\nwant %v", got, want)
	}
}

func TestLatestBackupIDFromManifestKeysOnly(t *testing.T) {
	const p = "postgres/"
	tests := []struct {
		name string
		keys []string
		want string // "" means none
	}{
		{"none", nil, ""},
		{"one", []string{p + "manifests/20260101T000000.000Z-00000000.json"}, "20260101T000000.000Z-00000000"},
		{"newest wins", []string{
			p + "manifests/20260101T000000.000Z-ffffffff.json",
			p + "manifests/20260102T000000.000Z-00000000.json",
			p + "manifests/20251231T235959.999Z-aaaaaaaa.json",
		}, "20260102T000000.000Z-00000000"},
		{"dump objects never count", []string{
			p + "manifests/20260101T000000.000Z-00000000.json",
			p + "dumps/20270101T000000.000Z-00000000.pgdump",
		}, "20260101T000000.000Z-00000000"},
		{"malformed names are ignored", []string{
			p + "manifests/20260101T000000.000Z-00000000.json",
			p + "manifests/zzz-latest.json",
			p + "manifests/20270101T000000.000Z-00000000.json.tmp",
			p + "manifests/nested/20280101T000000.000Z-00000000.json",
			"other/manifests/20290101T000000.000Z-00000000.json",
		}, "20260101T000000.000Z-00000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := LatestBackupID(p, tt.keys)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("LatestBackupID = %q, %t; want %q", got, ok, tt.want)
			}
		})
	}
}

func validManifest() Manifest {
	id := "20261125T221900.123Z-1a2b3c4d"
	return Manifest{
		Format: ManifestFormat, ID: id, Environment: "production", Database: "dataplatform",
		DumpKey: DumpKey("postgres/", id), DumpFormat: DumpFormat, Size: 1234,
		SHA256:        strings.Repeat("ab", 32),
		ServerVersion: "15.10", ServerVersionNum: 150010, PgDumpVersion: "pg_dump (PostgreSQL) 15.10",
		Encoding: "UTF8", Tables: []TableRows{{Schema: "public", Table: "t", Rows: 3}},
	}
}

func TestManifestValidation(t *testing.T) {
	key := ManifestKey("postgres/", validManifest().ID)
	tests := []struct {
		name   string
		change func(*Manifest)
		want   string // "" means valid
	}{
		{"valid", func(*Manifest) {}, ""},
		{"missing checksum", func(m *Manifest) { m.SHA256 = "" }, `sha256 "" is not 64 lowercase hex digits`},
		{"short checksum", func(m *Manifest) { m.SHA256 = "abc" }, "sha256"},
		{"other environment", func(m *Manifest) { m.Environment = "staging" }, `environment is "staging", expected "production"`},
		{"id not its key", func(m *Manifest) { m.ID = "20261125T221900.123Z-00000000" }, "does not match its key"},
		{"dump elsewhere", func(m *Manifest) { m.DumpKey = "elsewhere/x.pgdump" }, "dumpKey"},
		{"empty dump", func(m *Manifest) { m.Size = 0 }, "size is 0"},
		{"unknown format", func(m *Manifest) { m.Format = "vxbackup-manifest/2" }, "format"},
		{"no tables list", func(m *Manifest) { m.Tables = nil }, "tables are missing"},
		{"encoding injection", func(m *Manifest) { m.Encoding = "UTF8' TEMPLATE x --" }, "encoding"},
		{"no server version", func(m *Manifest) { m.ServerVersionNum = 0 }, "serverVersionNum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validManifest()
			tt.change(&m)
			err := m.Validate("postgres/", key, "production")
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseManifestRoundTripAndStrictness(t *testing.T) {
	data, err := json.Marshal(validManifest())
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate("postgres/", ManifestKey("postgres/", m.ID), "production"); err != nil {
		t.Errorf("round trip: %v", err)
	}
	withExtra := strings.Replace(string(data), `"format"`, `"unexpected":1,"format"`, 1)
	if _, err := ParseManifest([]byte(withExtra)); err == nil {
		t.Error("a manifest with an unknown field was accepted")
	}
	if _, err := ParseManifest([]byte(`{"format":`)); err == nil {
		t.Error("truncated JSON was accepted")
	}
}
