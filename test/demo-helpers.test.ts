/**
 * Tests for the demo helpers: scatter-plot pictures, two-moons data, seeded
 * RNG and progress bar. The PNG is encoded by fast-png; it is read back here
 * with a decoder written from the spec (bitwise CRC, node:zlib, all five row
 * filters), so the pixels are checked by code that shares nothing with the
 * encoder.
 */
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

import { makeMoons, sampleMoons } from '../src/cli/datasets/moons.js';
import { gaussian, mulberry32 } from '../src/math/rng.js';
import { scatterPlotPng } from '../src/cli/plots/png.js';
import { formatDuration, ProgressBar } from '../src/train/progress.js';
import * as publicApi from '../src/index.js';

// ---------------------------------------------------------------- PNG ----

/** Bit-by-bit CRC-32 (PNG's polynomial 0xEDB88320). */
function crc32Bitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) {
      const mask = -(crc & 1);
      crc = (crc >>> 1) ^ (0xedb88320 & mask);
    }
  }
  return (crc ^ 0xffffffff) >>> 0;
}

interface DecodedPng {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** The Paeth predictor of the PNG spec (section 9.4). */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Reads an 8-bit RGBA, non-interlaced PNG; fails the test on anything else or a bad CRC. */
function decodePng(bytes: Uint8Array): DecodedPng {
  const png = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | undefined;
  let pos = 8;
  while (pos < png.length) {
    const length = png.readUInt32BE(pos);
    const type = png.subarray(pos + 4, pos + 8).toString('latin1');
    expect(png.readUInt32BE(pos + 8 + length), `CRC of ${type}`).toBe(crc32Bitwise(png.subarray(pos + 4, pos + 8 + length)));
    chunkTypes.push(type);
    if (type === 'IHDR') ihdr = png.subarray(pos + 8, pos + 8 + length);
    if (type === 'IDAT') idat.push(png.subarray(pos + 8, pos + 8 + length));
    pos += 12 + length;
  }
  expect(pos).toBe(png.length);
  expect(chunkTypes[0]).toBe('IHDR');
  expect(chunkTypes[chunkTypes.length - 1]).toBe('IEND');
  if (ihdr === undefined) throw new Error('no IHDR');
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  // bit depth 8, colour type 6 (RGBA), deflate, adaptive filtering, no interlace
  expect([...ihdr.subarray(8, 13)]).toEqual([8, 6, 0, 0, 0]);

  const raw = inflateSync(Buffer.concat(idat));
  const rowBytes = width * 4;
  expect(raw.length).toBe((rowBytes + 1) * height);
  const rgba = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (rowBytes + 1)];
    expect(filter, `filter type of row ${y}`).toBeLessThanOrEqual(4);
    const line = raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1));
    const out = rgba.subarray(y * rowBytes, (y + 1) * rowBytes);
    const up = y > 0 ? rgba.subarray((y - 1) * rowBytes, y * rowBytes) : new Uint8Array(rowBytes);
    for (let i = 0; i < rowBytes; i++) {
      const a = i >= 4 ? out[i - 4] : 0;
      const c = i >= 4 ? up[i - 4] : 0;
      const predictor = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? up[i] : filter === 3 ? (a + up[i]) >> 1 : paeth(a, up[i], c);
      out[i] = (line[i] + predictor) & 0xff;
    }
  }
  return { width, height, rgba };
}

type RGB = [number, number, number];

const pixel = (img: DecodedPng, x: number, y: number): number[] => {
  const o = (y * img.width + x) * 4;
  return [...img.rgba.subarray(o, o + 4)];
};
const FRAME: RGB = [150, 150, 150];

/** Every pixel of a colour in columns [x0, x1), as [x, y]. */
function pixelsOf(img: DecodedPng, color: readonly number[], x0 = 0, x1 = img.width): [number, number][] {
  const found: [number, number][] = [];
  const d = img.rgba;
  for (let y = 0; y < img.height; y++) {
    for (let x = x0; x < x1; x++) {
      const o = (y * img.width + x) * 4;
      if (d[o] === color[0] && d[o + 1] === color[1] && d[o + 2] === color[2] && d[o + 3] === 255) found.push([x, y]);
    }
  }
  return found;
}

