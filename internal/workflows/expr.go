package workflows

import (
	"fmt"
	"strings"
)

// Value is what a workflow expression evaluates to here: a string, a boolean, or
// a reference to a context this package cannot know (needs.<job>.outputs.<name>,
// vars.<NAME>, secrets.<NAME>), kept as its dotted path. A reference stands for
// a value that is set: the tests ask which references reach which stack.
type Value struct {
	Ref  string // a context reference, e.g. "needs.database-image.outputs.tag"
	Str  string
	Bool bool
	kind valueKind
}

type valueKind int

const (
	kindString valueKind = iota
	kindBool
	kindRef
)

// IsRef reports whether the value is a context reference.
func (v Value) IsRef() bool { return v.kind == kindRef }

// Empty reports whether the value is the empty string: an env value that sets
// nothing (stackops.ConfigFromEnv ignores an empty VX_CONFIG_<key>).
func (v Value) Empty() bool { return v.kind == kindString && v.Str == "" }

func (v Value) String() string {
	switch v.kind {
	case kindRef:
		return v.Ref
	case kindBool:
		return fmt.Sprint(v.Bool)
	}
	return fmt.Sprintf("%q", v.Str)
}

// truthy follows GitHub: the empty string and false are falsy; a reference is
// taken as set.
func (v Value) truthy() bool {
	switch v.kind {
	case kindBool:
		return v.Bool
	case kindRef:
		return true
	}
	return v.Str != ""
}

// Eval evaluates a value as a workflow writes it (an env value, a with: input):
// plain text, or exactly one ${{ expression }}. bound gives the contexts that are
// known for this evaluation (e.g. "matrix.stack": "production"); any other
// context is a reference. It understands the operators the workflows use
// (==, !=, !, &&, ||, parentheses, string and boolean literals) and refuses
// anything else, so that a test never guesses.
func Eval(s string, bound map[string]string) (Value, error) {
	t := strings.TrimSpace(s)
	if !strings.Contains(s, "${{") {
		return Value{Str: s}, nil
	}
	if !strings.HasPrefix(t, "${{") || !strings.HasSuffix(t, "}}") || strings.Count(t, "${{") != 1 {
		return Value{}, fmt.Errorf("%q: only plain text or exactly one ${{ }} expression is understood", s)
	}
	p := &parser{src: strings.TrimSpace(t[3 : len(t)-2]), bound: bound}
	p.next()
	v, err := p.or()
	if err != nil {
		return Value{}, fmt.Errorf("%q: %w", s, err)
	}
	if p.tok != "" {
		return Value{}, fmt.Errorf("%q: unexpected %q", s, p.tok)
	}
	return v, nil
}

type parser struct {
	src   string
	pos   int
	tok   string // current token; "" at the end
	bound map[string]string
}

func (p *parser) next() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
	if p.pos >= len(p.src) {
		p.tok = ""
		return
	}
	rest := p.src[p.pos:]
	for _, op := range []string{"==", "!=", "&&", "||", "(", ")", "!"} {
		if strings.HasPrefix(rest, op) {
			p.tok = op
			p.pos += len(op)
			return
		}
	}
	if rest[0] == '\'' {
		end := 1
		for end < len(rest) {
			if rest[end] == '\'' {
				if end+1 < len(rest) && rest[end+1] == '\'' { // '' is an escaped quote
					end += 2
					continue
				}
				break
			}
			end++
		}
		p.tok = rest[:min(end+1, len(rest))]
		p.pos += len(p.tok)
		return
	}
	end := 0
	for end < len(rest) && (isIdent(rest[end]) || rest[end] == '.') {
		end++
	}
	if end == 0 {
		end = 1 // an unknown character: its own token, refused by primary
	}
	p.tok = rest[:end]
	p.pos += end
}

func isIdent(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// or: GitHub's || yields the first truthy operand, else the last one.
func (p *parser) or() (Value, error) {
	v, err := p.and()
	for err == nil && p.tok == "||" {
		p.next()
		var r Value
		if r, err = p.and(); err == nil && !v.truthy() {
			v = r
		}
	}
	return v, err
}

// and: GitHub's && yields the first falsy operand, else the last one.
func (p *parser) and() (Value, error) {
	v, err := p.comparison()
	for err == nil && p.tok == "&&" {
		p.next()
		var r Value
		if r, err = p.comparison(); err == nil && v.truthy() {
			v = r
		}
	}
	return v, err
}

func (p *parser) comparison() (Value, error) {
	l, err := p.unary()
	if err != nil || (p.tok != "==" && p.tok != "!=") {
		return l, err
	}
	op := p.tok
	p.next()
	r, err := p.unary()
	if err != nil {
		return Value{}, err
	}
	if l.IsRef() || r.IsRef() {
		return Value{}, fmt.Errorf("cannot compare %s %s %s: a context that is not bound", l, op, r)
	}
	if l.kind != r.kind {
		return Value{}, fmt.Errorf("cannot compare %s %s %s: different types", l, op, r)
	}
	eq := l.Bool == r.Bool && strings.EqualFold(l.Str, r.Str) // GitHub compares strings ignoring case
	return Value{kind: kindBool, Bool: eq == (op == "==")}, nil
}

func (p *parser) unary() (Value, error) {
	if p.tok == "!" {
		p.next()
		v, err := p.unary()
		if err != nil {
			return Value{}, err
		}
		return Value{kind: kindBool, Bool: !v.truthy()}, nil
	}
	return p.primary()
}

func (p *parser) primary() (Value, error) {
	tok := p.tok
	switch {
	case tok == "":
		return Value{}, fmt.Errorf("an expression ends early")
	case tok == "(":
		p.next()
		v, err := p.or()
		if err != nil {
			return Value{}, err
		}
		if p.tok != ")" {
			return Value{}, fmt.Errorf("missing )")
		}
		p.next()
		return v, nil
	case tok[0] == '\'':
		if len(tok) < 2 || tok[len(tok)-1] != '\'' {
			return Value{}, fmt.Errorf("unterminated string %s", tok)
		}
		p.next()
		return Value{Str: strings.ReplaceAll(tok[1:len(tok)-1], "''", "'")}, nil
	case tok == "true" || tok == "false":
		p.next()
		return Value{kind: kindBool, Bool: tok == "true"}, nil
	case isIdent(tok[0]) && !strings.HasSuffix(tok, ".") && strings.Contains(tok, "."):
		p.next()
		if v, ok := p.bound[tok]; ok {
			return Value{Str: v}, nil
		}
		return Value{kind: kindRef, Ref: tok}, nil
	}
	return Value{}, fmt.Errorf("%q is not understood here (a context path, a string, true, false, ==, !=, !, &&, ||, parentheses)", tok)
}
