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
      const report = JSON.parse(result.stdout.trim().split('\n').pop()!);
      expect(report.example).toBe(name);
      expect(report.steps).toBe(steps);
      expect(typeof report.metric).toBe('string');
      expect(Number.isFinite(report.value)).toBe(true);
      const png = decode(readFileSync(report.picture));
      expect(png.width).toBeGreaterThan(28);
      expect(png.height).toBeGreaterThan(28);
    }, 120_000);
  }

  it('the MNIST examples report bits/dim of 8-bit digits: untrained, near log2(256) plus what the logit adds', () => {
    const result = run('mnist-cinn', '--steps', '0', '--json', '--out', path.join(out, 'untrained'));
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!);
    expect(report.metric).toBe('test bits/dim');
    // An untrained flow is about the identity after the logit: N(0, 1) on logits, a few bits above the 8 of a uniform model.
    expect(report.value).toBeGreaterThan(6);
    expect(report.value).toBeLessThan(14);
    expect(result.stderr).toMatch(/mnist: 8499 training and 1501 test digits \(0 dropped by the checks\)/);
  }, 60_000);

  it('custom-module: the network of custom modules inverts: inverse(forward(x)) gives x back', () => {
    const result = run('custom-module', '--steps', '0', '--json', '--out', path.join(out, 'custom-untrained'));
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!);
    expect(report.metric).toBe('held-out NLL (nats)');
    expect(report.reconstructionError).toBeLessThan(1e-4);
  }, 60_000);

  it('freia-import: the shipped FrEIA export matches its recorded evaluations to 1e-4, and is published', () => {
    const result = run('freia-import', '--steps', '0', '--json', '--out', path.join(out, 'freia-untrained'));
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!);
    expect(report.metric).toBe('verification max abs error');
    expect(report.value).toBeLessThan(1e-4);
    expect(report.cases).toBeGreaterThan(0);
    // Untrained here, the imported flow's NLL is FrEIA's own both before and after.
    expect(report.nllTrained).toBe(report.nllImported);
    // Users have no test/: the file ships in examples/data/, which package.json publishes.
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('examples/data');
    expect(readFileSync(path.join(root, 'examples', 'data', 'graph_moons.json'), 'utf8')).toBe(readFileSync(path.join(root, 'test', 'fixtures', 'freia', 'graph_moons.json'), 'utf8'));
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