/** The plot area of a panel, read from the picture: the bounding box of its grey frame. */
function frameBox(img: DecodedPng, x0: number, x1: number): { left: number; top: number; right: number; bottom: number } {
  const grey = pixelsOf(img, FRAME, x0, x1);
  expect(grey.length).toBeGreaterThan(0);
  const xs = grey.map(([x]) => x);
  const ys = grey.map(([, y]) => y);
  return { left: Math.min(...xs), top: Math.min(...ys), right: Math.max(...xs), bottom: Math.max(...ys) };
}

describe('scatterPlotPng', () => {
  it('draws each point where its coordinates say, inside the panel\'s frame, on a white background', () => {
    const red: RGB = [220, 30, 30];
    const blue: RGB = [30, 60, 220];
    const redPoints = [0.5, 0.5, -0.5, -0.5, 0.9, -0.9];
    const bluePoints = [0.25, 0.75];
    const png = scatterPlotPng(
      [
        { title: 'Data (n=3)', points: redPoints, color: red },
        { title: 'Samples', points: new Float32Array(bluePoints), color: blue },
      ],
      { size: 200, range: [-1, 1] },
    );
    expect(png).toBeInstanceOf(Uint8Array);
    const img = decodePng(png);
    expect([img.width, img.height]).toEqual([400, 200]);

    for (const [panel, points, color, other] of [[0, redPoints, red, blue], [1, bluePoints, blue, red]] as const) {
      const [x0, x1] = [panel * 200, panel * 200 + 200];
      const box = frameBox(img, x0, x1);
      // the frame is a square (both axes share one range, so circles stay round)
      expect(box.right - box.left).toBe(box.bottom - box.top);
      expect(box.right - box.left).toBeGreaterThan(150);
      const dots = pixelsOf(img, color, x0, x1);
      // size < 300 draws 2x2 dots
      expect(dots.length).toBe((points.length / 2) * 4);
      expect(pixelsOf(img, other, x0, x1)).toEqual([]);
      for (let i = 0; i < points.length; i += 2) {
        // x grows to the right, y upwards, and [-1, 1] spans the frame
        const px = box.left + ((points[i] + 1) / 2) * (box.right - box.left);
        const py = box.bottom - ((points[i + 1] + 1) / 2) * (box.bottom - box.top);
        const near = dots.filter(([x, y]) => Math.abs(x - px) <= 1.5 && Math.abs(y - py) <= 1.5);
        expect(near.length, `point (${points[i]}, ${points[i + 1]}) of panel ${panel}`).toBe(4);
      }
      // background: white inside the frame away from the dots, and outside it
      expect(pixel(img, box.left + 5, box.top + 5)).toEqual([255, 255, 255, 255]);
      expect(pixel(img, x0 + 1, img.height - 1)).toEqual([255, 255, 255, 255]);
      // the title is dark text above the frame
      const dark = (p: number[]) => p[0] < 100 && p[1] < 100 && p[2] < 100;
      let title = 0;
      for (let y = 0; y < box.top; y++) for (let x = x0; x < x1; x++) if (dark(pixel(img, x, y))) title++;
      expect(title).toBeGreaterThan(30);
    }
  });

  it('draws the demo\'s picture: moons data on the left, samples on the right, every dot on a moon', () => {
    const blue: RGB = [31, 119, 180];
    const red: RGB = [214, 39, 40];
    const data = makeMoons(400, { noise: 0, seed: 1 });
    // "samples": the same moons mirrored top-down, so the two panels must differ
    const samples = data.map((v, i) => (i % 2 ? 0.5 - v : v));
    const img = decodePng(scatterPlotPng([
      { title: 'data: two moons', points: data, color: blue },
      { title: 'samples', points: samples, color: red },
    ], { range: [-2, 3] }));
    expect([img.width, img.height]).toEqual([800, 400]);
    const moonDistance = (x: number, y: number, flip: boolean): number => {
      const yy = flip ? 0.5 - y : y;
      return Math.min(Math.abs(Math.hypot(x, yy) - 1), Math.abs(Math.hypot(x - 1, yy - 0.5) - 1));
    };
    for (const [panel, color, flip] of [[0, blue, false], [1, red, true]] as const) {
      const box = frameBox(img, panel * 400, panel * 400 + 400);
      const scale = 5 / (box.right - box.left); // data units per pixel
      const dots = pixelsOf(img, color, panel * 400, panel * 400 + 400);
      expect(dots.length).toBeGreaterThan(400);
      for (const [x, y] of dots) {
        const dx = -2 + (x - box.left) * scale;
        const dy = 3 - (y - box.top) * scale;
        expect(moonDistance(dx, dy, flip), `pixel (${x}, ${y}) of panel ${panel}`).toBeLessThan(3 * scale);
      }
      // both ends of both moons are drawn: (-1, 0), (2, 0.5) and the tops (0, 1), (1, -0.5)
      for (const [mx, my] of [[-1, 0], [2, 0.5], [0, 1], [1, -0.5]]) {
        const ty = flip ? 0.5 - my : my;
        const tx = box.left + (mx + 2) / scale;
        const tyPx = box.top + (3 - ty) / scale;
        expect(dots.some(([x, y]) => Math.hypot(x - tx, y - tyPx) < 3), `moon point (${mx}, ${ty}) of panel ${panel}`).toBe(true);
      }
    }
  });

  it('computes a range from the data and tolerates odd input', () => {
    const img = decodePng(scatterPlotPng([
      { title: 'weird chars: [ok] ~ é', points: [1, 1, Number.NaN, 2, 1, 1, 3, 2], color: [0, 0, 0] },
    ]));
    expect([img.width, img.height]).toEqual([400, 400]);
    // the range comes from the finite points (x and y in [1, 3]), so both corners of the data are inside the frame
    const box = frameBox(img, 0, 400);
    const black = pixelsOf(img, [0, 0, 0], 0, 400).filter(([x, y]) => x > box.left && x < box.right && y > box.top && y < box.bottom);
    const xs = black.map(([x]) => x);
    expect(Math.min(...xs) - box.left).toBeLessThan(0.1 * (box.right - box.left));
    expect(box.right - Math.max(...xs)).toBeLessThan(0.1 * (box.right - box.left));
    expect(() => scatterPlotPng([])).toThrow(RangeError);
    expect(() => scatterPlotPng([{ title: '', points: [], color: [0, 0, 0] }], { range: [1, 1] })).toThrow(RangeError);
  });
});

