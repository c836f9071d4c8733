/** `cattail apply -f FILE`: create each resource, or replace it when it already exists. */
import { writeCommand } from './write-command.js';

export const applyCommand = writeCommand({
  verb: 'apply',
  summary: 'Apply a resource by file, directory or stdin.',
  description: `Creates each resource in the file(s), or replaces it when it already exists.
JSON and YAML are accepted; a file may hold several documents (separated by ---),
and a "kind: List" or "kind: <Kind>List" document is expanded into its items.

Every document is checked before anything is written: if any is invalid, each
problem is printed as "<file>: document <n>: <Kind(name)>: <field>: <reason>"
(documents counted from 1) and nothing is written.

When replacing, the complete resource must be given: it is not merged with the
stored one. The stored uid, creationTimestamp and resourceVersion are kept.`,
});
