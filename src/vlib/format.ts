// Text layout helpers for CLI output in VPP's style: fixed columns, centred headers and
// C printf-like number forms (`%.2e` prints 2.8427e7, not 2.84e+7).

/** Centres `text` in `width` columns as VPP's `%=Ns` does: the odd space goes on the left. */
export function center(text: string, width: number): string {
  if (text.length >= width) return text;
  const right = Math.floor((width - text.length) / 2);
  return ' '.repeat(width - text.length - right) + text + ' '.repeat(right);
}

/** `value` in C's `%.{digits}e` form but with VPP's short exponent: 2.8427e7, 0.0000e0. */
export function exponential(value: number, digits: number): string {
  const [mantissa, exponent] = value.toExponential(digits).split('e');
  return `${mantissa}e${Number(exponent)}`;
}

/** Lays out rows of cells in columns: each column is as wide as its widest cell. */
export function columns(rows: readonly (readonly string[])[], gap = 2): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] + gap))).join('').trimEnd());
}