// -------------------------------------------------------------- moons ----

const OUTER = [0, 0] as const;
const INNER = [1, 0.5] as const;
const dist = (x: number, y: number, c: readonly [number, number]): number => Math.hypot(x - c[0], y - c[1]);

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

function std(xs: ArrayLike<number>): number {
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** 2;
  return Math.sqrt(s / xs.length);
}

/** Splits points by moon; fails if a noiseless point lies on neither. */
function classify(xy: Float32Array): { outer: number; inner: number; isOuter: boolean[] } {
  const isOuter: boolean[] = [];
  for (let i = 0; i < xy.length; i += 2) {
    const dOut = Math.abs(dist(xy[i], xy[i + 1], OUTER) - 1);
    const dIn = Math.abs(dist(xy[i], xy[i + 1], INNER) - 1);
    expect(Math.min(dOut, dIn)).toBeLessThan(1e-5);
    const outer = dOut < dIn;
    // The outer moon is the upper half circle, the inner one the lower.
    if (outer) expect(xy[i + 1]).toBeGreaterThanOrEqual(-1e-6);
    else expect(xy[i + 1]).toBeLessThanOrEqual(0.5 + 1e-6);
    isOuter.push(outer);
  }
  const outer = isOuter.filter(Boolean).length;
  return { outer, inner: isOuter.length - outer, isOuter };
}

function column(xy: Float32Array, k: 0 | 1): Float32Array {
  return xy.filter((_, i) => i % 2 === k);
}

