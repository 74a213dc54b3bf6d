/**
 * `freia-ts verify FILE...`: runs every evaluation of every FrEIA export
 * forward and in reverse, prints each file's largest absolute errors, then a
 * summary line; exits 1 when any file is off (see {@link verifyFreia}).
 * With `--json`, stdout is JSON lines only: one per file, then the summary.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { backendInfo, ready } from '../../runtime/backend.js';
import { verifyFreiaAsync, type Deviation, type VerifyReport } from '../../io/freia-verify.js';
import { runCommand } from '../command-line.js';

const usage = `usage: freia-ts verify [--json] [--debug] FILE...

Re-runs the recorded evaluations of FrEIA exports (freia-reference/1 files)
forward and in reverse and compares them with FrEIA's numbers. Exits 0 when
every file matches, 1 when any is off or cannot be read.
  --json   one JSON object per file, then a summary object`;

await runCommand({ name: 'verify', usage, options: { json: { type: 'boolean', default: false } }, positionals: { min: 1, max: Infinity, what: 'FILE argument(s)' } }, async ({ values, positionals }) => {
  await ready();
  const backend = backendInfo().description;
  const fmt = (d: Deviation) => d.error.toExponential(2);
  const print = (line: string) => console.log(line);
  let failed = 0;
  if (!values.json) {
    print(`backend ${backend}; tolerance: outputs/inputs 1e-4, log-dets 1e-3, relative to max(1, |reference|)`);
    print(`${'file'.padEnd(36)} ${'cases'.padStart(5)}  ${'outputs'.padStart(9)} ${'logdet'.padStart(9)} ${'inputs'.padStart(9)} ${'rev ldet'.padStart(9)}  result`);
  }
  for (const file of positionals) {
    const name = path.basename(file);
    let report: VerifyReport;
    try {
      // Async: WebGPU in Node cannot read results back synchronously.
      report = await verifyFreiaAsync(JSON.parse(readFileSync(file, 'utf8')));
    } catch (error) {
      failed++;
      const message = error instanceof Error ? error.message : String(error);
      print(values.json ? JSON.stringify({ file, ok: false, error: message }) : `${name.padEnd(36)} FAIL  ${message.replace(/\n/g, '\n    ')}`);
      continue;
    }
    if (!report.ok) failed++;
    const verdict = !report.ok
      ? `FAIL${report.problems.length ? `: ${report.problems.join('; ')}` : ''}`
      : report.logDetMode === 'exact' ? 'ok' : report.logDetMode === 'stochastic' ? 'ok (log-det is a stochastic estimate: compared loosely)' : 'ok (reverse log-det: known FrEIA defect, ours is -forward)';
    print(values.json
      ? JSON.stringify({ file, ...report })
      : `${name.padEnd(36)} ${String(report.cases).padStart(5)}  ${fmt(report.outputs).padStart(9)} ${fmt(report.logDet).padStart(9)} ${fmt(report.inputs).padStart(9)} ${fmt(report.reverseLogDet).padStart(9)}  ${verdict}`);
  }
  const matched = positionals.length - failed;
  print(values.json
    ? JSON.stringify({ summary: true, files: positionals.length, matched, failed, backend })
    : `${matched} of ${positionals.length} files match FrEIA${failed ? `; ${failed} off` : ''}`);
  return failed ? 1 : 0;
});
