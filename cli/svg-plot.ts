/** A line plot of y over x as inline SVG: no scripts, no external assets, readable in any browser. */
export function linePlot(title: string, xs: number[], ys: number[], opts: { width?: number; height?: number } = {}): string {
  const width = opts.width ?? 320;
  const height = opts.height ?? 180;
  const pad = { left: 48, right: 12, top: 24, bottom: 28 };
  const points = xs.map((x, i) => [x, ys[i]] as const).filter(([, y]) => Number.isFinite(y));
  const [x0, x1] = range(points.map(([x]) => x));
  const [y0, y1] = range(points.map(([, y]) => y));
  const sx = (x: number) => pad.left + ((x - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const sy = (y: number) => height - pad.bottom - ((y - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);
  const path = points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
  const dots = points.length <= 40 ? points.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2"/>`).join('') : '';
  return [
    `<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<text x="${pad.left}" y="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect x="${pad.left}" y="${pad.top}" width="${width - pad.left - pad.right}" height="${height - pad.top - pad.bottom}" fill="none" stroke="#ccc"/>`,
    `<text x="${pad.left - 4}" y="${pad.top + 4}" text-anchor="end">${tick(y1)}</text>`,
    `<text x="${pad.left - 4}" y="${height - pad.bottom}" text-anchor="end">${tick(y0)}</text>`,
    `<text x="${pad.left}" y="${height - 10}">${tick(x0)}</text>`,
    `<text x="${width - pad.right}" y="${height - 10}" text-anchor="end">step ${tick(x1)}</text>`,
    points.length ? `<path d="${path}" fill="none" stroke="#2563eb" stroke-width="1.5"/><g fill="#2563eb">${dots}</g>` : `<text x="${width / 2}" y="${height / 2}" text-anchor="middle">no data</text>`,
    '</svg>',
  ].join('');
}

/** The extent of the values; a constant series is drawn against zero (a flat 0 against 0..1). */
function range(values: number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  if (lo !== hi) return [lo, hi];
  return lo === 0 ? [0, 1] : [Math.min(0, lo), Math.max(0, hi)];
}

function tick(v: number): string {
  return Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2);
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}
