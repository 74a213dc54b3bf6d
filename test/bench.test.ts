/**
 * `npm run bench`'s plumbing (built into dist/ by `npm test`): which lines it
 * prints and how it talks to the FrEIA script. Nothing here checks a time;
 * the FrEIA side is a stand-in script that answers the bench's protocol.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const bench = path.join(root, 'dist', 'cli', 'bench.js');
const dir = mkdtempSync(path.join(tmpdir(), 'freia-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string | undefined>) {
  const result = spawnSync(process.execPath, [bench, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, FREIA_SRC: undefined, FREIA_PYTHON: undefined, ...env } });
  const lines = result.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: result.status, stderr: result.stderr, lines };
}

/** An executable standing in for Python: says it is ready, then answers each request with `medianMs: 1000`. */
function fakePython(): string {
  const file = path.join(dir, 'fake-python');
  writeFileSync(file, [
    '#!/bin/sh',
    'echo \'{"ready": true}\'',
    'while read line; do',
    '  [ -z "$line" ] && exit 0',
    '  name=$(echo "$line" | sed \'s/.*"name":"\\([^"]*\\)".*/\\1/\')',
    '  echo "{\\"name\\": \\"$name\\", \\"backend\\": \\"fake\\", \\"medianMs\\": 1000}"',
    'done',
  ].join('\n'));
  chmodSync(file, 0o755);
  return file;
}

describe('npm run bench', () => {
  it('runs only the named workload and says why FrEIA was skipped', () => {
    const { status, lines } = run(['--only', 'moons-sample-10k', '--runs', '10', '--warmup', '1'], {});
    expect(status).toBe(0);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({ freia: 'skipped', reason: expect.stringContaining('FREIA_SRC is not set') });
    expect(lines[1]).toMatchObject({ name: 'moons-sample-10k', runs: 10, warmup: 1 });
    expect(lines[1].minMs).toBeLessThanOrEqual(lines[1].medianMs as number);
  });

  it('follows each FrEIA workload with FrEIA\'s line and the ratio ours / FrEIA', () => {
    const { status, lines } = run(['--only', 'moons-sample-10k', '--runs', '10', '--warmup', '1'], { FREIA_SRC: dir, FREIA_PYTHON: fakePython() });
    expect(status).toBe(0);
    expect(lines).toHaveLength(3);
    const [ours, theirs, ratio] = lines;
    expect(theirs).toEqual({ name: 'moons-sample-10k', backend: 'fake', medianMs: 1000 });
    expect(ratio).toEqual({ name: 'moons-sample-10k', oursMs: ours.medianMs, freiaMs: 1000, ratio: Number(((ours.medianMs as number) / 1000).toFixed(3)) });
  });

  it('says so when the Python cannot be started', () => {
    const { status, lines } = run(['--only', 'moons-sample-10k', '--runs', '10', '--warmup', '1'], { FREIA_SRC: dir, FREIA_PYTHON: path.join(dir, 'no-such-python') });
    expect(status).toBe(0);
    expect(lines[0]).toEqual({ freia: 'skipped', reason: expect.stringContaining('could not be started') });
    expect(lines).toHaveLength(2);
  });

  it('rejects an unknown workload, listing the known ones', () => {
    const { status, stderr } = run(['--only', 'moons-train', '--runs', '10'], {});
    expect(status).toBe(2);
    expect(stderr).toContain('no workload moons-train');
    expect(stderr).toContain('mnist-cinn-train-step');
  });
});
