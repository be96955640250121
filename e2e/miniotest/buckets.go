package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/lifecycle"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/virdx/vxplatform-infra/e2e/internal/policyjson"
)

func init() {
	register(&resourceType{
		token: "minio:index/s3Bucket:S3Bucket",
		inputs: []input{{name: "acl", kind: kindString}, {name: "bucket", kind: kindString}, {name: "bucketPrefix", kind: kindString},
			{name: "forceDestroy", kind: kindBool}, {name: "objectLocking", kind: kindBool}, {name: "quota", kind: kindNumber}},
		defaults:  resource.PropertyMap{"acl": strProp("private"), "forceDestroy": boolProp(false), "objectLocking": boolProp(false)},
		replaceOn: []string{"bucket", "bucketPrefix", "objectLocking"},
		autoName:  "bucket", autoNamePrefix: "bucketPrefix",
		computed: []string{"arn", "bucketDomainName"},
		create:   createBucket, read: readBucket, update: updateBucket, delete: deleteBucket,
	})
	register(&resourceType{
		token:     "minio:index/s3BucketVersioning:S3BucketVersioning",
		inputs:    []input{{name: "bucket", kind: kindString, required: true}, {name: "versioningConfiguration", kind: kindObject, required: true}},
		replaceOn: []string{"bucket"},
		create: func(ctx context.Context, c *conn, in resource.PropertyMap) (string, resource.PropertyMap, error) {
			return str(in, "bucket"), nil, setVersioning(ctx, c, in)
		},
		read: readVersioning,
		update: func(ctx context.Context, c *conn, _ string, _, news resource.PropertyMap) (resource.PropertyMap, error) {
			return nil, setVersioning(ctx, c, news)
		},
		// Upstream suspends versioning on delete: versions already made stay.
		delete: func(ctx context.Context, c *conn, id string, _ resource.PropertyMap) error {
			return ignoreNoSuchBucket(c.s3.SuspendVersioning(ctx, id))
		},
	})
	register(&resourceType{
		token:     "minio:index/ilmPolicy:IlmPolicy",
		inputs:    []input{{name: "bucket", kind: kindString, required: true}, {name: "rules", kind: kindList, required: true}},
		replaceOn: []string{"bucket"},
		create: func(ctx context.Context, c *conn, in resource.PropertyMap) (string, resource.PropertyMap, error) {
			return str(in, "bucket"), nil, setLifecycle(ctx, c, in)
		},
		read: readLifecycle,
		update: func(ctx context.Context, c *conn, _ string, _, news resource.PropertyMap) (resource.PropertyMap, error) {
			return nil, setLifecycle(ctx, c, news)
		},
		delete: func(ctx context.Context, c *conn, id string, _ resource.PropertyMap) error {
			return ignoreNoSuchBucket(c.s3.SetBucketLifecycle(ctx, id, lifecycle.NewConfiguration()))
		},
	})
	register(&resourceType{
		token:     "minio:index/s3BucketPolicy:S3BucketPolicy",
		inputs:    []input{{name: "bucket", kind: kindString, required: true}, {name: "policy", kind: kindString, required: true}},
		replaceOn: []string{"bucket"},
		create: func(ctx context.Context, c *conn, in resource.PropertyMap) (string, resource.PropertyMap, error) {
			return str(in, "bucket"), nil, c.s3.SetBucketPolicy(ctx, str(in, "bucket"), str(in, "policy"))
		},
		read: func(ctx context.Context, c *conn, id string, state resource.PropertyMap) (resource.PropertyMap, bool, error) {
			policy, err := c.s3.GetBucketPolicy(ctx, id)
			if err != nil || policy == "" {
				return nil, false, ignoreNoSuchBucket(err)
			}
			return resource.PropertyMap{"bucket": strProp(id), "policy": strProp(sameJSONOr(str(state, "policy"), policy))}, true, nil
		},
		update: func(ctx context.Context, c *conn, id string, _, news resource.PropertyMap) (resource.PropertyMap, error) {
			return nil, c.s3.SetBucketPolicy(ctx, id, str(news, "policy"))
		},
		delete: func(ctx context.Context, c *conn, id string, _ resource.PropertyMap) error {
			return ignoreNoSuchBucket(c.s3.SetBucketPolicy(ctx, id, ""))
		},
	})
}

