#!/usr/bin/env node
// The CNI plugin executable: run the compiled plugin (`npx tsc -b cni` builds it).
import { main } from '../dist/src/main.js';

await main();
