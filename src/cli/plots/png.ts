/**
 * Pictures as PNG: scatter plots for the demo (data beside samples) and
 * density heat maps for the density comparison.
 *
 * The drawing is ours (a few dots, frames and a 5x7 bitmap font need no
 * canvas package, which would bring native builds); the file format is
 * `fast-png`'s, a maintained pure-JavaScript encoder, so we keep no CRC,
 * chunk or zlib code of our own.
 *
 * @module
 */

import { encode } from 'fast-png';

/** One panel of {@link scatterPlotPng}. */
export interface ScatterPanel {
  /** Drawn above the panel; characters outside the built-in font show as `?`. */
  title: string;
  /** x,y interleaved. Non-finite points are skipped. */
  points: Float32Array | number[];
  /** Dot colour, 0-255 per channel. */
  color: [number, number, number];
}

/** Options for {@link scatterPlotPng}. */
export interface ScatterOptions {
  /** Width (and height) of each panel in pixels; default 400. */
  size?: number;
  /**
   * Shared range `[min, max]` for both axes of every panel. By default it is
   * taken from all panels' data plus a 5 % margin, so that panels (data vs.
   * samples) are directly comparable and circles look round.
   */
  range?: [number, number];
}

type RGB = readonly [number, number, number];

const FRAME_GREY: RGB = [150, 150, 150];
const AXIS_GREY: RGB = [215, 215, 215];
const TEXT_COLOR: RGB = [30, 30, 30];

/**
 * Renders scatter plots side by side on a white background and returns a
 * PNG (8-bit RGBA). Each panel gets a title, a thin grey frame and light
 * axis lines through 0 when 0 is in range.
 */
export function scatterPlotPng(panels: ScatterPanel[], opts: ScatterOptions = {}): Uint8Array {
  if (panels.length === 0) throw new RangeError('scatterPlotPng: need at least one panel');
  const size = Math.floor(opts.size ?? 400);
  if (!(size >= 32)) throw new RangeError(`scatterPlotPng: size must be >= 32, got ${opts.size}`);
  const [lo, hi] = opts.range ?? dataRange(panels);
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) {
    throw new RangeError(`scatterPlotPng: range must be finite with max > min, got [${lo}, ${hi}]`);
  }

  const canvas = new Canvas(size * panels.length, size);
  const fontScale = size >= 300 ? 2 : 1;
  const pad = Math.max(4, Math.round(size * 0.02));
  const titleBand = 7 * fontScale + 2 * pad;
  const side = Math.min(size - 2 * pad, size - titleBand - pad);
  // Bigger dots on bigger panels, so density reads the same at any size.
  const dot = size >= 300 ? 3 : 2;

  panels.forEach((panel, p) => {
    const left = p * size + Math.floor((size - side) / 2);
    const top = titleBand;
    const toPx = (v: number): number => ((v - lo) / (hi - lo)) * (side - 1);

    drawTitle(canvas, panel.title, p * size, size, pad, fontScale);

    if (lo < 0 && hi > 0) {
      const x0 = left + Math.round(toPx(0));
      const y0 = top + Math.round(side - 1 - toPx(0));
      for (let i = 0; i < side; i++) {
        canvas.set(x0, top + i, AXIS_GREY);
        canvas.set(left + i, y0, AXIS_GREY);
      }
    }
    for (let i = 0; i < side; i++) {
      canvas.set(left + i, top, FRAME_GREY);
      canvas.set(left + i, top + side - 1, FRAME_GREY);
      canvas.set(left, top + i, FRAME_GREY);
      canvas.set(left + side - 1, top + i, FRAME_GREY);
    }

    const color: RGB = [clampByte(panel.color[0]), clampByte(panel.color[1]), clampByte(panel.color[2])];
    const pts = panel.points;
    const half = Math.floor((dot - 1) / 2);
    for (let i = 0; i + 1 < pts.length; i += 2) {
      const x = pts[i];
      const y = pts[i + 1];
      if (!Number.isFinite(x) || !Number.isFinite(y) || x < lo || x > hi || y < lo || y > hi) continue;
      const cx = left + Math.round(toPx(x));
      const cy = top + Math.round(side - 1 - toPx(y));
      for (let dy = 0; dy < dot; dy++) {
        for (let dx = 0; dx < dot; dx++) {
          const px = cx - half + dx;
          const py = cy - half + dy;
          // Strictly inside the frame, so the frame stays a clean line.
          if (px > left && py > top && px < left + side - 1 && py < top + side - 1) {
            canvas.set(px, py, color);
          }
        }
      }
    }
  });

  return encode({ width: canvas.width, height: canvas.height, data: canvas.data, channels: 4, depth: 8 });
}

