// Command kstage-testcluster is the whole test cluster in one binary:
//
//	kstage-testcluster up --dir DIR [--preload kserve-v0.15.2] [--assets DIR]   start everything, detached; return when ready
//	kstage-testcluster down --dir DIR                            stop what up started, by PID
//	kstage-testcluster etcd ...                                  embedded etcd (started by up)
//	kstage-testcluster kube-apiserver ...                        the real kube-apiserver (k8s.io/kubernetes)
//	kstage-testcluster kube-controller-manager ...               the real kube-controller-manager
//	kstage-testcluster sim --dir DIR                             fault proxy, simulated controllers, data plane, artifact/OCI/git servers
//	kstage-testcluster preload --dir DIR kserve-v0.15.2          apply a preset to a running cluster
//	kstage-testcluster netns-bridge --in A=SOCK --out SOCK=A     inside a real controller's network namespace (started by sim)
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"k8s.io/component-base/cli"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	kcm "k8s.io/kubernetes/cmd/kube-controller-manager/app"

	"kstage.dev/tests/cluster/harness"
	"kstage.dev/tests/cluster/sim"
)

// watchOwner ends this process when the process named by
// $KSTAGE_TESTCLUSTER_OWNER_PID is gone. `go test` sets it so that a test
// binary killed by its timeout leaves no detached cluster behind; `make
// cluster-up` does not set it, so that cluster outlives the make that started it.
func watchOwner() {
	pid, err := strconv.Atoi(os.Getenv("KSTAGE_TESTCLUSTER_OWNER_PID"))
	if err != nil || pid <= 1 {
		return
	}
	go func() {
		for {
			if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
				fmt.Fprintf(os.Stderr, "owner process %d is gone; exiting\n", pid)
				syscall.Kill(os.Getpid(), syscall.SIGTERM)
				time.Sleep(20 * time.Second)
				os.Exit(1)
			}
			time.Sleep(time.Second)
		}
	}()
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kstage-testcluster up|down|sim|preload|netns-bridge|etcd|kube-apiserver|kube-controller-manager ...")
		os.Exit(2)
	}
	sub, args := os.Args[1], os.Args[2:]
	watchOwner()
	switch sub {
	case "kube-apiserver":
		cmd := apiserver.NewAPIServerCommand()
		cmd.SetArgs(args)
		os.Args = append([]string{"kube-apiserver"}, args...)
		os.Exit(cli.Run(cmd))
	case "kube-controller-manager":
		cmd := kcm.NewControllerManagerCommand()
		cmd.SetArgs(args)
		os.Args = append([]string{"kube-controller-manager"}, args...)
		os.Exit(cli.Run(cmd))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var err error
	switch sub {
	case "etcd":
		err = harness.RunEtcd(ctx, args)
	case "up":
		err = harness.Up(ctx, args)
	case "down":
		err = harness.Down(args)
	case "sim":
		err = harness.RunSim(ctx, args)
	case "preload":
		err = harness.PreloadCmd(ctx, args)
	case "netns-bridge":
		err = sim.NetnsBridge(args)
	default:
		err = fmt.Errorf("unknown subcommand %q", sub)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kstage-testcluster "+sub+": "+err.Error())
		os.Exit(1)
	}
}
