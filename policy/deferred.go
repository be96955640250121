package main

import "fmt"

// decidedAtUpRule shows, as warnings, what the other rules could not decide
// during a preview because a referenced value is not known yet, where that
// value can hide no grant and no credential. Blocking on such values would fail
// every preview of a first create; passing them silently would hide that a rule
// has not looked yet. At up the values are known and the rules decide.
var decidedAtUpRule = resourceRule{
	name:        "pack-decided-at-up",
	description: "Values other rules cannot judge during preview, which can hide no grant or credential, are listed; the rules decide them at up.",
	scope:       advisoryEverywhere,
}

// The check walks the other rules, which are listed with it in resourceRules,
// so it is set once the list exists.
func init() {
	decidedAtUpRule.check = checkDecidedAtUp
	resourceRules = append(resourceRules, decidedAtUpRule)
}

func checkDecidedAtUp(t target, r analyzed) []finding {
	var out []finding
	for _, rule := range resourceRules {
		if rule.name == decidedAtUpRule.name {
			continue
		}
		for _, f := range guarded(r.URN, func() []finding { return rule.check(t, r) }) {
			if f.deferred {
				out = append(out, finding{message: fmt.Sprintf("%s: %s; decided at up", rule.name, f.message), urn: f.urn})
			}
		}
	}
	return out
}
