package main

import "strings"

const (
	s3BucketType       = "minio:index/s3Bucket:S3Bucket"
	s3BucketPolicyType = "minio:index/s3BucketPolicy:S3BucketPolicy"
)

var bucketPublicACLRule = resourceRule{
	name:        "minio-bucket-no-public-acl",
	description: "Every MinIO bucket is private: no public, public-read, public-write or public-read-write ACL.",
	scope:       everywhere,
	check:       checkBucketACL,
}

var bucketPolicyAnonymousRule = resourceRule{
	name:        "minio-bucket-policy-no-anonymous-principal",
	description: "No MinIO bucket policy allows anything to an anonymous principal (\"*\").",
	scope:       everywhere,
	check:       checkBucketPolicyAnonymous,
}

// checkBucketACL: every environment's buckets live on the one central MinIO next
// to the patient-data buckets, and no environment's design needs anonymous
// access; a public ACL is the classic way a bucket leaks. An absent ACL is the
// provider's default, private.
func checkBucketACL(_ target, r analyzed) []finding {
	if r.Type != s3BucketType {
		return nil
	}
	f := newFindings()
	if acl, ok := judge(f, stringAt(r.Props, "acl")); ok && !strings.EqualFold(acl, "private") {
		f.violation("acl is %q: the bucket must be private", acl)
	}
	return f.all()
}

// checkBucketPolicyAnonymous: a bucket policy is the other way to open a bucket
// to everyone, without any ACL.
func checkBucketPolicyAnonymous(_ target, r analyzed) []finding {
	if r.Type != s3BucketPolicyType {
		return nil
	}
	f := newFindings()
	text, ok := judge(f, stringAt(r.Props, "policy"))
	if !ok {
		return f.all()
	}
	statements, err := parsePolicyDocument(text)
	if err != nil {
		f.violation("policy cannot be read (%v), so it cannot be checked", err)
		return f.all()
	}
	for _, st := range statements {
		if st.allow && st.anonymous {
			f.violation("statement %s allows access to an anonymous principal (\"*\")", st.id)
		}
	}
	return f.all()
}
