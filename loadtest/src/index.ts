// Public surface of @cattail/loadtest (filled in as the package grows).
export {};
