module cattail.local/tools/cni-shim

go 1.22
