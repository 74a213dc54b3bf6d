/** The `freia-ts` command (built into dist/ by `npm test` before vitest runs). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });

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
    const out = mkdtempSync(path.join(tmpdir(), 'freia-cli-'));
    const result = run('demo', '--steps', '5', '--json', '--out', out);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!);
    expect(Number.isFinite(report.nll)).toBe(true);
    expect(report.steps).toBe(5);
    expect(readFileSync(report.picture).subarray(1, 4).toString()).toBe('PNG');
  });
});
