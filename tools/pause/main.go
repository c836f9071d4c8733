// Command pause is the lab's pod sandbox image: the first process of every pod, holding the
// pod's namespaces while its containers come and go. It does what a sandbox process must and
// nothing else: wait for SIGINT or SIGTERM and exit 0, and reap the zombies of a pod whose
// containers share its PID namespace (it is their init then). Static (CGO_ENABLED=0), so the
// image is this one file.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println("cattail pause 1")
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "pause: warning: not pid 1, reaping only my own children")
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
