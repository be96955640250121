package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/virdx/vxplatform-infra/internal/restorejob"
)

func runRestore(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("vxops restore-staging", flag.ContinueOnError)
	namespace := fs.String("namespace", "data-platform-staging", "staging's namespace")
	cronJob := fs.String("cronjob", "restore-from-production", "the suspended CronJob that restores the latest production backup")
	kubeContext := fs.String("context", "", "kubeconfig context (default: the kubeconfig's current context)")
	timeout := fs.Duration("timeout", 2*time.Hour, "how long to wait for the restore")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{CurrentContext: *kubeContext}).ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig (KUBECONFIG=%s, context %q): %w", os.Getenv("KUBECONFIG"), *kubeContext, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	res, err := restorejob.Run(ctx, cs, *namespace, *cronJob, *timeout, time.Now())
	if err != nil {
		_ = summarize("Staging restore: **" + err.Error() + "**")
		return err
	}
	if err := summarize("Staging restore from the latest production backup: " + res.String()); err != nil {
		return err
	}
	if !res.Succeeded {
		return fmt.Errorf("%s (staging is left as it was: the restore swaps only after every check passed)", res)
	}
	fmt.Println(res)
	return nil
}
