/**
 * How `tidings` prints for a person: lists as tables with a header row, whose columns start at
 * the same terminal column on every line, and one object as `key: value` lines. `--json` prints
 * the server's answer instead ({@link jsonText}).
 */

/** One column of a table: its header and how a row fills it. */
export interface Column<Row> {
  readonly header: string;
  readonly cell: (row: Row) => string | number | null | undefined;
  /** Cells longer than this many terminal columns are cut, with `…` (message bodies, reasons). */
  readonly maxWidth?: number;
}

/** Gaps between columns, in terminal columns. */
const GAP = '  ';

/**
 * Characters that take two terminal columns (East Asian wide and fullwidth forms, emoji), so
 * that a column after Chinese text still lines up; combining marks take none.
 */
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200b-\u200f\ufeff]/u;

/** How many terminal columns a text takes. */
export const displayWidth = (text: string): number => {
  let width = 0;
  for (const character of text) {
    if (ZERO_WIDTH.test(character)) continue;
    width += WIDE.test(character) ? 2 : 1;
  }
  return width;
};

/**
 * A value as one line of a cell: control characters (a message body's line breaks, an escape
 * sequence someone put in an app's name) become spaces, so no value can break the layout or
 * drive the terminal; a missing value is `-`.
 */
const cellText = (value: string | number | null | undefined): string => {
  if (value === null || value === undefined || value === '') return '-';
  return String(value).replace(/\p{Cc}/gu, ' ');
};

/** Cuts a text to `max` terminal columns, ending in `…` when something was cut. */
const cut = (text: string, max: number | undefined): string => {
  if (max === undefined || displayWidth(text) <= max) return text;
  let kept = '';
  for (const character of text) {
    if (displayWidth(kept + character) > max - 1) break;
    kept += character;
  }
  return `${kept}…`;
};

const padded = (text: string, width: number): string =>
  text + ' '.repeat(Math.max(0, width - displayWidth(text)));

/**
 * The rows as a table: a header row, then one line per row, each column as wide as its widest
 * cell plus a gap, and no trailing spaces. No rows print `empty` alone (e.g. `no apps`).
 */
export const table = <Row>(
  columns: readonly Column<Row>[],
  rows: readonly Row[],
  empty: string,
): string => {
  if (rows.length === 0) return `${empty}\n`;
  const lines = [
    columns.map((column) => column.header),
    ...rows.map((row) => columns.map((column) => cut(cellText(column.cell(row)), column.maxWidth))),
  ];
  const widths = columns.map((_, index) =>
    Math.max(...lines.map((line) => displayWidth(line[index] ?? ''))),
  );
  return lines
    .map((line) =>
      line
        .map((cell, index) => (index === line.length - 1 ? cell : padded(cell, widths[index] ?? 0)))
        .join(GAP),
    )
    .join('\n')
    .concat('\n');
};

/** One field of an object: its name and value; an undefined value leaves the line out. */
export type Field = readonly [name: string, value: string | number | null | undefined];

/** `name: value` lines, the values starting in one column. */
export const fields = (entries: readonly Field[]): string => {
  const shown = entries.filter(([, value]) => value !== undefined);
  const width = Math.max(0, ...shown.map(([name]) => displayWidth(name) + 1));
  return shown.map(([name, value]) => `${padded(`${name}:`, width)} ${cellText(value)}\n`).join('');
};

/** The server's answer as `--json` prints it: indented, one value, ending in a line break. */
export const jsonText = (answer: unknown): string => `${JSON.stringify(answer, null, 2)}\n`;
