/**
 * `freia-ts export MODEL --out model.py`: writes a Python module whose
 * `build_inn()` builds MODEL as a FrEIA network with its weights (see
 * {@link exportFreia}). MODEL is a saved flow (a directory or `model.json`
 * written by saveFlowFile) or a FrEIA export (`freia-reference/1`). With
 * `--train train.py` it also writes the training script of
 * {@link exportFreiaTraining} and, beside it, the package's
 * `python/freia_export.py`, which the script's checkpoints need.
 */
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ready } from '../../runtime/backend.js';
import { importFreia, type FreiaDocument } from '../../io/freia.js';
import { exportFreia } from '../../io/freia-export.js';
import { exportFreiaTraining } from '../../io/freia-training.js';
import type { AnyFlow } from '../../runtime/flow.js';
import { loadFlowFile } from '../../node/index.js';
import { outputFileFlag, runCommand, UsageError } from '../command-line.js';

const usage = `usage: freia-ts export MODEL [--out model.py] [--train train.py] [--form auto|graph] [--debug]

Writes a Python module whose build_inn() returns MODEL as a FrEIA network
(FrEIA's classes and node names, subnets as nn.Sequential) with its weights
loaded, in evaluation mode. MODEL is a directory or model.json saved with
saveFlowFile, or a FrEIA export (freia-reference/1). Without --out the
module goes to stdout. Modules FrEIA lacks (MAF, IAF, the LU 1x1
convolution, dequantization, logit, ...) are refused, each named.
  --out FILE    the Python file to write (.py)
  --train FILE  also write a training script (.py, in the folder of --out):
                torchrun --nproc_per_node N FILE --data data.npz trains the
                network with DistributedDataParallel and writes
                freia-reference/1 checkpoints; freia_export.py, which it
                needs, is copied beside it (docs/scale-out.md)
  --form        auto (default): a SequenceINN for a chain, else a GraphINN;
                graph: always a GraphINN`;

/** The package's python/freia_export.py: from dist/cli/commands (or src/cli/commands), up to the package root. */
function exporterScript(): string {
  for (let dir = import.meta.dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'python', 'freia_export.py');
    if (existsSync(file)) return file;
  }
  throw new Error('python/freia_export.py is missing from the freia-ts package (reinstall it)');
}

await runCommand({ name: 'export', usage, options: { out: { type: 'string', short: 'o' }, train: { type: 'string' }, form: { type: 'string' } }, positionals: { min: 1, max: 1, what: 'MODEL' } }, async ({ positionals, values }) => {
  const file = positionals[0];
  // Checked before the model is read: a wrong extension or an unwritable place costs nothing.
  const out = values.out === undefined ? undefined : outputFileFlag('out', values.out, ['.py']);
  const train = values.train === undefined ? undefined : outputFileFlag('train', values.train, ['.py']);
  if (train && !out) throw new UsageError('--train: give --out too (the training script imports the module written there)');
  if (train && out && path.dirname(train) !== path.dirname(out)) throw new UsageError(`--train ${values.train}: put it in the folder of --out (${path.dirname(values.out!)}): the script finds the module beside itself`);
  if (train && train === out) throw new UsageError('--train: the training script needs a file name other than --out');
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
  let script: string | undefined;
  try {
    python = exportFreia(flow, { name, form });
    if (train) script = exportFreiaTraining(flow, { name, model: path.basename(out!) });
  } finally {
    flow.dispose();
  }
  if (!out) {
    process.stdout.write(python);
    return;
  }
  writeFileSync(out, python);
  console.log(`wrote ${values.out} (FrEIA network "${name}"; in Python: from ${path.basename(out, '.py')} import build_inn)`);
  if (train && script) {
    writeFileSync(train, script);
    const exporter = path.join(path.dirname(train), 'freia_export.py');
    copyFileSync(exporterScript(), exporter);
    console.log(`wrote ${values.train} and ${path.relative(process.cwd(), exporter) || exporter} (train: torchrun --nproc_per_node N ${values.train} --data data.npz; --help lists the options)`);
  }
});
