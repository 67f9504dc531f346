/**
 * A line chart as a standalone SVG file, with logarithmic axes (a decade a grid line):
 * how a figure grows with size reads as a slope, whatever its range. No dependency: the
 * benchmark scripts write their charts beside bench/README.md.
 */

export interface Series {
  name: string;
  /** [x, y] points; those with a y ≤ 0 (not measured) are left out. */
  points: [number, number][];
  /** Dashed (e.g. p99 beside a solid p50). */
  dashed?: boolean;
  /** Index into the palette: series that share it share a colour. */
  colour?: number;
}

export interface Chart {
  title: string;
  x: string;
  y: string;
  series: Series[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf'];
const W = 640;
const H = 400;
const M = { left: 64, right: 170, top: 40, bottom: 52 };

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** 1,000 → "1k", 1,000,000 → "1M", 0.1 → "0.1". */
export function shortNumber(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(Number(v.toPrecision(3)));
}

/** Decades covering [lo, hi]: [floor(log10 lo), ceil(log10 hi)], at least one wide. */
function decades(values: number[]): [number, number] {
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  return [lo, Math.max(hi, lo + 1)];
}

export function lineChart(c: Chart): string {
  const series = c.series
    .map((s) => ({ ...s, points: s.points.filter(([x, y]) => x > 0 && y > 0) }))
    .filter((s) => s.points.length > 0);
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  if (xs.length === 0) throw new Error(`${c.title}: nothing to plot`);
  const [x0, x1] = decades(xs);
  const [y0, y1] = decades(ys);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (x: number): number => M.left + ((Math.log10(x) - x0) / (x1 - x0)) * pw;
  const py = (y: number): number => M.top + ph - ((Math.log10(y) - y0) / (y1 - y0)) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${esc(c.title)}</text>`,
  ];
  for (let d = x0; d <= x1; d++) {
    const x = px(10 ** d).toFixed(1);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + ph}" stroke="#ddd"/>`,
      `<text x="${x}" y="${M.top + ph + 18}" text-anchor="middle">${shortNumber(10 ** d)}</text>`,
    );
  }
  for (let d = y0; d <= y1; d++) {
    const y = py(10 ** d).toFixed(1);
    out.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${M.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${shortNumber(10 ** d)}</text>`,
    );
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(c.x)}</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(c.y)}</text>`,
  );
  series.forEach((s, i) => {
    const colour = PALETTE[(s.colour ?? i) % PALETTE.length]!;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    out.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${pts
        .map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`)
        .join(' ')}"/>`,
      ...pts.map(
        ([x, y]) =>
          `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${colour}"><title>${esc(s.name)}: ${shortNumber(x)}, ${Number(y.toPrecision(3))}</title></circle>`,
      ),
    );
    const ly = M.top + 8 + i * 18;
    const lx = M.left + pw + 12;
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