// cannedACL is the anonymous bucket policy upstream sets for each acl value.
func cannedACL(bucket, acl string) (string, error) {
	read := []string{"s3:GetObject"}
	write := []string{"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}
	var objectActions, bucketActions []string
	switch acl {
	case "private":
		return "", nil
	case "public-read":
		objectActions, bucketActions = read, []string{"s3:GetBucketLocation", "s3:ListBucket"}
	case "public-write":
		objectActions, bucketActions = write, []string{"s3:GetBucketLocation", "s3:ListBucketMultipartUploads"}
	case "public-read-write", "public":
		objectActions = append(slices.Clone(read), write...)
		bucketActions = []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}
	default:
		return "", fmt.Errorf("acl %q: allowed are private, public-read, public-write, public-read-write, public", acl)
	}
	doc := map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{
		{"Effect": "Allow", "Principal": map[string]any{"AWS": []string{"*"}}, "Action": bucketActions, "Resource": []string{"arn:aws:s3:::" + bucket}},
		{"Effect": "Allow", "Principal": map[string]any{"AWS": []string{"*"}}, "Action": objectActions, "Resource": []string{"arn:aws:s3:::" + bucket + "/*"}},
	}}
	b, err := json.Marshal(doc)
	return string(b), err
}

func bucketOutputs(c *conn, bucket string) resource.PropertyMap {
	return resource.PropertyMap{
		"arn":              strProp("arn:aws:s3:::" + bucket),
		"bucketDomainName": strProp(fmt.Sprintf("%s/minio/%s", c.s3.EndpointURL(), bucket)),
	}
}

func createBucket(ctx context.Context, c *conn, in resource.PropertyMap) (string, resource.PropertyMap, error) {
	bucket := str(in, "bucket")
	policy, err := cannedACL(bucket, str(in, "acl"))
	if err != nil {
		return "", nil, err
	}
	if err := c.s3.MakeBucket(ctx, bucket, minio.MakeBucketOptions{ObjectLocking: boolean(in, "objectLocking")}); err != nil {
		return "", nil, fmt.Errorf("bucket %s: %w", bucket, err)
	}
	if policy != "" {
		if err := c.s3.SetBucketPolicy(ctx, bucket, policy); err != nil {
			return "", nil, err
		}
	}
	if quota, ok := number(in, "quota"); ok {
		if err := setQuota(ctx, c, bucket, quota); err != nil {
			return "", nil, err
		}
	}
	return bucket, bucketOutputs(c, bucket), nil
}

func readBucket(ctx context.Context, c *conn, id string, state resource.PropertyMap) (resource.PropertyMap, bool, error) {
	exists, err := c.s3.BucketExists(ctx, id)
	if err != nil || !exists {
		return nil, false, err
	}
	out := state.Copy()
	out["bucket"] = strProp(id)
	for k, v := range bucketOutputs(c, id) {
		out[k] = v
	}
	policy, err := c.s3.GetBucketPolicy(ctx, id)
	if err != nil {
		return nil, false, err
	}
	out["acl"] = strProp(aclOf(id, policy, str(state, "acl")))
	locking, _, _, _, err := c.s3.GetObjectLockConfig(ctx, id)
	out["objectLocking"] = boolProp(err == nil && locking == "Enabled")
	delete(out, "quota")
	if quota, err := getQuota(ctx, c, id); err != nil {
		return nil, false, err
	} else if quota > 0 {
		out["quota"] = numProp(quota)
	}
	return out, true, nil
}

// aclOf is the canned acl whose policy the bucket has; a policy that is no
// canned one (set by an S3BucketPolicy) leaves the recorded acl.
func aclOf(bucket, policy, recorded string) string {
	if policy == "" {
		return "private"
	}
	for _, acl := range []string{"public-read", "public-write", "public-read-write"} {
		canned, _ := cannedACL(bucket, acl)
		if sameJSONOr(canned, policy) == canned {
			if recorded == "public" && acl == "public-read-write" {
				return recorded
			}
			return acl
		}
	}
	return recorded
}

func updateBucket(ctx context.Context, c *conn, id string, state, news resource.PropertyMap) (resource.PropertyMap, error) {
	if str(state, "acl") != str(news, "acl") {
		policy, err := cannedACL(id, str(news, "acl"))
		if err != nil {
			return nil, err
		}
		if err := c.s3.SetBucketPolicy(ctx, id, policy); err != nil {
			return nil, err
		}
	}
	oldQuota, _ := number(state, "quota")
	if newQuota, _ := number(news, "quota"); newQuota != oldQuota {
		if err := setQuota(ctx, c, id, newQuota); err != nil {
			return nil, err
		}
	}
	return bucketOutputs(c, id), nil
}

