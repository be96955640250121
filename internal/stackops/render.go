package stackops

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// Marker identifies the one pull request comment per stack that each run updates.
func Marker(stack string) string { return "<!-- vxplatform:" + stack + " -->" }

// URL is the preview's address when its ingress is on (the hostname output is
// empty otherwise).
func URL(outputs auto.OutputMap) string {
	if h, ok := outputs["hostname"]; ok && !h.Secret {
		if s, ok := h.Value.(string); ok && s != "" {
			return "https://" + s
		}
	}
	return ""
}

// Markdown renders a report for a pull request comment or a job summary.
func Markdown(r Report, failure error) string {
	var b strings.Builder
	status := "succeeded"
	if failure != nil {
		status = "**failed**"
	}
	fmt.Fprintf(&b, "%s\n### `%s` of stack `%s` %s (%s)\n\n", Marker(r.Stack), r.Operation, r.Stack, status, r.Duration.Round(100e6))
	if u := URL(r.Outputs); u != "" {
		fmt.Fprintf(&b, "Preview URL: %s\n\n", u)
	}
	if len(r.Changes) == 0 {
		b.WriteString("No resource changes.\n\n")
	} else {
		fmt.Fprintf(&b, "%d resource change(s):\n\n| change | type | name | properties |\n|---|---|---|---|\n", len(r.Changes))
		for _, c := range r.Changes {
			fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s |\n", c.Op, c.Type, c.Name(), strings.Join(c.Diffs, ", "))
		}
		b.WriteString("\n")
	}
	if len(r.Violations) > 0 {
		b.WriteString("Policy findings:\n\n")
		for _, v := range r.Violations {
			fmt.Fprintf(&b, "- [%s] %s on `%s`: %s\n", v.Level, v.Qualified(), v.URN, oneLine(v.Message))
		}
		b.WriteString("\n")
	}
	if len(r.Outputs) > 0 {
		b.WriteString("Stack outputs:\n\n| output | value |\n|---|---|\n")
		for _, k := range sortedKeys(r.Outputs) {
			fmt.Fprintf(&b, "| `%s` | %s |\n", k, outputValue(r.Outputs[k]))
		}
		b.WriteString("\n")
	}
	if failure != nil {
		fmt.Fprintf(&b, "<details><summary>error</summary>\n\n```\n%s\n```\n</details>\n", lastLines(failure.Error(), 40))
	}
	return b.String()
}

// Text renders the changes of a report for a log, one per line.
func Text(r Report) string {
	var lines []string
	for _, c := range r.Changes {
		line := fmt.Sprintf("%s %s %s", c.Op, c.Type, c.Name())
		if len(c.Diffs) > 0 {
			line += " (" + strings.Join(c.Diffs, ", ") + ")"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func outputValue(v auto.OutputValue) string {
	if v.Secret {
		return "[secret]"
	}
	if s, ok := v.Value.(string); ok {
		if s == "" {
			return "–"
		}
		return "`" + s + "`"
	}
	b, err := json.Marshal(v.Value)
	if err != nil {
		return fmt.Sprint(v.Value)
	}
	return "`" + strings.ReplaceAll(string(b), "|", "\\|") + "`"
}

func sortedKeys(m auto.OutputMap) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), "\n", " "), "|", "\\|")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.ReplaceAll(strings.Join(lines, "\n"), "```", "'''")
}
