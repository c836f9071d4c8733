/** `cattail replace -f FILE`: replace each resource; one that does not exist is an error. */
import { writeCommand } from './write-command.js';

export const replaceCommand = writeCommand({
  verb: 'replace',
  summary: 'Replace a resource by file, directory or stdin.',
  description: `Replaces each resource in the file(s). A resource that does not exist is a
terminating error: the resources after it are not replaced.
JSON and YAML are accepted; a file may hold several documents (separated by ---),
and a "kind: List" or "kind: <Kind>List" document is expanded into its items.

Every document is checked before anything is written: if any is invalid, each
problem is printed as "<file>: document <n>: <Kind(name)>: <field>: <reason>"
(documents counted from 1) and nothing is written.

The complete resource must be given. If it carries metadata.resourceVersion, the
stored resource must still be at that version ("update conflict" otherwise).`,
});
