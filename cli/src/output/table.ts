/**
 * The ps-style table calicoctl prints: Go's text/tabwriter with minwidth 5, padding 3, padded
 * with spaces, every cell (the last one too) terminated by a tab. So each column is as wide as
 * its widest cell plus 3 (at least 5), and lines keep calicoctl's trailing padding: output that
 * scripts already cut or awk looks the same.
 */

const MIN_WIDTH = 5;
const PADDING = 3;

export function formatTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const columns = Math.max(...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < columns; c++) {
    let width = MIN_WIDTH;
    for (const row of rows) {
      const cell = row[c];
      if (cell !== undefined) width = Math.max(width, textWidth(cell) + PADDING);
    }
    widths.push(width);
  }
  return rows.map((row) => row.map((cell, c) => cell + ' '.repeat(widths[c] - textWidth(cell))).join('') + '\n').join('');
}

/** Width in code points, as tabwriter counts runes. */
function textWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
