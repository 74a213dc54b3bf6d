/**
 * `freia-ts verify FILE...`: runs every evaluation of every FrEIA export
 * forward and in reverse, prints each file's largest absolute errors, then a
 * summary line; exits 1 when any file is off (see {@link verifyFreia}).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { backendInfo, ready } from '../../runtime/backend.js';
import { verifyFreiaAsync, type Deviation, type VerifyReport } from '../../io/freia.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
if (positionals.length === 0) {
  console.error('usage: freia-ts verify [--json] FILE...');
  process.exit(2);
}

await ready();
const backend = backendInfo().description;
const fmt = (d: Deviation) => d.error.toExponential(2);
let failed = 0;
console.log(values.json ? '' : `backend ${backend}; tolerance: outputs/inputs 1e-4, log-dets 1e-3, relative to max(1, |reference|)`);
console.log(values.json ? '' : `${'file'.padEnd(36)} ${'cases'.padStart(5)}  ${'outputs'.padStart(9)} ${'logdet'.padStart(9)} ${'inputs'.padStart(9)} ${'rev ldet'.padStart(9)}  result`);
for (const file of positionals) {
  const name = path.basename(file);
  let report: VerifyReport;
  try {
    // Async: WebGPU in Node cannot read results back synchronously.
    report = await verifyFreiaAsync(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    failed++;
    const message = error instanceof Error ? error.message : String(error);
    console.log(values.json ? JSON.stringify({ file, ok: false, error: message }) : `${name.padEnd(36)} FAIL  ${message.replace(/\n/g, '\n    ')}`);
    continue;
  }
  if (!report.ok) failed++;
  const verdict = !report.ok ? 'FAIL' : report.logDetMode === 'exact' ? 'ok' : report.logDetMode === 'stochastic' ? 'ok (log-det is a stochastic estimate: compared loosely)' : 'ok (reverse log-det: known FrEIA defect, ours is -forward)';
  console.log(values.json
    ? JSON.stringify({ file, ...report })
    : `${name.padEnd(36)} ${String(report.cases).padStart(5)}  ${fmt(report.outputs).padStart(9)} ${fmt(report.logDet).padStart(9)} ${fmt(report.inputs).padStart(9)} ${fmt(report.reverseLogDet).padStart(9)}  ${verdict}`);
}
console.log(`${positionals.length - failed} of ${positionals.length} files match FrEIA${failed ? `; ${failed} off` : ''}`);
process.exit(failed ? 1 : 0);
