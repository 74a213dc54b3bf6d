/** The `freia-ts` command (built into dist/ by `npm test` before vitest runs). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturePath } from './helpers/fixtures.js';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'dist', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });

/** A fresh temp folder, removed after the tests. */
const tempDirs: string[] = [];
const tempDir = (prefix: string) => {
  tempDirs.push(mkdtempSync(path.join(tmpdir(), prefix)));
  return tempDirs[tempDirs.length - 1];
};
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('freia-ts CLI', () => {
  it('prints the package version', () => {
    const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    const result = run('--version');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('rejects an unknown command with exit code 2 and the usage', () => {
    const result = run('frobnicate');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
    expect(result.stderr).toContain('usage: freia-ts <command>');
  });

  it('runs a short demo and reports JSON with the NLL and the picture', () => {
    const out = tempDir('freia-cli-');
    const result = run('demo', '--steps', '5', '--json', '--out', out);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!);
    expect(Number.isFinite(report.nll)).toBe(true);
    expect(report.steps).toBe(5);
    expect(readFileSync(report.picture).subarray(1, 4).toString()).toBe('PNG');
  });


  it('verify: prints each file\'s largest errors and a summary, exit 0 when all match', () => {
    const result = run('verify', fixturePath('glow_fc'), fixturePath('haar_down'));
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/glow_fc\.json\s+2\s+\S+\s+\S+\s+\S+\s+\S+\s+ok/);
    expect(result.stdout).toContain('2 of 2 files match FrEIA');
  });

  it('verify: exits 1 and says FAIL when a file is off', () => {
    const doc = JSON.parse(readFileSync(fixturePath('glow_fc'), 'utf8'));
    const output = doc.cases[0].outputs[0];
    output.data = output.data.map((v: number, i: number) => (i === 0 ? v + 0.01 : v));
    const file = path.join(tempDir('freia-verify-'), 'glow_fc_tampered.json');
    writeFileSync(file, JSON.stringify(doc));
    const result = run('verify', file, fixturePath('split'));
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/glow_fc_tampered\.json\s+2\s+1\.00e-2.*FAIL/);
    expect(result.stdout).toContain('1 of 2 files match FrEIA; 1 off');
  });

  it('verify: reports an import problem as a failure of that file', () => {
    const file = path.join(tempDir('freia-verify-'), 'bad.json');
    writeFileSync(file, JSON.stringify({ format: 'nope', name: 'bad' }));
    const result = run('verify', file);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('format is "nope", expected "freia-reference/1"');
  });
});
