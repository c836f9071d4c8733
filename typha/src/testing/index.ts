/**
 * `@cattail/typha/testing`: tools for tests and benchmarks that talk to a Typha server below the
 * reference client — raw client frames, and hostile clients (silent, no hello, slowloris,
 * never reading) for the server's limits and the attack benchmark — and a bounded poll for
 * state that lives in other sockets or processes.
 */
export { maskedFrame, upgradeRequest, helloFrame } from './client-frames.js';
export { AttackSwarm, ATTACK_KINDS, type AttackKind, type AttackTarget, type KindReport, type SwarmOptions } from './attack-swarm.js';
export { pollUntil, type PollOptions } from './poll-until.js';
