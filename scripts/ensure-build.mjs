#!/usr/bin/env node
// Builds dist/ only when it is out of date, so `npm run demo` and `npm run
// bench` start at once on a current build (a build takes seconds: most of a
// short demo run). `npm run build` itself still cleans dist/ and compiles.
//
// The build is current when dist/.build-stamp exists and is newer than every
// input: each file and folder under src/ (a folder's time changes when a file
// in it is added, renamed or deleted), tsconfig*.json, package.json and
// package-lock.json. The stamp is written only after a build that succeeded,
// with the time the build started, so an edit made during a build or a build
// that failed (tsc still emits) means building again next time.
//
//   node scripts/ensure-build.mjs [--dry-run] [--root DIR]
//
// --dry-run prints `up to date` or `stale: REASON` and builds nothing (exit 0).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const rootArg = args.indexOf('--root');
const root = rootArg >= 0 ? path.resolve(args[rootArg + 1]) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dryRun = args.includes('--dry-run');
const stamp = path.join(root, 'dist', '.build-stamp');

/** Every input path with its modification time; src/ recursively, folders included. */
function inputs() {
  const files = readdirSync(root).filter((f) => /^tsconfig.*\.json$/.test(f) || f === 'package.json' || f === 'package-lock.json');
  const src = path.join(root, 'src');
  const tree = ['src', ...readdirSync(src, { recursive: true, encoding: 'utf8' }).map((f) => path.join('src', f))];
  return [...files, ...tree].map((f) => ({ file: f, time: statSync(path.join(root, f)).mtimeMs }));
}

/** Why dist/ must be built again, or null when it is current. */
function staleReason() {
  const built = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return 'no build stamp (dist/ missing, or built by hand)';
  const newer = inputs().filter((i) => i.time > built);
  if (newer.length === 0) return null;
  return `${newer[0].file}${newer.length > 1 ? ` and ${newer.length - 1} more` : ''} changed since the last build`;
}

const reason = staleReason();
if (dryRun) {
  console.log(reason ? `stale: ${reason}` : 'up to date');
  process.exit(0);
}
if (reason === null) process.exit(0);

const started = new Date();
// Run the project's own build script through the npm that runs us (npm_execpath), else the npm on the PATH.
const npm = process.env.npm_execpath;
const result = npm && /\.[cm]?js$/.test(npm)
  ? spawnSync(process.execPath, [npm, 'run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync(stamp, `built from sources as of ${started.toISOString()}\n`);
utimesSync(stamp, started, started);
