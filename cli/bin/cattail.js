#!/usr/bin/env node
// The `cattail` command: run the compiled CLI (`npx tsc -b cli` builds it).
import { main } from '../dist/src/main.js';

await main();
