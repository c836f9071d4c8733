// Public surface of @cattail/cni (filled in as the package grows).
export {};
