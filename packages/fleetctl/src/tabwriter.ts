/**
 * Go's `text/tabwriter` as fleetctl configures it: `tabwriter.NewWriter(out, 0, 8, 1, '\t', 0)`
 * (minwidth 0, tabwidth 8, padding 1, padchar TAB, no flags).
 *
 * Each column's width is the widest cell plus the padding, rounded up to a multiple of the tab
 * width; a cell is followed by as many TABs as it takes to reach that width. The last cell of a line
 * is not a column (Go terminates cells with TABs), so it is written as is. Widths count characters
 * (Go counts runes), so the output lines up in a terminal with 8-column tab stops.
 */
export interface TabOptions {
  /** Tab stop width (fleetctl: 8). */
  readonly tabWidth: number;
  /** Added to the widest cell of a column (fleetctl: 1). */
  readonly padding: number;
}

const fleetctlTabs: TabOptions = { tabWidth: 8, padding: 1 };

/** Formats rows (all of the same length) as Go's tabwriter would; every line ends in `\n`. */
export function formatTabbed(rows: readonly (readonly string[])[], options: TabOptions = fleetctlTabs): string {
  const { tabWidth, padding } = options;
  const widths: number[] = [];
  for (const row of rows) {
    // The last cell is not tab-terminated, so it never widens a column.
    for (let column = 0; column < row.length - 1; column++) {
      const width = textWidth(row[column] ?? '') + padding;
      if (width > (widths[column] ?? 0)) widths[column] = width;
    }
  }
  let text = '';
  for (const row of rows) {
    let line = '';
    row.forEach((cell, column) => {
      line += cell;
      if (column < row.length - 1) line += tabsAfter(textWidth(cell), widths[column] ?? 0, tabWidth);
    });
    text += `${line}\n`;
  }
  return text;
}

function tabsAfter(textW: number, columnW: number, tabWidth: number): string {
  const cellW = Math.ceil(columnW / tabWidth) * tabWidth;
  return '\t'.repeat(Math.ceil((cellW - textW) / tabWidth));
}

function textWidth(text: string): number {
  return [...text].length;
}