describe('makeMoons', () => {
  it('puts noiseless points on the two half circles, floor(n/2) on the outer one', () => {
    for (const n of [1000, 7]) {
      const xy = makeMoons(n, { noise: 0, seed: 1 });
      expect(xy).toBeInstanceOf(Float32Array);
      expect(xy.length).toBe(2 * n);
      const { outer, inner } = classify(xy);
      expect(outer).toBe(Math.floor(n / 2));
      expect(inner).toBe(n - Math.floor(n / 2));
    }
    const xy = makeMoons(1000, { seed: 3 });
    expect(mean(column(xy, 0))).toBeCloseTo(0.5, 2);
    expect(Math.abs(mean(column(xy, 1)) - 0.25)).toBeLessThan(0.02);
  });

  it('includes both ends of each moon (linspace over [0, pi])', () => {
    const xy = makeMoons(10, { seed: 5 });
    const pts = new Set<string>();
    for (let i = 0; i < xy.length; i += 2) pts.add(`${Math.round(xy[i] * 1e4)},${Math.round(xy[i + 1] * 1e4)}`);
    for (const p of ['10000,0', '-10000,0', '0,5000', '20000,5000']) expect(pts.has(p)).toBe(true);
  });

  it('shuffles reproducibly from the seed', () => {
    expect(makeMoons(50, { seed: 9, noise: 0.1 })).toEqual(makeMoons(50, { seed: 9, noise: 0.1 }));
    expect(makeMoons(50, { seed: 9 })).not.toEqual(makeMoons(50, { seed: 10 }));
    // Shuffled: the first half is not all on the outer moon.
    const { isOuter } = classify(makeMoons(100, { seed: 9 }));
    expect(isOuter.slice(0, 50).filter(Boolean).length).toBeLessThan(45);
  });

  it('adds Gaussian noise with the requested std', () => {
    const n = 4000;
    const noise = 0.1;
    const clean = makeMoons(n, { seed: 7 });
    const noisy = makeMoons(n, { seed: 7, noise });
    const { isOuter } = classify(clean);
    const residual = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const c = isOuter[i] ? OUTER : INNER;
      residual[i] = dist(noisy[2 * i], noisy[2 * i + 1], c) - 1;
    }
    expect(Math.abs(std(residual) - noise)).toBeLessThan(0.1 * noise);
    expect(Math.abs(mean(residual))).toBeLessThan(0.2 * noise);
  });
});

