/**
 * Tests for the demo helpers: PNG writer, two-moons data, seeded RNG and
 * progress bar. The PNG is checked with a decoder written here from the
 * spec (and a bitwise CRC), so that a bug shared by encoder and check
 * cannot hide.
 */
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

import { makeMoons, sampleMoons } from '../src/cli/datasets/moons.js';
import { gaussian, mulberry32 } from '../src/math/rng.js';
import { encodePng, scatterPlotPng } from '../src/cli/plots/png.js';
import { formatDuration, ProgressBar } from '../src/train/progress.js';

// ---------------------------------------------------------------- PNG ----

/** Bit-by-bit CRC-32, deliberately unlike the table-driven one under test. */
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
  bitDepth: number;
  colorType: number;
  compression: number;
  filter: number;
  interlace: number;
  chunkTypes: string[];
  rgba: Uint8Array;
}

function decodePng(png: Buffer): DecodedPng {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  expect([...png.subarray(0, 8)]).toEqual(signature);

  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | undefined;
  let pos = 8;
  while (pos < png.length) {
    const length = png.readUInt32BE(pos);
    const type = png.subarray(pos + 4, pos + 8).toString('latin1');
    const data = png.subarray(pos + 8, pos + 8 + length);
    const storedCrc = png.readUInt32BE(pos + 8 + length);
    expect(storedCrc, `CRC of ${type}`).toBe(crc32Bitwise(png.subarray(pos + 4, pos + 8 + length)));
    chunkTypes.push(type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    pos += 12 + length;
  }
  expect(pos).toBe(png.length);
  if (ihdr === undefined) throw new Error('no IHDR');
  expect(ihdr.length).toBe(13);

  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4 + 1;
  expect(raw.length).toBe(stride * height);
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    expect(raw[y * stride], `filter byte of row ${y}`).toBe(0);
    rgba.set(raw.subarray(y * stride + 1, (y + 1) * stride), y * width * 4);
  }
  return {
    width,
    height,
    bitDepth: ihdr[8],
    colorType: ihdr[9],
    compression: ihdr[10],
    filter: ihdr[11],
    interlace: ihdr[12],
    chunkTypes,
    rgba,
  };
}

function randomPixels(width: number, height: number, seed: number): Uint8Array {
  const rng = mulberry32(seed);
  const px = new Uint8Array(width * height * 4);
  for (let i = 0; i < px.length; i++) px[i] = Math.floor(rng() * 256);
  return px;
}

describe('encodePng', () => {
  it('writes a valid RGBA PNG whose pixels round-trip', () => {
    for (const [w, h] of [
      [1, 1],
      [7, 5],
      [64, 3],
    ]) {
      const pixels = randomPixels(w, h, w * 100 + h);
      const decoded = decodePng(encodePng(w, h, pixels));
      expect(decoded.chunkTypes).toEqual(['IHDR', 'IDAT', 'IEND']);
      expect(decoded).toMatchObject({
        width: w,
        height: h,
        bitDepth: 8,
        colorType: 6,
        compression: 0,
        filter: 0,
        interlace: 0,
      });
      expect(decoded.rgba).toEqual(pixels);
    }
  });

  it('checks its arguments', () => {
    expect(() => encodePng(2, 2, new Uint8Array(15))).toThrow(RangeError);
    expect(() => encodePng(0, 2, new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodePng(1.5, 2, new Uint8Array(12))).toThrow(RangeError);
  });

  it('agrees with a known CRC value', () => {
    // IEND's CRC is the same in every PNG file.
    const png = encodePng(1, 1, new Uint8Array(4));
    expect(png.readUInt32BE(png.length - 4)).toBe(0xae426082);
    expect(crc32Bitwise(Buffer.from('IEND', 'latin1'))).toBe(0xae426082);
  });
});

describe('scatterPlotPng', () => {
  const pixel = (img: DecodedPng, x: number, y: number): number[] => {
    const o = (y * img.width + x) * 4;
    return [...img.rgba.subarray(o, o + 4)];
  };

  it('draws panels side by side with frame, dots and title', () => {
    const red: [number, number, number] = [220, 30, 30];
    const blue: [number, number, number] = [30, 60, 220];
    const png = scatterPlotPng(
      [
        { title: 'Data (n=3)', points: [0.5, 0.5, -0.5, -0.5, 0.9, -0.9], color: red },
        { title: 'Samples', points: new Float32Array([0.25, 0.75]), color: blue },
      ],
      { size: 200, range: [-1, 1] },
    );
    const img = decodePng(png);
    expect(img.width).toBe(400);
    expect(img.height).toBe(200);

    const count = (pred: (p: number[]) => boolean, x0: number, x1: number): number => {
      let n = 0;
      for (let y = 0; y < img.height; y++) for (let x = x0; x < x1; x++) if (pred(pixel(img, x, y))) n++;
      return n;
    };
    const isColor = (c: [number, number, number]) => (p: number[]) =>
      p[0] === c[0] && p[1] === c[1] && p[2] === c[2] && p[3] === 255;
    // size < 300 gives 2x2 dots.
    expect(count(isColor(red), 0, 200)).toBe(3 * 4);
    expect(count(isColor(blue), 200, 400)).toBe(4);
    expect(count(isColor(red), 200, 400)).toBe(0);

    // Background is opaque white, title text is dark, frame is grey.
    expect(pixel(img, 0, img.height - 1)).toEqual([255, 255, 255, 255]);
    const dark = (p: number[]) => p[0] < 100 && p[1] < 100 && p[2] < 100;
    expect(count(dark, 0, 200)).toBeGreaterThan(30);
    expect(count(dark, 200, 400)).toBeGreaterThan(30);
    const grey = (p: number[]) => p[0] === 150 && p[1] === 150 && p[2] === 150;
    expect(count(grey, 0, 200)).toBeGreaterThan(4 * 150);
  });

  it('computes a range from the data and tolerates odd input', () => {
    const png = scatterPlotPng([
      { title: 'weird chars: [ok] ~ é', points: [1, 1, Number.NaN, 2, 1, 1], color: [0, 0, 0] },
    ]);
    const img = decodePng(png);
    expect(img.width).toBe(400);
    expect(img.height).toBe(400);
    expect(() => scatterPlotPng([])).toThrow(RangeError);
    expect(() => scatterPlotPng([{ title: '', points: [], color: [0, 0, 0] }], { range: [1, 1] })).toThrow(
      RangeError,
    );
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
