// Public surface of @cattail/lab (filled in as the package grows).
export {};
