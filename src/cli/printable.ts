/**
 * An identifier as a terminal may show it: as it is when it is plain; otherwise quoted
 * like a JSON string, with every control and format character escaped (a newline would
 * split a table row, a bidi override or a zero-width space would make two ids look
 * alike or reorder the line) and `/` kept inside the quotes, so `tenant/collection/id`
 * stays unambiguous. `max` shortens long ids with `…` (tables; `--json` prints them whole).
 */
export function printable(id: string, max = Infinity): string {
  const cut = [...id].length > max ? `${[...id].slice(0, max).join('')}…` : id;
  if (/^[^\s\p{C}/"\\]+$/u.test(id)) return cut;
  return JSON.stringify(cut).replace(
    /[\p{C}\u2028\u2029]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
