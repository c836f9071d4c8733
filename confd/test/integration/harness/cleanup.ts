// The shared test kit (cleanup stack, poll-until) lives in @cattail/datastore/testing.
export { Cleanup, until } from '@cattail/datastore/testing';
