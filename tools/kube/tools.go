//go:build tools

// Package kube pins the Kubernetes binaries Cattail's tests run: kube-apiserver and kubectl (the
// Kubernetes-datastore tests) and kube-scheduler, kube-controller-manager and kubelet (the
// kubernetes lab engine). Nothing imports it; scripts/setup.sh builds the commands from this module.
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