describe('sampleMoons', () => {
  it('draws noiseless points on the moons, about half on each', () => {
    const n = 20000;
    const xy = sampleMoons(n, 0, mulberry32(11));
    expect(xy.length).toBe(2 * n);
    const { outer } = classify(xy);
    expect(Math.abs(outer / n - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(mean(column(xy, 0)) - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(mean(column(xy, 1)) - 0.25)).toBeLessThan(0.03);
  });

  it('gives fresh batches from one rng and the same batch from the same seed', () => {
    const rng = mulberry32(1);
    expect(sampleMoons(100, 0.05, rng)).not.toEqual(sampleMoons(100, 0.05, rng));
    expect(sampleMoons(100, 0.05, mulberry32(2))).toEqual(sampleMoons(100, 0.05, mulberry32(2)));
  });

  it('adds noise with the requested std', () => {
    // Moon choice is not recorded, so the nearer circle stands in for it;
    // with noise well under the gap between the circles this is accurate.
    const noise = 0.05;
    const xy = sampleMoons(20000, noise, mulberry32(4));
    const residual = new Float64Array(xy.length / 2);
    for (let i = 0; i < residual.length; i++) {
      const a = dist(xy[2 * i], xy[2 * i + 1], OUTER) - 1;
      const b = dist(xy[2 * i], xy[2 * i + 1], INNER) - 1;
      residual[i] = Math.abs(a) < Math.abs(b) ? a : b;
    }
    expect(Math.abs(std(residual) - noise)).toBeLessThan(0.15 * noise);
  });
});

// ---------------------------------------------------------------- RNG ----

describe('mulberry32 / gaussian', () => {
  it('is deterministic per seed and uniform in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const sa = Array.from({ length: 20 }, () => a());
    const sb = Array.from({ length: 20 }, () => b());
    const sc = Array.from({ length: 20 }, () => c());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    const rng = mulberry32(0);
    const xs = Float64Array.from({ length: 100000 }, () => rng());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(Math.abs(mean(xs) - 0.5)).toBeLessThan(0.01);
  });

  it('gaussian has mean 0 and std 1', () => {
    const rng = mulberry32(123);
    const xs = Float64Array.from({ length: 100000 }, () => gaussian(rng));
    expect(xs.every(Number.isFinite)).toBe(true);
    expect(Math.abs(mean(xs))).toBeLessThan(0.02);
    expect(Math.abs(std(xs) - 1)).toBeLessThan(0.02);
    // About 68 % within one std.
    expect(Math.abs(xs.filter((x) => Math.abs(x) < 1).length / xs.length - 0.6827)).toBeLessThan(0.01);
  });
});

// ----------------------------------------------------------- progress ----

function fakeStream(isTTY: boolean): { stream: NodeJS.WritableStream; text: () => string; writes: string[] } {
  const writes: string[] = [];
  const stream = {
    isTTY,
    write(chunk: string | Uint8Array): boolean {
      writes.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return { stream, text: () => writes.join(''), writes };
}

function fakeClock(stepMs: number): { now: () => number; advance: () => void } {
  let t = 1000;
  return { now: () => t, advance: () => void (t += stepMs) };
}

describe('ProgressBar', () => {
  it('is internal to training: the package entry does not export it', () => {
    for (const name of ['ProgressBar', 'formatDuration']) expect(Object.keys(publicApi)).not.toContain(name);
  });

  it('prints about one line per 10 % when not a TTY', () => {
    const { stream, text } = fakeStream(false);
    const clock = fakeClock(10);
    const bar = new ProgressBar({ total: 1000, label: 'train', stream, now: clock.now });
    for (let i = 0; i < 1000; i++) {
      clock.advance();
      bar.tick(1, { loss: 1.23456 - i / 1000 });
    }
    bar.done();
    const out = text();
    expect(out).not.toContain('\r');
    const lines = out.split('\n').filter((l) => l.length > 0);
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines[0]).toMatch(/^train \[.*\] 100\/1000 loss 1\.136 \| 100 it\/s \| ETA 9\.0s$/);
    const last = lines[lines.length - 1];
    expect(last).toContain('1000/1000');
    expect(last).toContain('10.0s elapsed');
    expect(last).toContain('loss 0.2356');
  });

  it('prints the final line at done() after an early stop', () => {
    const { stream, text } = fakeStream(false);
    const clock = fakeClock(100);
    const bar = new ProgressBar({ total: 1000, stream, now: clock.now });
    for (let i = 0; i < 250; i++) {
      clock.advance();
      bar.update(i + 1);
    }
    bar.done();
    bar.tick(); // ignored after done()
    const lines = text().trimEnd().split('\n');
    expect(lines.length).toBe(3);
    expect(lines[2]).toContain('250/1000');
    expect(lines[2]).toContain('elapsed');
  });

  it('redraws in place at most ~10 times a second on a TTY', () => {
    const { stream, writes, text } = fakeStream(true);
    const clock = fakeClock(1);
    const bar = new ProgressBar({ total: 1000, label: 'fit', stream, now: clock.now, width: 10 });
    for (let i = 0; i < 1000; i++) {
      clock.advance();
      bar.tick();
    }
    bar.done();
    const redraws = writes.filter((w) => w.startsWith('\r')).length;
    // 1 s of ticks: ~10 throttled redraws, the 100 % one and the one in done().
    expect(redraws).toBeGreaterThanOrEqual(10);
    expect(redraws).toBeLessThanOrEqual(13);
    expect(text().endsWith('\n')).toBe(true);
    expect(writes.filter((w) => w.includes('\n')).length).toBe(1);
    expect(writes[writes.length - 2]).toContain('[██████████] 1000/1000');
  });

  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0.0s');
    expect(formatDuration(12.34)).toBe('12.3s');
    expect(formatDuration(59.94)).toBe('59.9s');
    expect(formatDuration(59.97)).toBe('1m00s');
    expect(formatDuration(65)).toBe('1m05s');
    expect(formatDuration(754)).toBe('12m34s');
    expect(formatDuration(3599.6)).toBe('1h00m');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatDuration(90000)).toBe('25h00m');
    expect(formatDuration(Number.NaN)).toBe('?');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('?');
    expect(formatDuration(-3)).toBe('0.0s');
  });
});
