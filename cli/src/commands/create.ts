/** `cattail create -f FILE`: create each resource; one that already exists is an error. */
import { writeCommand } from './write-command.js';

export const createCommand = writeCommand({
  verb: 'create',
  summary: 'Create a resource by file, directory or stdin.',
  description: `Creates each resource in the file(s). A resource that already exists is an error
(with --skip-exists it is counted as created and left as it is).
JSON and YAML are accepted; a file may hold several documents (separated by ---),
and a "kind: List" or "kind: <Kind>List" document is expanded into its items.

Every document is checked before anything is written: if any is invalid, each
problem is printed as "<file>: document <n>: <Kind(name)>: <field>: <reason>"
(documents counted from 1) and nothing is written.`,
});
