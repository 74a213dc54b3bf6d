/**
 * `scripts/ensure-build.mjs` (used by `npm run demo` and `npm run bench`)
 * rebuilds only when an input is newer than the last successful build. Its
 * decision is checked with `--dry-run` on a small project in a temp folder,
 * with modification times set by hand.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = path.resolve(import.meta.dirname, '..', 'scripts', 'ensure-build.mjs');
const project = mkdtempSync(path.join(tmpdir(), 'freia-ensure-build-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const check = () => spawnSync(process.execPath, [script, '--dry-run', '--root', project], { encoding: 'utf8' }).stdout.trim();
/** Sets a path's modification time to `secondsAgo` seconds before now. */
const age = (file: string, secondsAgo: number) => {
  const time = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(path.join(project, file), time, time);
};

describe('ensure-build', () => {
  const inputs = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/index.ts', 'src/sub/a.ts', 'src/sub/b.ts'];
  mkdirSync(path.join(project, 'src', 'sub'), { recursive: true });
  mkdirSync(path.join(project, 'dist'));
  for (const file of inputs) writeFileSync(path.join(project, file), '{}\n');
  const settle = () => {
    for (const file of [...inputs, 'src/sub', 'src']) age(file, 100);
    age('dist/.build-stamp', 50);
  };

  it('builds when there is no stamp', () => {
    expect(check()).toBe('stale: no build stamp (dist/ missing, or built by hand)');
  });

  it('does nothing when the stamp is newer than every input', () => {
    writeFileSync(path.join(project, 'dist', '.build-stamp'), '');
    settle();
    expect(check()).toBe('up to date');
  });

  it('builds when a source file changed', () => {
    settle();
    age('src/sub/a.ts', 10);
    expect(check()).toBe('stale: src/sub/a.ts changed since the last build');
  });

  it('builds when a source file was deleted (its folder changed)', () => {
    settle();
    rmSync(path.join(project, 'src', 'sub', 'b.ts'));
    expect(check()).toBe('stale: src/sub changed since the last build');
    writeFileSync(path.join(project, 'src', 'sub', 'b.ts'), '{}\n');
  });

  it('builds when a tsconfig or package.json changed', () => {
    settle();
    age('tsconfig.build.json', 10);
    age('package.json', 10);
    expect(check()).toBe('stale: package.json and 1 more changed since the last build');
  });
});
