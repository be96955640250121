package stacks

import (
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	// imageTagPattern is the OCI reference grammar for a tag.
	imageTagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	// wholeBinarySizePattern is the form a storage size config takes: a whole
	// number of Mi, Gi or Ti. Kubernetes accepts "2G" and "1.5Gi" too; "2Gb" or
	// "2G" are the mistakes this exists to catch.
	wholeBinarySizePattern = regexp.MustCompile(`^[1-9][0-9]{0,5}(Mi|Gi|Ti)$`)
	cronFieldPattern       = regexp.MustCompile(`^(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?(,(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?)*$`)
	numberPattern          = regexp.MustCompile(`[0-9]+`)
)

const (
	allowedImageTag  = "an image tag: letters, digits, '_', '.', '-', at most 128 characters, not 'latest'"
	allowedQuantity  = "a whole size in Mi, Gi or Ti, e.g. 20Gi"
	allowedBucket    = "an S3 bucket name: 3-63 characters of lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, no '..', not an IP address"
	allowedHostname  = "a lowercase DNS name such as staging.data.virdx.dev (no wildcard)"
	allowedCron      = "a five-field cron schedule such as '15 2 * * *'"
	allowedBool      = "true or false"
	allowedHostPort  = "host:port of the S3 endpoint, e.g. 192.168.10.101:10000"
	allowedCIDR      = "an address range in CIDR form, e.g. 10.20.0.0/16"
	allowedKubeCtx   = "the name of a context in your kubeconfig"
	allowedClassName = "a DNS label such as nginx"
)

func validImageTag(tag string) bool {
	return imageTagPattern.MatchString(tag) && tag != "latest"
}

// validDNSLabel accepts an RFC 1123 label, lowercase as Kubernetes requires.
func validDNSLabel(s string) bool { return len(validation.IsDNS1123Label(s)) == 0 }

// validObjectName accepts the name of a Kubernetes object such as a Secret or a
// StorageClass: an RFC 1123 subdomain.
func validObjectName(s string) bool { return len(validation.IsDNS1123Subdomain(s)) == 0 }

// validHostname accepts a fully qualified DNS name of at least two labels and
// no trailing dot (Kubernetes would strip it; an Ingress host may not have one).
func validHostname(s string) bool {
	return !strings.HasSuffix(s, ".") && len(validation.IsFullyQualifiedDomainName(field.NewPath("host"), s)) == 0
}

// validBucketName follows the S3 bucket naming rules MinIO enforces, and AWS's
// reserved prefixes and suffixes, so that a bucket name also works on S3.
func validBucketName(s string) bool {
	return s3utils.CheckValidBucketNameStrict(s) == nil &&
		net.ParseIP(s) == nil &&
		!strings.HasPrefix(s, "xn--") && !strings.HasSuffix(s, "-s3alias")
}

// storageBytes parses a storage size config; ok is false when it is not a whole
// number of Mi, Gi or Ti.
func storageBytes(q string) (int64, bool) {
	if !wholeBinarySizePattern.MatchString(q) {
		return 0, false
	}
	quantity, err := resource.ParseQuantity(q)
	if err != nil {
		return 0, false
	}
	return quantity.Value(), true
}

var cronFieldRanges = [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}

// validCron checks a standard five-field schedule, the form CronJob accepts.
func validCron(s string) bool {
	fields := strings.Fields(s)
	if len(fields) != 5 {
		return false
	}
	for i, f := range fields {
		if !cronFieldPattern.MatchString(f) {
			return false
		}
		for _, item := range strings.Split(f, ",") {
			values, step, hasStep := strings.Cut(item, "/")
			if hasStep && step == "0" {
				return false
			}
			for _, n := range numberPattern.FindAllString(values, -1) {
				v, _ := strconv.Atoi(n)
				if v < cronFieldRanges[i][0] || v > cronFieldRanges[i][1] {
					return false
				}
			}
		}
	}
	return true
}

func validHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return false
	}
	p, err := strconv.Atoi(port)
	return err == nil && p > 0 && p < 65536 && (net.ParseIP(host) != nil || validHostname(host) || validDNSLabel(host))
}

func validCIDR(s string) bool {
	_, _, err := net.ParseCIDR(s)
	return err == nil
}

// openToEveryone reports whether a CIDR admits every address.
func openToEveryone(cidr string) bool {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		return false
	}
	ones, _ := n.Mask.Size()
	return ones == 0
}