function dataRange(panels: ScatterPanel[]): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const { points } of panels) {
    for (let i = 0; i + 1 < points.length; i += 2) {
      const x = points[i];
      const y = points[i + 1];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      lo = Math.min(lo, x, y);
      hi = Math.max(hi, x, y);
    }
  }
  if (!Number.isFinite(lo)) return [-1, 1];
  if (hi - lo < 1e-12) return [lo - 1, hi + 1];
  const margin = 0.05 * (hi - lo);
  return [lo - margin, hi + margin];
}

function clampByte(v: number): number {
  return Number.isFinite(v) ? Math.min(255, Math.max(0, Math.round(v))) : 0;
}

/** An opaque RGBA pixel buffer, white at start. */
class Canvas {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 4).fill(255);
  }

  /** Out-of-bounds writes are dropped, so drawing code need not clip. */
  set(x: number, y: number, [r, g, b]: RGB): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 4;
    this.data[o] = r;
    this.data[o + 1] = g;
    this.data[o + 2] = b;
    this.data[o + 3] = 255;
  }
}

function drawTitle(canvas: Canvas, text: string, panelLeft: number, panelWidth: number, pad: number, maxScale: number, panelTop = 0): void {
  const avail = panelWidth - 2 * pad;
  // Shrink to scale 1 before cutting characters: a small title beats a truncated one.
  let scale = maxScale;
  while (scale > 1 && textWidth(text.length, scale) > avail) scale--;
  let shown = text;
  if (textWidth(shown.length, scale) > avail) {
    const fit = Math.max(0, Math.floor((avail + scale) / (6 * scale)));
    shown = text.slice(0, fit);
  }
  const x0 = panelLeft + Math.floor((panelWidth - textWidth(shown.length, scale)) / 2);
  drawText(canvas, shown, x0, panelTop + pad, scale, TEXT_COLOR);
}

/** Glyphs are 5 wide with 1 column of spacing, and no spacing after the last. */
function textWidth(chars: number, scale: number): number {
  return chars > 0 ? (6 * chars - 1) * scale : 0;
}

function drawText(canvas: Canvas, text: string, x0: number, y0: number, scale: number, color: RGB): void {
  let x = x0;
  for (const ch of text) {
    const rows = glyph(ch);
    for (let r = 0; r < 7; r++) {
      for (let c = 0; c < 5; c++) {
        if (rows[r * 5 + c] !== '1') continue;
        for (let sy = 0; sy < scale; sy++) {
          for (let sx = 0; sx < scale; sx++) canvas.set(x + c * scale + sx, y0 + r * scale + sy, color);
        }
      }
    }
    x += 6 * scale;
  }
}

/**
 * 5x7 bitmap font: seven rows of five bits, rows separated by spaces.
 * Lowercase is drawn with the uppercase glyphs; titles are short labels
 * and a second alphabet would double the table for little gain.
 */
const FONT_SOURCE: Record<string, string> = {
  A: '01110 10001 10001 11111 10001 10001 10001',
  B: '11110 10001 10001 11110 10001 10001 11110',
  C: '01110 10001 10000 10000 10000 10001 01110',
  D: '11110 10001 10001 10001 10001 10001 11110',
  E: '11111 10000 10000 11110 10000 10000 11111',
  F: '11111 10000 10000 11110 10000 10000 10000',
  G: '01110 10001 10000 10111 10001 10001 01111',
  H: '10001 10001 10001 11111 10001 10001 10001',
  I: '01110 00100 00100 00100 00100 00100 01110',
  J: '00111 00010 00010 00010 00010 10010 01100',
  K: '10001 10010 10100 11000 10100 10010 10001',
  L: '10000 10000 10000 10000 10000 10000 11111',
  M: '10001 11011 10101 10101 10001 10001 10001',
  N: '10001 10001 11001 10101 10011 10001 10001',
  O: '01110 10001 10001 10001 10001 10001 01110',
  P: '11110 10001 10001 11110 10000 10000 10000',
  Q: '01110 10001 10001 10001 10101 10010 01101',
  R: '11110 10001 10001 11110 10100 10010 10001',
  S: '01111 10000 10000 01110 00001 00001 11110',
  T: '11111 00100 00100 00100 00100 00100 00100',
  U: '10001 10001 10001 10001 10001 10001 01110',
  V: '10001 10001 10001 10001 10001 01010 00100',
  W: '10001 10001 10001 10101 10101 10101 01010',
  X: '10001 10001 01010 00100 01010 10001 10001',
  Y: '10001 10001 10001 01010 00100 00100 00100',
  Z: '11111 00001 00010 00100 01000 10000 11111',
  '0': '01110 10001 10011 10101 11001 10001 01110',
  '1': '00100 01100 00100 00100 00100 00100 01110',
  '2': '01110 10001 00001 00010 00100 01000 11111',
  '3': '11111 00010 00100 00010 00001 10001 01110',
  '4': '00010 00110 01010 10010 11111 00010 00010',
  '5': '11111 10000 11110 00001 00001 10001 01110',
  '6': '00110 01000 10000 11110 10001 10001 01110',
  '7': '11111 00001 00010 00100 01000 01000 01000',
  '8': '01110 10001 10001 01110 10001 10001 01110',
  '9': '01110 10001 10001 01111 00001 00010 01100',
  ' ': '00000 00000 00000 00000 00000 00000 00000',
  '.': '00000 00000 00000 00000 00000 01100 01100',
  ',': '00000 00000 00000 00000 01100 00100 01000',
  ':': '00000 01100 01100 00000 01100 01100 00000',
  '-': '00000 00000 00000 11111 00000 00000 00000',
  '(': '00010 00100 01000 01000 01000 00100 00010',
  ')': '01000 00100 00010 00010 00010 00100 01000',
  '=': '00000 00000 11111 00000 11111 00000 00000',
  '/': '00000 00001 00010 00100 01000 10000 00000',
  '+': '00000 00100 00100 11111 00100 00100 00000',
  '?': '01110 10001 00001 00010 00100 00000 00100',
};

