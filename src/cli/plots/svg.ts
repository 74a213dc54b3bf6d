/**
 * Line plots as SVG text (for the docs' figures, such as peak memory against
 * depth): axes with ticks, one polyline with markers per series, a legend.
 * Plain text, so it needs no canvas and diffs well in git.
 *
 * @module
 */

/** One line of {@link linePlotSvg}. */
export interface LineSeries {
  readonly label: string;
  /** `[x, y]` pairs in increasing x. */
  readonly points: readonly (readonly [number, number])[];
  /** Any SVG colour, e.g. `#1f77b4`. */
  readonly color: string;
}

/** Options of {@link linePlotSvg}. */
export interface LinePlotOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  /** Where the x axis has ticks (default: every x of every series). */
  readonly xTicks?: readonly number[];
  /** Formats a y tick (default: the number). */
  readonly formatY?: (y: number) => string;
  readonly width?: number;
  readonly height?: number;
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** 1, 2 or 5 times a power of ten: a tick step giving about `count` ticks over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(count, 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? 10 * power;
}

/**
 * A line plot: y from 0 to a round number above the largest value, x spread
 * over the given ticks (linear in x). `npm run bench -- --plot FILE` draws
 * docs/memory-depth.svg with it.
 */
export function linePlotSvg(options: LinePlotOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const margin = { left: 80, right: 150, top: 40, bottom: 56 };
  const xs = options.xTicks ?? [...new Set(options.series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b);
  const ys = options.series.flatMap((s) => s.points.map(([, y]) => y));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yStep = niceStep(Math.max(...ys, 1e-12), 5);
  const yMax = Math.ceil(Math.max(...ys, 1e-12) / yStep) * yStep;
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const px = (x: number) => margin.left + (xMax === xMin ? plotWidth / 2 : ((x - xMin) / (xMax - xMin)) * plotWidth);
  const py = (y: number) => margin.top + plotHeight - (y / yMax) * plotHeight;
  const formatY = options.formatY ?? ((y: number) => String(y));
  const f = (n: number) => n.toFixed(1);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${f(margin.left + plotWidth / 2)}" y="24" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`,
  ];
  for (let y = 0; y <= yMax + yStep / 2; y += yStep) {
    parts.push(`<line x1="${margin.left}" y1="${f(py(y))}" x2="${margin.left + plotWidth}" y2="${f(py(y))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${margin.left - 8}" y="${f(py(y) + 4)}" text-anchor="end">${escapeXml(formatY(Number(y.toPrecision(12))))}</text>`);
  }
  for (const x of xs) {
    parts.push(`<line x1="${f(px(x))}" y1="${margin.top + plotHeight}" x2="${f(px(x))}" y2="${margin.top + plotHeight + 5}" stroke="#333"/>`);
    parts.push(`<text x="${f(px(x))}" y="${margin.top + plotHeight + 20}" text-anchor="middle">${x}</text>`);
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${f(margin.left + plotWidth / 2)}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text x="18" y="${f(margin.top + plotHeight / 2)}" text-anchor="middle" transform="rotate(-90 18 ${f(margin.top + plotHeight / 2)})">${escapeXml(options.yLabel)}</text>`);
  options.series.forEach((series, k) => {
    const points = series.points.map(([x, y]) => `${f(px(x))},${f(py(y))}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${escapeXml(series.color)}" stroke-width="2"/>`);
    for (const [x, y] of series.points) parts.push(`<circle cx="${f(px(x))}" cy="${f(py(y))}" r="3.5" fill="${escapeXml(series.color)}"/>`);
    const legendY = margin.top + 16 + 20 * k;
    const legendX = margin.left + plotWidth + 16;
    parts.push(`<line x1="${legendX}" y1="${legendY - 4}" x2="${legendX + 22}" y2="${legendY - 4}" stroke="${escapeXml(series.color)}" stroke-width="2"/>`);
    parts.push(`<text x="${legendX + 28}" y="${legendY}">${escapeXml(series.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
