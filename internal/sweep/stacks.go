package sweep

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/virdx/vxplatform-infra/stacks"
)

// ListedStack is one entry of `pulumi stack ls --json` (the CLI's
// stackSummaryJSON, pkg/cmd/pulumi/stack/stack_list.go).
type ListedStack struct {
	Name             string `json:"name"`
	Current          bool   `json:"current"`
	LastUpdate       string `json:"lastUpdate,omitempty"`
	UpdateInProgress *bool  `json:"updateInProgress,omitempty"`
	ResourceCount    *int   `json:"resourceCount,omitempty"`
	URL              string `json:"url,omitempty"`
}

// Stack is a listed stack with its name taken apart.
type Stack struct {
	// Ref is the name exactly as the backend printed it: what --stack needs.
	Ref string
	// Owner and Project are empty when the backend elided them.
	Owner, Project string
	// Name is the bare stack name (pr-12).
	Name             string
	UpdateInProgress bool
	Resources        int
}

// ParseStackList reads `pulumi stack ls --json` output. A name is printed as
// "name" (the current project and default owner), "owner/name" (the current
// project, another owner) or "owner/project/name"; a file backend prints
// "organization" as the owner of fully qualified names.
func ParseStackList(data []byte) ([]Stack, error) {
	var listed []ListedStack
	if err := json.Unmarshal(data, &listed); err != nil {
		return nil, fmt.Errorf("pulumi stack ls --json: %w", err)
	}
	out := make([]Stack, 0, len(listed))
	for _, l := range listed {
		s := Stack{Ref: l.Name, UpdateInProgress: l.UpdateInProgress != nil && *l.UpdateInProgress}
		if l.ResourceCount != nil {
			s.Resources = *l.ResourceCount
		}
		parts := strings.Split(l.Name, "/")
		for _, p := range parts {
			if p == "" {
				return nil, fmt.Errorf("pulumi stack ls --json: stack name %q has an empty part", l.Name)
			}
		}
		switch len(parts) {
		case 1:
			s.Name = parts[0]
		case 2:
			s.Owner, s.Name = parts[0], parts[1]
		case 3:
			s.Owner, s.Project, s.Name = parts[0], parts[1], parts[2]
		default:
			return nil, fmt.Errorf("pulumi stack ls --json: stack name %q has %d parts; want name, owner/name or owner/project/name", l.Name, len(parts))
		}
		out = append(out, s)
	}
	return out, nil
}

// PreviewNumber is the pull request number of a preview stack of project, and
// false for every other stack (long-lived stacks, other projects, other names).
func (s Stack) PreviewNumber(project string) (int, bool) {
	if s.Project != "" && s.Project != project {
		return 0, false
	}
	id, err := stacks.ParseStackName(s.Name)
	if err != nil || id.Kind != stacks.KindPreview {
		return 0, false
	}
	return id.PRNumber, true
}
