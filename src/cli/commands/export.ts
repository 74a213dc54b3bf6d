/**
 * `freia-ts export MODEL --out model.py`: writes a Python module whose
 * `build_inn()` builds MODEL as a FrEIA network with its weights (see
 * {@link exportFreia}). MODEL is a saved flow (a directory or `model.json`
 * written by saveFlowFile) or a FrEIA export (`freia-reference/1`).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ready } from '../../runtime/backend.js';
import { importFreia, type FreiaDocument } from '../../io/freia.js';
import { exportFreia } from '../../io/freia-export.js';
import type { AnyFlow } from '../../runtime/flow.js';
import { loadFlowFile } from '../../node/index.js';
import { outputFileFlag, runCommand, UsageError } from '../command-line.js';

const usage = `usage: freia-ts export MODEL [--out model.py] [--form auto|graph] [--debug]

Writes a Python module whose build_inn() returns MODEL as a FrEIA network
(FrEIA's classes and node names, subnets as nn.Sequential) with its weights
loaded, in evaluation mode. MODEL is a directory or model.json saved with
saveFlowFile, or a FrEIA export (freia-reference/1). Without --out the
module goes to stdout. Modules FrEIA lacks (MAF, IAF, the LU 1x1
convolution, dequantization, logit, ...) are refused, each named.
  --out FILE    the Python file to write (.py)
  --form        auto (default): a SequenceINN for a chain, else a GraphINN;
                graph: always a GraphINN`;

await runCommand({ name: 'export', usage, options: { out: { type: 'string', short: 'o' }, form: { type: 'string' } }, positionals: { min: 1, max: 1, what: 'MODEL' } }, async ({ positionals, values }) => {
  const file = positionals[0];
  // Checked before the model is read: a wrong extension or an unwritable place costs nothing.
  const out = values.out === undefined ? undefined : outputFileFlag('out', values.out, ['.py']);
  const form = values.form ?? 'auto';
  if (form !== 'auto' && form !== 'graph') throw new UsageError(`--form: expected auto or graph, got ${JSON.stringify(form)}`);
  await ready();
  let flow: AnyFlow;
  try {
    // A FrEIA export is one JSON file; anything else is read as a saved flow.
    const doc: unknown = statSync(file).isFile() ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
    const isFreia = doc !== null && typeof doc === 'object' && 'format' in doc && doc.format === 'freia-reference/1';
    flow = isFreia ? importFreia(doc as FreiaDocument) : await loadFlowFile(file);
  } catch (error) {
    throw new Error(`${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  // a saved flow's model.json is named after its directory
  const name = path.basename(file) === 'model.json' ? path.basename(path.dirname(path.resolve(file))) : path.basename(file, '.json');
  let python: string;
  try {
    python = exportFreia(flow, { name, form });
  } finally {
    flow.dispose();
  }
  if (!out) {
    process.stdout.write(python);
    return;
  }
  writeFileSync(out, python);
  console.log(`wrote ${values.out} (FrEIA network "${name}"; in Python: from ${path.basename(out, '.py')} import build_inn)`);
});
