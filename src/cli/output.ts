// Plain-text rendering shared by the commands: aligned tables and compact timestamps.

/** A column of {@link formatTable}: a header and how to show one row's cell. */
export interface Column<T> {
  header: string
  cell: (row: T) => string
}

/** Renders rows as a left-aligned table with a header line; control characters are escaped. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => printable(c.cell(row))))
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)),
  )
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n')
}

/** Renders `key: value` lines with the keys aligned. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(...fields.map(([k]) => k.length)) + 1
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width)} ${printable(v)}`).join('\n')
}

/** A timestamp as RFC 3339 UTC to the second, or `-` when absent. */
export function formatTime(date: Date | null | undefined): string {
  return date ? `${date.toISOString().slice(0, 19)}Z` : '-'
}

/** Replaces control characters so a stored value cannot rewrite the operator's terminal. */
export function printable(value: string): string {
  return value.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  )
}
