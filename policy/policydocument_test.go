package main

import "testing"

func TestStatementCoversBucket(t *testing.T) {
	tests := []struct {
		resource string
		bucket   string
		want     bool
	}{
		{"arn:aws:s3:::dataplatform-prod", "dataplatform-prod", true},
		{"arn:aws:s3:::dataplatform-prod/*", "dataplatform-prod", true},
		{"arn:aws:s3:::dataplatform-prod/postgres/*", "dataplatform-prod", true},
		{"arn:aws:s3:::dataplatform-p*", "dataplatform-prod", true},
		{"arn:aws:s3:::dataplatform-?rod/x", "dataplatform-prod", true},
		{"arn:aws:s3:::*", "dataplatform-prod", true},
		{"arn:aws:s3:::*/*", "dataplatform-prod", true},
		{"*", "dataplatform-prod", true},
		{"arn:aws:s3*", "dataplatform-prod", true},
		{"arn:aws:s3:::dataplatform-production-copy", "dataplatform-prod", false},
		{"arn:aws:s3:::dataplatform-public/*", "dataplatform-prod", false},
		{"arn:aws:s3:::dataplatform-prod.backup/*", "dataplatform-prod", false},
		{"arn:aws:s3:::x/dataplatform-prod", "dataplatform-prod", false},
	}
	for _, tt := range tests {
		st := statement{allow: true, resources: []string{tt.resource}}
		if got := st.covers(tt.bucket); got != tt.want {
			t.Errorf("%s covers %s = %v, want %v", tt.resource, tt.bucket, got, tt.want)
		}
	}
	if (statement{allow: false, resources: []string{"*"}}).covers("dataplatform-prod") {
		t.Error("a Deny statement covers a bucket")
	}
	if !(statement{allow: true, notResource: true, resources: []string{"arn:aws:s3:::x"}}).covers("dataplatform-prod") {
		t.Error("NotResource does not fail closed")
	}
}

func TestStatementGrantsWrite(t *testing.T) {
	tests := []struct {
		actions []string
		want    bool
	}{
		{[]string{"s3:GetObject", "s3:ListBucket"}, false},
		{[]string{"s3:Get*", "s3:List*"}, false},
		{[]string{"s3:PutObject"}, true},
		{[]string{"S3:PUTOBJECT"}, true},
		{[]string{"s3:Put*"}, true},
		{[]string{"s3:Delete*"}, true},
		{[]string{"s3:*"}, true},
		{[]string{"*"}, true},
		{[]string{"s3:AbortMultipartUpload"}, true},
	}
	for _, tt := range tests {
		st := statement{allow: true, actions: tt.actions}
		if got := st.grantsAny(s3WriteActions); got != tt.want {
			t.Errorf("%v grants write = %v, want %v", tt.actions, got, tt.want)
		}
	}
	if !(statement{allow: true, notAction: true, actions: []string{"s3:GetObject"}}).grantsAny(s3WriteActions) {
		t.Error("NotAction does not fail closed")
	}
}

func TestParsePolicyDocument(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		wantErr   bool
		anonymous []bool
		ids       []string
	}{
		{name: "single statement object", doc: `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Principal":"*"}}`,
			anonymous: []bool{true}, ids: []string{"#0"}},
		{name: "AWS principal list", doc: `{"Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"],"Principal":{"AWS":["arn:aws:iam::1:user/x","*"]}}]}`,
			anonymous: []bool{true}, ids: []string{`"A"`}},
		{name: "named principal", doc: `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Principal":{"AWS":"arn:aws:iam::1:user/x"}}]}`,
			anonymous: []bool{false}, ids: []string{"#0"}},
		{name: "NotPrincipal", doc: `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","NotPrincipal":{"AWS":"x"}}]}`,
			anonymous: []bool{true}, ids: []string{"#0"}},
		{name: "no statement", doc: `{"Version":"2012-10-17"}`, wantErr: true},
		{name: "statement of the wrong shape", doc: `{"Statement":"Allow"}`, wantErr: true},
		{name: "action of the wrong shape", doc: `{"Statement":[{"Effect":"Allow","Action":7}]}`, wantErr: true},
		{name: "not JSON", doc: `{`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePolicyDocument(tt.doc)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if len(got) != len(tt.anonymous) {
				t.Fatalf("%d statements, want %d", len(got), len(tt.anonymous))
			}
			for i, st := range got {
				if st.anonymous != tt.anonymous[i] || st.id != tt.ids[i] {
					t.Errorf("statement %d: anonymous %v id %s, want %v %s", i, st.anonymous, st.id, tt.anonymous[i], tt.ids[i])
				}
			}
		})
	}
}
