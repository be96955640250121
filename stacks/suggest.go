package stacks

import "strings"

// Closest is the candidate nearest to name by edit distance, ignoring case, so
// that an error can suggest what was meant; the first of equally near
// candidates wins. It is "" when there are no candidates.
func Closest(name string, candidates []string) string {
	best, bestDistance := "", -1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); bestDistance < 0 || d < bestDistance {
			best, bestDistance = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	previous := make([]int, len(rb)+1)
	current := make([]int, len(rb)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		current[0] = i
		for j := 1; j <= len(rb); j++ {
			substitution := previous[j-1]
			if ra[i-1] != rb[j-1] {
				substitution++
			}
			current[j] = min(previous[j]+1, current[j-1]+1, substitution)
		}
		previous, current = current, previous
	}
	return previous[len(rb)]
}

// configKeyNames are the names of ConfigKeys, in their order.
func configKeyNames() []string {
	names := make([]string, 0, len(ConfigKeys))
	for _, k := range ConfigKeys {
		names = append(names, k.Name)
	}
	return names
}
