package stacks

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeDocumentsEveryConfigKey keeps the README's config reference complete.
func TestReadmeDocumentsEveryConfigKey(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range ConfigKeys {
		if !strings.Contains(string(readme), "`"+key.Name+"`") {
			t.Errorf("README.md does not document config key %s", key.Name)
		}
	}
}
