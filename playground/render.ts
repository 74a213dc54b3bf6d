/**
 * Drawing on the playground's canvases: points, a density as a heat map, and
 * the loss curve. Data coordinates are [−range, range]² with y up.
 */
import { range } from './datasets.js';

/** Canvas pixels of a data point (y up). */
export function toPixel(canvas: HTMLCanvasElement, x: number, y: number): [number, number] {
  return [((x + range) / (2 * range)) * canvas.width, ((range - y) / (2 * range)) * canvas.height];
}

/** The data point under a canvas pixel (the inverse of {@link toPixel}). */
export function toData(canvas: HTMLCanvasElement, px: number, py: number): [number, number] {
  return [(px / canvas.width) * 2 * range - range, range - (py / canvas.height) * 2 * range];
}

/** A light grid with the axes, under the points. */
function axes(ctx: CanvasRenderingContext2D, canvas: HTMLCanvasElement, dark: boolean): void {
  ctx.strokeStyle = dark ? 'rgba(255,255,255,0.12)' : 'rgba(0,0,0,0.08)';
  ctx.lineWidth = 1;
  for (let v = -4; v <= 4; v += 2) {
    const [px] = toPixel(canvas, v, 0);
    const [, py] = toPixel(canvas, 0, v);
    ctx.beginPath();
    ctx.moveTo(px, 0);
    ctx.lineTo(px, canvas.height);
    ctx.moveTo(0, py);
    ctx.lineTo(canvas.width, py);
    ctx.stroke();
  }
}

/** Points (x,y interleaved) as dots on a white canvas; `marks` (the drawn points) as larger rings on top. */
export function drawPoints(canvas: HTMLCanvasElement, points: ArrayLike<number>, color: string, marks: readonly number[] = []): void {
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  axes(ctx, canvas, false);
  ctx.fillStyle = color;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const [px, py] = toPixel(canvas, points[i], points[i + 1]);
    ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
  }
  ctx.strokeStyle = '#b91c1c';
  ctx.lineWidth = 1.5;
  for (let i = 0; i + 1 < marks.length; i += 2) {
    const [px, py] = toPixel(canvas, marks[i], marks[i + 1]);
    ctx.beginPath();
    ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
    ctx.stroke();
  }
}

/** Stops of matplotlib's viridis, for the heat map. */
const viridis = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];

function colour(t: number): [number, number, number] {
  const u = Math.min(1, Math.max(0, t)) * (viridis.length - 1);
  const i = Math.min(viridis.length - 2, Math.floor(u));
  const f = u - i;
  const a = viridis[i];
  const b = viridis[i + 1];
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

/**
 * A density on an `n × n` grid (row 0 at the lowest y) as a heat map,
 * scaled to its largest value.
 */
export function drawDensity(canvas: HTMLCanvasElement, density: Float32Array, n: number): void {
  let max = 0;
  for (const v of density) if (Number.isFinite(v) && v > max) max = v;
  const image = new ImageData(n, n);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      const v = density[row * n + col];
      const [r, g, b] = colour(max > 0 && Number.isFinite(v) ? v / max : 0);
      const o = 4 * ((n - 1 - row) * n + col);
      image.data[o] = r;
      image.data[o + 1] = g;
      image.data[o + 2] = b;
      image.data[o + 3] = 255;
    }
  }
  const small = new OffscreenCanvas(n, n);
  small.getContext('2d')!.putImageData(image, 0, 0);
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}

/** The loss per step (faint) and its running mean over 25 steps (bold), scaled to what the curve has shown lately. */
export function drawLoss(canvas: HTMLCanvasElement, losses: readonly number[]): void {
  const ctx = canvas.getContext('2d')!;
  const w = canvas.width;
  const h = canvas.height;
  const left = 44;
  const bottom = 20;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  if (losses.length < 2) {
    ctx.fillStyle = '#666';
    ctx.font = '12px sans-serif';
    ctx.fillText('waiting for the first steps', left, h / 2);
    return;
  }
  const mean: number[] = [];
  let sum = 0;
  losses.forEach((v, i) => {
    sum += v;
    if (i >= 25) sum -= losses[i - 25];
    mean.push(sum / Math.min(i + 1, 25));
  });
  // The range: the running mean's after its first tenth, with the raw values' spread around it.
  const shown = losses.slice(Math.floor(losses.length / 10));
  const sorted = [...shown].sort((a, b) => a - b);
  const lo = sorted[Math.floor(0.01 * (sorted.length - 1))];
  const hi = Math.max(sorted[Math.floor(0.98 * (sorted.length - 1))], lo + 0.1);
  const x = (i: number) => left + (i / (losses.length - 1)) * (w - left - 8);
  const y = (v: number) => 8 + (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (h - bottom - 8);
  ctx.strokeStyle = '#ddd';
  ctx.fillStyle = '#555';
  ctx.font = '11px sans-serif';
  for (const v of [lo, (lo + hi) / 2, hi]) {
    ctx.beginPath();
    ctx.moveTo(left, y(v));
    ctx.lineTo(w - 8, y(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(2), 4, y(v) + 4);
  }
  ctx.fillText(`step ${losses.length}`, w - 70, h - 5);
  const line = (values: readonly number[], style: string, width: number) => {
    ctx.strokeStyle = style;
    ctx.lineWidth = width;
    ctx.beginPath();
    values.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
    ctx.stroke();
  };
  line(losses, 'rgba(37,99,235,0.25)', 1);
  line(mean, '#1d4ed8', 2);
}
