/**
 * `@cattail/typha/testing`: tools for tests and benchmarks that talk to a Typha server below the
 * reference client — raw client frames, and hostile clients (silent, no hello, slowloris,
 * never reading) for the server's limits and the attack benchmark, and the fake Clock every
 * test drives time with. (The bounded poll for tests is `until` in `@cattail/datastore/testing`.)
 */
export { FakeClock } from './fake-clock.js';
export { maskedFrame, upgradeRequest, helloFrame } from './client-frames.js';
export { AttackSwarm, ATTACK_KINDS, type AttackKind, type AttackTarget, type KindReport, type SwarmOptions } from './attack-swarm.js';
export { rawSync, type RawSyncResult } from './raw-sync.js';