func deleteBucket(ctx context.Context, c *conn, id string, state resource.PropertyMap) error {
	err := c.s3.RemoveBucketWithOptions(ctx, id, minio.RemoveBucketOptions{ForceDelete: boolean(state, "forceDestroy")})
	if minio.ToErrorResponse(err).Code == "BucketNotEmpty" {
		return fmt.Errorf("bucket %s is not empty and forceDestroy is false: %w", id, err)
	}
	return ignoreNoSuchBucket(err)
}

// Quotas are an admin API: set through mc.
func setQuota(ctx context.Context, c *conn, bucket string, bytes float64) error {
	if bytes <= 0 {
		_, err := c.mc.run(ctx, "", "quota", "clear", mcAlias+"/"+bucket)
		return err
	}
	_, err := c.mc.run(ctx, "", "quota", "set", mcAlias+"/"+bucket, "--size", strconv.FormatFloat(bytes, 'f', 0, 64))
	return err
}

func getQuota(ctx context.Context, c *conn, bucket string) (float64, error) {
	out, err := c.mc.one(ctx, "", "quota", "info", mcAlias+"/"+bucket)
	if err != nil {
		if e, ok := err.(*mcError); ok && strings.Contains(strings.ToLower(e.Message), "quota") && strings.Contains(e.Message, "not") {
			return 0, nil // no quota configured
		}
		return 0, err
	}
	q, _ := out["quota"].(float64)
	return q, nil
}

func ignoreNoSuchBucket(err error) error {
	if minio.ToErrorResponse(err).Code == "NoSuchBucket" {
		return nil
	}
	return err
}

func setVersioning(ctx context.Context, c *conn, in resource.PropertyMap) error {
	v := plainValue(in["versioningConfiguration"])
	if !v.IsObject() {
		return fmt.Errorf("versioningConfiguration: required")
	}
	cfg := v.ObjectValue()
	status := str(cfg, "status")
	if status != minio.Enabled && status != minio.Suspended {
		return fmt.Errorf("versioningConfiguration.status %q: allowed are Enabled and Suspended", status)
	}
	vc := minio.BucketVersioningConfiguration{Status: status, ExcludeFolders: boolean(cfg, "excludeFolders")}
	if prefixes := plainValue(cfg["excludedPrefixes"]); prefixes.IsArray() {
		for _, p := range prefixes.ArrayValue() {
			vc.ExcludedPrefixes = append(vc.ExcludedPrefixes, minio.ExcludedPrefix{Prefix: plainValue(p).StringValue()})
		}
	}
	return c.s3.SetBucketVersioning(ctx, str(in, "bucket"), vc)
}

func readVersioning(ctx context.Context, c *conn, id string, _ resource.PropertyMap) (resource.PropertyMap, bool, error) {
	vc, err := c.s3.GetBucketVersioning(ctx, id)
	if err != nil || vc.Status == "" {
		return nil, false, ignoreNoSuchBucket(err)
	}
	cfg := resource.PropertyMap{"status": strProp(vc.Status)}
	if vc.ExcludeFolders {
		cfg["excludeFolders"] = boolProp(true)
	}
	if len(vc.ExcludedPrefixes) > 0 {
		var prefixes []resource.PropertyValue
		for _, p := range vc.ExcludedPrefixes {
			prefixes = append(prefixes, strProp(p.Prefix))
		}
		cfg["excludedPrefixes"] = resource.NewArrayProperty(prefixes)
	}
	return resource.PropertyMap{"bucket": strProp(id), "versioningConfiguration": resource.NewObjectProperty(cfg)}, true, nil
}

var daysPattern = regexp.MustCompile(`^([0-9]+)d$`)

func setLifecycle(ctx context.Context, c *conn, in resource.PropertyMap) error {
	cfg := lifecycle.NewConfiguration()
	rules := plainValue(in["rules"])
	if !rules.IsArray() || len(rules.ArrayValue()) == 0 {
		return fmt.Errorf("rules: at least one rule is required")
	}
	for i, r := range rules.ArrayValue() {
		rule, err := lifecycleRule(i, plainValue(r))
		if err != nil {
			return err
		}
		cfg.Rules = append(cfg.Rules, rule)
	}
	return c.s3.SetBucketLifecycle(ctx, str(in, "bucket"), cfg)
}

