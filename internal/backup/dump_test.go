package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestChoosePartSize(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name                 string
		configured, database int64
		want                 int64
	}{
		{"configured wins", 8 * mib, 1 << 40, 8 * mib},
		{"small database", 0, 100 * mib, 16 * mib},
		{"140 GiB still fits 16 MiB parts", 0, 140 << 30, 16 * mib},
		{"2 TiB needs larger parts", 0, 2 << 40, 234 * mib},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := choosePartSize(tt.configured, tt.database)
			if got != tt.want {
				t.Errorf("choosePartSize = %d MiB, want %d MiB", got/mib, tt.want/mib)
			}
			if tt.configured == 0 && got*partsBudget < tt.database {
				t.Errorf("%d parts of %d bytes cannot hold %d bytes", partsBudget, got, tt.database)
			}
		})
	}
}

// The uploader must see pg_dump's failure as a read error at the end of the
// output; otherwise it would complete a truncated object.
func TestDumpReaderTurnsAFailedPgDumpIntoAReadError(t *testing.T) {
	tests := []struct {
		name    string
		waitErr error
	}{
		{"pg_dump succeeded", nil},
		{"pg_dump failed", errors.New("pg_dump of database \"x\" failed")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const data = "PGDMP archive bytes"
			waited := 0
			r := &dumpReader{
				r:        strings.NewReader(data),
				hash:     sha256.New(),
				wait:     func() error { waited++; return tt.waitErr },
				progress: func(int64) {},
			}
			got, err := io.ReadAll(r)
			if !errors.Is(err, tt.waitErr) { // ReadAll turns io.EOF into nil
				t.Errorf("ReadAll error = %v, want %v", err, tt.waitErr)
			}
			// Reading again after the end (the uploader does) must not touch the pipe.
			if n, err := r.Read(make([]byte, 8)); n != 0 || (tt.waitErr == nil && err != io.EOF) || (tt.waitErr != nil && !errors.Is(err, tt.waitErr)) {
				t.Errorf("read after end = %d, %v", n, err)
			}
			if string(got) != data || r.n != int64(len(data)) {
				t.Errorf("read %q (%d bytes counted), want %q", got, r.n, data)
			}
			sum := sha256.Sum256([]byte(data))
			if hex.EncodeToString(r.hash.Sum(nil)) != hex.EncodeToString(sum[:]) {
				t.Error("hash is not the SHA-256 of what was read")
			}
			if waited == 0 {
				t.Error("pg_dump was never waited for")
			}
		})
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := &tailBuffer{limit: 10}
	_, _ = b.Write([]byte("0123456789"))
	_, _ = b.Write([]byte("abcdef\n"))
	if got := b.String(); got != "789abcdef" {
		t.Errorf("tail = %q", got)
	}
	if got := (&tailBuffer{limit: 10}).String(); got != "(no output)" {
		t.Errorf("empty tail = %q", got)
	}
}
