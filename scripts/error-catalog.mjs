#!/usr/bin/env node
// Writes docs/ERRORS.md from @cattail/api's error catalog (api/src/error-catalog.ts); run it
// after `npx tsc -b` whenever a code is added. api/test/error-catalog.test.ts fails while the
// file and the catalog differ.
import { writeFileSync } from 'node:fs';
import { renderErrorCatalog } from '@cattail/api';

writeFileSync(new URL('../docs/ERRORS.md', import.meta.url), renderErrorCatalog());
