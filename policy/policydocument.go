package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// statement is one statement of an S3 / MinIO policy document, reduced to what the
// rules need. NotAction, NotResource and NotPrincipal are kept as flags: the pack
// treats them as granting everything (fail closed) rather than computing the
// complement.
type statement struct {
	id          string
	allow       bool
	actions     []string
	notAction   bool
	resources   []string
	notResource bool
	anonymous   bool // Principal "*" (or {"AWS": "*"}) or any NotPrincipal
}

// parsePolicyDocument reads a policy document as MinIO reads it. MinIO decodes
// documents with encoding/json into structs, which matches keys without regard
// to case ("statement", "EFFECT" and "Action" all count), so every key is looked
// up that way here; when a key is spelled twice, every spelling counts (fail
// closed). Statement, Action, Resource and the principal lists may each be a
// single value or a list.
func parsePolicyDocument(text string) ([]statement, error) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return nil, err
	}
	raw, ok := field(doc, "Statement")
	if !ok {
		return nil, errors.New("it has no Statement")
	}
	var items []any
	switch s := raw.(type) {
	case []any:
		items = s
	case map[string]any:
		items = []any{s}
	default:
		return nil, errors.New("its Statement is neither an object nor a list")
	}
	out := make([]statement, 0, len(items))
	for i, item := range items {
		fields, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("statement %d is not an object", i)
		}
		st := statement{id: fmt.Sprintf("#%d", i)}
		if sid, ok := field(fields, "Sid"); ok {
			if sid, ok := sid.(string); ok && sid != "" {
				st.id = fmt.Sprintf("%q", sid)
			}
		}
		effects, err := fieldStrings(fields, "Effect")
		if err != nil {
			return nil, fmt.Errorf("statement %s: %w", st.id, err)
		}
		// Any spelling of Allow among the Effect keys may be the one MinIO keeps.
		for _, effect := range effects {
			st.allow = st.allow || strings.EqualFold(effect, "Allow")
		}
		if st.actions, st.notAction, err = stringOrList(fields, "Action", "NotAction"); err != nil {
			return nil, fmt.Errorf("statement %s: %w", st.id, err)
		}
		if st.resources, st.notResource, err = stringOrList(fields, "Resource", "NotResource"); err != nil {
			return nil, fmt.Errorf("statement %s: %w", st.id, err)
		}
		st.anonymous = principalIsAnonymous(fields)
		out = append(out, st)
	}
	return out, nil
}

// field is a key of a JSON object matched without regard to case, as
// encoding/json matches struct fields. Several spellings are merged into a list.
func field(fields map[string]any, key string) (any, bool) {
	var found []any
	for k, v := range fields {
		if strings.EqualFold(k, key) {
			found = append(found, v)
		}
	}
	switch len(found) {
	case 0:
		return nil, false
	case 1:
		return found[0], true
	}
	var merged []any
	for _, v := range found {
		if list, ok := v.([]any); ok {
			merged = append(merged, list...)
		} else {
			merged = append(merged, v)
		}
	}
	return merged, true
}

