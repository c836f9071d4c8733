/**
 * The boxed table of calicoctl's `ipam` commands, which draw with go-pretty's default style
 * rather than the tabwriter of `get` (table.ts):
 *
 *   +----------+--------------+-----------+
 *   | GROUPING |     CIDR     | IPS TOTAL |
 *   +----------+--------------+-----------+
 *   | IP Pool  | 10.66.0.0/16 |     65536 |
 *   +----------+--------------+-----------+
 *
 * Each column is as wide as its widest cell or heading, with one space either side. Headings
 * are centered, an odd leftover space going to the right (as calicoctl's published output
 * shows); cells are left-aligned unless their column is listed as right-aligned. A table
 * without rows is its heading between two rules.
 */

export function formatBoxTable(headings: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly number[] = []): string {
  const widths = headings.map((h, c) => Math.max(textWidth(h), ...rows.map((r) => textWidth(r[c] ?? ''))));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+\n`;
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |\n`;
  const heading = line(headings.map((h, c) => center(h, widths[c])));
  const body = rows.map((r) =>
    line(
      widths.map((w, c) => {
        const cell = r[c] ?? '';
        const fill = ' '.repeat(w - textWidth(cell));
        return rightAligned.includes(c) ? fill + cell : cell + fill;
      }),
    ),
  );
  return rows.length === 0 ? `${rule}${heading}${rule}` : `${rule}${heading}${rule}${body.join('')}${rule}`;
}

function center(text: string, width: number): string {
  const extra = width - textWidth(text);
  const left = Math.floor(extra / 2);
  return `${' '.repeat(left)}${text}${' '.repeat(extra - left)}`;
}

/** Width in code points (the tables hold addresses, names and numbers). */
function textWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
