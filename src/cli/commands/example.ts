/**
 * `freia-ts example NAME`: runs one of the examples with real data (moons,
 * MNIST digits, custom modules, a FrEIA import), each one command; with
 * `--json` the last line of stdout is `{ example, metric, value, picture, ... }`.
 */
import { backendInfo, ready } from '../../index.js';
import { didYouMean } from '../../core/validation.js';
import { UsageError, outputFolderFlag, runCommand, wholeNumberFlag } from '../command-line.js';
import { examples } from '../examples/index.js';

const list = Object.entries(examples).map(([name, e]) => `  ${name.padEnd(14)} ${e.summary}`).join('\n');
const usage = `usage: freia-ts example NAME [--steps N] [--seed N] [--out DIR] [--json] [--debug]

Runs an example: trains (or loads), prints its metric, writes its picture.
${list}
  --steps N   training steps (default: the example's own)
  --seed N    random seed (default 0)
  --out DIR   output folder, made if missing (default out)
  --json      progress on stderr; the last line of stdout is a JSON report`;

await runCommand({
  name: 'example',
  usage,
  options: {
    steps: { type: 'string' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'out' },
    json: { type: 'boolean', default: false },
  },
  positionals: { min: 1, max: 1, what: 'example name' },
}, async ({ values, positionals }) => {
  const name = positionals[0];
  const entry = examples[name];
  if (!entry) {
    const near = didYouMean(name, Object.keys(examples));
    throw new UsageError(`unknown example "${name}"${near ? ` (did you mean "${near}"?)` : ''}; the examples are ${Object.keys(examples).join(', ')}`);
  }
  const seed = wholeNumberFlag('seed', values.seed, 0, 2 ** 31 - 1);
  const stepsFlag = values.steps === undefined ? undefined : wholeNumberFlag('steps', values.steps, 0);
  const outDir = outputFolderFlag('out', values.out);
  const example = await entry.load();
  const steps = stepsFlag ?? example.defaultSteps;
  const backend = await ready();
  const log = (line: string) => (values.json ? process.stderr : process.stdout).write(line + '\n');
  log(`freia-ts example ${name}: backend ${backendInfo().description}, ${steps} steps, seed ${seed}`);
  const started = performance.now();
  const result = await example.run({ steps, seed, outDir, log, progress: { label: name, stream: process.stderr } });
  const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
  // A tiny metric (a verification's error) in exponent form: toFixed(4) would print 0.0000.
  const shown = result.value !== 0 && Math.abs(result.value) < 1e-3 ? result.value.toExponential(2) : result.value.toFixed(4);
  log(`${result.metric}: ${shown}; picture: ${result.picture}; ${seconds} s`);
  if (values.json) console.log(JSON.stringify({ example: name, ...result, steps, seed, backend, seconds }));
});