func fieldStrings(fields map[string]any, key string) ([]string, error) {
	raw, ok := field(fields, key)
	if !ok {
		return nil, nil
	}
	values, err := toStrings(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return values, nil
}

// stringOrList reads key, or its negated form (notKey), as a list of strings.
// A statement carrying both is read as the negated form (fail closed).
func stringOrList(fields map[string]any, key, notKey string) (values []string, negated bool, err error) {
	if _, ok := field(fields, notKey); ok {
		values, err = fieldStrings(fields, notKey)
		return values, true, err
	}
	values, err = fieldStrings(fields, key)
	return values, false, err
}

func toStrings(raw any) ([]string, error) {
	switch v := raw.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, errors.New("not a list of strings")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, errors.New("neither a string nor a list of strings")
}

// principalIsAnonymous: "*" anywhere in Principal means everyone, signed or not.
func principalIsAnonymous(fields map[string]any) bool {
	if _, ok := field(fields, "NotPrincipal"); ok {
		return true
	}
	raw, ok := field(fields, "Principal")
	if !ok {
		return false
	}
	switch p := raw.(type) {
	case string:
		return p == "*"
	case []any:
		return true // several Principal keys merged: fail closed
	case map[string]any:
		for _, v := range p {
			values, err := toStrings(v)
			if err != nil {
				return true // unreadable principal: fail closed
			}
			for _, s := range values {
				if s == "*" {
					return true
				}
			}
		}
		return false
	}
	return true
}

// grantsAny reports whether an Allow statement grants one of the actions.
func (st statement) grantsAny(actions []string) bool {
	if !st.allow {
		return false
	}
	if st.notAction {
		return true
	}
	for _, pattern := range st.actions {
		for _, action := range actions {
			if globMatch(strings.ToLower(pattern), strings.ToLower(action)) {
				return true
			}
		}
	}
	return false
}

// covers reports whether an Allow statement applies to a bucket or any object in
// it. Only the bucket part of an ARN matters for that: "arn:aws:s3:::b/x/*" and
// "arn:aws:s3:::b" both touch bucket b.
func (st statement) covers(bucket string) bool {
	if !st.allow {
		return false
	}
	if st.notResource {
		return true
	}
	for _, pattern := range st.resources {
		if rest, ok := cutARNPrefix(pattern); ok {
			bucketPart, _, _ := strings.Cut(rest, "/")
			if globMatch(bucketPart, bucket) {
				return true
			}
			continue
		}
		if globMatch(withoutVariables(pattern), s3ARNPrefix+bucket) || globMatch(withoutVariables(pattern), s3ARNPrefix+bucket+"/object") {
			return true
		}
	}
	return false
}

// cutARNPrefix returns the bucket/object part of an S3 ARN, with policy
// variables read as wildcards. The prefix is matched without regard to case.
func cutARNPrefix(resource string) (string, bool) {
	if len(resource) < len(s3ARNPrefix) || !strings.EqualFold(resource[:len(s3ARNPrefix)], s3ARNPrefix) {
		return "", false
	}
	return withoutVariables(resource[len(s3ARNPrefix):]), true
}

// policyVariable matches a policy variable such as ${aws:username}: MinIO
// substitutes it per request, so in a Resource it can name any bucket (a user
// called dataplatform-prod, a jwt claim, a request header).
var policyVariable = regexp.MustCompile(`\$\{[^}]*\}`)

func withoutVariables(s string) string { return policyVariable.ReplaceAllString(s, "*") }

// grantsAdmin reports whether an Allow statement grants MinIO administration
// (admin:* actions: users, policies, configuration, every bucket's data through
// them). Resource does not limit admin actions.
func (st statement) grantsAdmin() bool {
	if !st.allow {
		return false
	}
	if st.notAction {
		return true
	}
	for _, a := range st.actions {
		lower := strings.ToLower(a)
		if lower == "*" || strings.HasPrefix(lower, "admin:") {
			return true
		}
	}
	return false
}

const s3ARNPrefix = "arn:aws:s3:::"

// globMatch matches IAM wildcards: * is any run of characters, ? one character.
func globMatch(pattern, s string) bool {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(s)
}

// s3WriteActions are the actions that change a bucket or its objects. Wildcard
// actions in a policy ("s3:Put*", "s3:*", "*") grant write if they match any.
var s3WriteActions = []string{
	"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload",
	"s3:PutObjectTagging", "s3:DeleteObjectTagging", "s3:PutObjectRetention", "s3:PutObjectLegalHold",
	"s3:BypassGovernanceRetention", "s3:ReplicateObject", "s3:ReplicateDelete", "s3:RestoreObject",
	"s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
	"s3:PutBucketVersioning", "s3:PutLifecycleConfiguration", "s3:PutBucketObjectLockConfiguration",
	"s3:PutBucketTagging", "s3:PutEncryptionConfiguration", "s3:PutReplicationConfiguration",
	"s3:PutBucketNotification",
}