/** Rows concatenated to 35 characters, so a pixel is one string index. */
const FONT: Map<string, string> = new Map(
  Object.entries(FONT_SOURCE).map(([ch, rows]) => [ch, rows.replaceAll(' ', '')]),
);

function glyph(ch: string): string {
  return FONT.get(ch.toUpperCase()) ?? (FONT.get('?') as string);
}

/** One panel of {@link heatmapPng}: values on an `n × n` grid, row 0 at the bottom (lowest y), column 0 at the left. */
export interface HeatmapPanel {
  /** Drawn above the panel. */
  title: string;
  /** `n · n` values, row-major; non-finite values draw as white. */
  values: Float32Array | number[];
  n: number;
}

const DARK_BLUE: RGB = [8, 48, 107];

/**
 * Heat maps (a density on a grid, say) in a grid of panels, `columns` per
 * row, each scaled to its own maximum: white at 0, dark blue at the
 * maximum (square-root scale, so that low densities stay visible).
 */
export function heatmapPng(panels: HeatmapPanel[], opts: { size?: number; columns?: number } = {}): Uint8Array {
  if (panels.length === 0) throw new RangeError('heatmapPng: need at least one panel');
  const size = Math.floor(opts.size ?? 240);
  if (!(size >= 32)) throw new RangeError(`heatmapPng: size must be >= 32, got ${opts.size}`);
  const columns = Math.max(1, Math.floor(opts.columns ?? panels.length));
  const rows = Math.ceil(panels.length / columns);
  const canvas = new Canvas(size * columns, size * rows);
  const fontScale = size >= 300 ? 2 : 1;
  const pad = Math.max(4, Math.round(size * 0.02));
  const titleBand = 7 * fontScale + 2 * pad;
  const side = Math.min(size - 2 * pad, size - titleBand - pad);
  panels.forEach((panel, p) => {
    if (panel.values.length !== panel.n * panel.n) throw new RangeError(`heatmapPng: panel ${p} has ${panel.values.length} values for a ${panel.n} x ${panel.n} grid`);
    const [col, row] = [p % columns, Math.floor(p / columns)];
    const left = col * size + Math.floor((size - side) / 2);
    const top = row * size + titleBand;
    drawTitle(canvas, panel.title, col * size, size, pad, fontScale, row * size);
    let max = 0;
    for (const v of panel.values) if (Number.isFinite(v) && v > max) max = v;
    for (let j = 0; j < side; j++) {
      const gy = Math.min(panel.n - 1, Math.floor(((side - 1 - j) * panel.n) / side));
      for (let i = 0; i < side; i++) {
        const gx = Math.min(panel.n - 1, Math.floor((i * panel.n) / side));
        const v = panel.values[gy * panel.n + gx];
        const t = max > 0 && Number.isFinite(v) && v > 0 ? Math.sqrt(v / max) : 0;
        canvas.set(left + i, top + j, [255 + (DARK_BLUE[0] - 255) * t, 255 + (DARK_BLUE[1] - 255) * t, 255 + (DARK_BLUE[2] - 255) * t].map(clampByte) as unknown as RGB);
      }
    }
    for (let i = 0; i < side; i++) {
      canvas.set(left + i, top, FRAME_GREY);
      canvas.set(left + i, top + side - 1, FRAME_GREY);
      canvas.set(left, top + i, FRAME_GREY);
      canvas.set(left + side - 1, top + i, FRAME_GREY);
    }
  });
  return encode({ width: canvas.width, height: canvas.height, data: canvas.data, channels: 4, depth: 8 });
}
