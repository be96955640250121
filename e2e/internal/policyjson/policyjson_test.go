package policyjson

import "testing"

func TestEqual(t *testing.T) {
	const ours = `{"Version":"2012-10-17","Statement":[{"Sid":"L","Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation"],"Resource":["arn:aws:s3:::b"],"Condition":{"StringLike":{"s3:prefix":"postgres/*"}}}]}`
	cases := []struct {
		name, other string
		want        bool
	}{
		{"as MinIO returns it: actions reordered, condition value a list",
			`{"Statement":[{"Action":["s3:GetBucketLocation","s3:ListBucket"],"Condition":{"StringLike":{"s3:prefix":["postgres/*"]}},"Effect":"Allow","Resource":["arn:aws:s3:::b"],"Sid":"L"}],"Version":"2012-10-17"}`, true},
		{"another prefix",
			`{"Version":"2012-10-17","Statement":[{"Sid":"L","Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation"],"Resource":["arn:aws:s3:::b"],"Condition":{"StringLike":{"s3:prefix":"data/*"}}}]}`, false},
		{"an action more",
			`{"Version":"2012-10-17","Statement":[{"Sid":"L","Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation","s3:GetObject"],"Resource":["arn:aws:s3:::b"],"Condition":{"StringLike":{"s3:prefix":"postgres/*"}}}]}`, false},
		{"not JSON", `{`, false},
	}
	for _, c := range cases {
		if got := Equal(ours, c.other); got != c.want {
			t.Errorf("%s: Equal = %v, want %v", c.name, got, c.want)
		}
	}
}
