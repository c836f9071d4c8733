module cattail.local/tools/pause

go 1.22
