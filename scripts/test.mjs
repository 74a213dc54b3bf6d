#!/usr/bin/env node
// The project's test command: type-check, build the typings, run vitest and
// the tsd type tests, build the API reference (0 warnings), and end with one
// line `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
let passed = 0;
let failed = 0;

function run(label, command, args, env = process.env) {
  console.log(`\n> ${label}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  return result.status === 0;
}

// 1. Types of sources and tests, then the build that tsd checks against.
for (const [label, project] of [
  ['tsc (sources and tests)', 'tsconfig.json'],
  ['tsc library (browser lib, no Node types)', 'tsconfig.lib.json'],
  ['tsc build (dist, typings)', 'tsconfig.build.json'],
  ['tsc playground (the browser page of npm run playground)', 'playground/tsconfig.json'],
]) {
  if (run(label, bin('tsc'), ['-p', project])) passed++;
  else failed++;
}

// 1b. The API reference: typedoc.json makes an undocumented export (and any other TypeDoc warning: a broken
//     link, an unknown code language) an error, so the reference builds with 0 warnings or this step fails.
//     It renders into a temp folder (the emit phase has warnings of its own), which is removed after.
{
  const out = mkdtempSync(path.join(tmpdir(), 'freia-ts-api-'));
  const started = Date.now();
  if (run('typedoc (API reference, 0 warnings)', bin('typedoc'), ['--out', out, '--logLevel', 'Warn'])) passed++;
  else failed++;
  console.log(`(typedoc: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  rmSync(out, { recursive: true, force: true });
}

// 2. vitest, counted from its JSON report (written to a temp folder that is removed after reading):
//    the main run, then the WebGPU lane (vitest.webgpu.config.ts) with FREIA_BACKEND=webgpu, which on a
//    machine without a GPU runs on Mesa's llvmpipe through Dawn. The lane never skips: when WebGPU cannot
//    be had, its setup fails every file with the reason (a missing package, no adapter, what to install).
function vitest(label, args, env) {
  const reportDir = mkdtempSync(path.join(tmpdir(), 'freia-ts-'));
  const report = path.join(reportDir, 'vitest.json');
  // The tests get a temp folder of their own: whatever they leave in it is a failure (tests clean up after themselves).
  const testTmp = mkdtempSync(path.join(tmpdir(), 'freia-ts-tests-'));
  const started = Date.now();
  const exitedCleanly = run(label, bin('vitest'), ['run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], { ...process.env, ...env, TMPDIR: testTmp, TMP: testTmp, TEMP: testTmp });
  const failedBefore = failed;
  console.log(`(${label}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const leftovers = readdirSync(testTmp);
  if (leftovers.length > 0) {
    console.error(`the tests left ${leftovers.length} temp file(s) behind: ${leftovers.join(', ')}`);
    failed++;
  }
  rmSync(testTmp, { recursive: true, force: true });
  try {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    passed += json.numPassedTests;
    failed += json.numFailedTests + json.numPendingTests + json.numTodoTests;
    // A file that failed to load has no test results: count each such file as a failure.
    const unloaded = json.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
    failed += unloaded;
    if (json.numTotalTests === 0 && unloaded === 0) failed++;
  } catch (error) {
    console.error(`vitest wrote no report: ${error.message}`);
    failed++;
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
  // A worker that crashed (out of memory, say) leaves its file out of the report and makes vitest exit non-zero
  // with every reported test passed: that run failed all the same.
  if (!exitedCleanly && failed === failedBefore) {
    console.error(`${label}: vitest exited with an error but reported no failed test (a crashed worker or an unhandled error; see above): counted as 1 failure`);
    failed++;
  }
}

// The main run is pinned to wasm (unless FREIA_BACKEND says otherwise): on a machine with a GPU, ready()
// would prefer WebGPU, whose tensors cannot be read synchronously in Node, and the lane below covers it.
vitest('vitest', [], { FREIA_BACKEND: process.env.FREIA_BACKEND || 'wasm' });
vitest('vitest, WebGPU lane (FREIA_BACKEND=webgpu)', ['--config', 'vitest.webgpu.config.ts'], { FREIA_BACKEND: 'webgpu' });

// 3. tsd: every assertion in type-tests/ counts; a diagnostic fails its line.
console.log('\n> tsd (type-tests/)');
const { default: tsdModule } = await import('tsd');
const tsd = tsdModule.default ?? tsdModule;
const testFiles = readdirSync(path.join(root, 'type-tests')).filter((f) => f.endsWith('.test-d.ts')).map((f) => path.join('type-tests', f));
const assertionPattern = /\b(expectType|expectNotType|expectError|expectAssignable|expectNotAssignable|expectDeprecated|expectNotDeprecated|printType)\s*[<(]/g;
const assertions = testFiles.reduce((n, f) => n + (readFileSync(path.join(root, f), 'utf8').match(assertionPattern) ?? []).length, 0);
try {
  const diagnostics = await tsd({ cwd: root, typingsFile: 'dist/index.d.ts', testFiles });
  for (const d of diagnostics) console.log(`${path.relative(root, d.fileName)}:${d.line}:${d.column} ${d.severity} ${d.message}`);
  const failingLines = new Set(diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.fileName}:${d.line}`));
  if (assertions === 0) throw new Error('no type assertions were found: tsd ran nothing');
  console.log(`tsd: ${testFiles.length} files, ${assertions} assertions, ${failingLines.size} failing`);
  passed += assertions - Math.min(failingLines.size, assertions);
  failed += failingLines.size;
} catch (error) {
  console.error(`tsd failed: ${error.message}`);
  failed++;
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