func lifecycleRule(i int, v resource.PropertyValue) (lifecycle.Rule, error) {
	if !v.IsObject() {
		return lifecycle.Rule{}, fmt.Errorf("rules[%d]: not an object", i)
	}
	m := v.ObjectValue()
	rule := lifecycle.Rule{ID: str(m, "id"), Status: str(m, "status")}
	if rule.ID == "" {
		return rule, fmt.Errorf("rules[%d].id: required", i)
	}
	if rule.Status == "" {
		rule.Status = "Enabled"
	}
	if rule.Status != "Enabled" && rule.Status != "Disabled" {
		return rule, fmt.Errorf("rules[%d].status %q: allowed are Enabled and Disabled", i, rule.Status)
	}
	if exp := str(m, "expiration"); exp != "" {
		if d := daysPattern.FindStringSubmatch(exp); d != nil {
			days, _ := strconv.Atoi(d[1])
			rule.Expiration.Days = lifecycle.ExpirationDays(days)
		} else if date, err := time.Parse("2006-01-02", exp); err == nil {
			rule.Expiration.Date = lifecycle.ExpirationDate{Time: date}
		} else {
			return rule, fmt.Errorf("rules[%d].expiration %q: allowed are a number of days like 30d or a date like 2027-01-31", i, exp)
		}
	}
	if days, ok := number(m, "noncurrentVersionExpirationDays"); ok {
		rule.NoncurrentVersionExpiration.NoncurrentDays = lifecycle.ExpirationDays(int(days))
	}
	prefix := str(m, "filter")
	if tags := plainValue(m["tags"]); tags.IsObject() && len(tags.ObjectValue()) > 0 {
		rule.RuleFilter.And.Prefix = prefix
		for k, tv := range tags.ObjectValue() {
			rule.RuleFilter.And.Tags = append(rule.RuleFilter.And.Tags, lifecycle.Tag{Key: string(k), Value: plainValue(tv).StringValue()})
		}
	} else {
		rule.RuleFilter.Prefix = prefix
	}
	return rule, nil
}

func readLifecycle(ctx context.Context, c *conn, id string, _ resource.PropertyMap) (resource.PropertyMap, bool, error) {
	cfg, err := c.s3.GetBucketLifecycle(ctx, id)
	if code := minio.ToErrorResponse(err).Code; code == "NoSuchLifecycleConfiguration" || code == "NoSuchBucket" {
		return nil, false, nil
	}
	if err != nil || cfg == nil || len(cfg.Rules) == 0 {
		return nil, false, err
	}
	var rules []resource.PropertyValue
	for _, r := range cfg.Rules {
		m := resource.PropertyMap{"id": strProp(r.ID), "status": strProp(r.Status)}
		if r.Expiration.Days > 0 {
			m["expiration"] = strProp(fmt.Sprintf("%dd", r.Expiration.Days))
		} else if !r.Expiration.Date.IsZero() {
			m["expiration"] = strProp(r.Expiration.Date.Format("2006-01-02"))
		}
		if r.NoncurrentVersionExpiration.NoncurrentDays > 0 {
			m["noncurrentVersionExpirationDays"] = numProp(float64(r.NoncurrentVersionExpiration.NoncurrentDays))
		}
		prefix := r.RuleFilter.Prefix
		if !r.RuleFilter.And.IsEmpty() {
			prefix = r.RuleFilter.And.Prefix
			tags := resource.PropertyMap{}
			for _, t := range r.RuleFilter.And.Tags {
				tags[resource.PropertyKey(t.Key)] = strProp(t.Value)
			}
			m["tags"] = resource.NewObjectProperty(tags)
		}
		if prefix != "" {
			m["filter"] = strProp(prefix)
		}
		rules = append(rules, resource.NewObjectProperty(m))
	}
	return resource.PropertyMap{"bucket": strProp(id), "rules": resource.NewArrayProperty(rules)}, true, nil
}

// sameJSONOr returns recorded when it is the same policy as observed (MinIO
// reorders and reformats policies), else observed.
func sameJSONOr(recorded, observed string) string {
	if policyjson.Equal(recorded, observed) {
		return recorded
	}
	return observed
}
