//go:build tools

// Package kube pins the Kubernetes binaries Cattail's tests run (kube-apiserver, kubectl).
// Nothing imports it; scripts/setup.sh builds the two commands from this module.
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
