/**
 * `freia-ts example freia-import`: loads a model trained by FrEIA (a
 * `freia-reference/1` export shipped with the package in
 * `examples/data/moons-freia.json`: the seed's moons INN, 8 AllInOne blocks
 * with mlp subnets of hidden 512, trained in PyTorch for 2000 steps by
 * python/examples/moons_freia.py and written by python/freia_export.py),
 * re-runs the evaluations FrEIA recorded in the file (outputs and log-dets,
 * forward and in reverse), measures its held-out NLL here and draws samples
 * from it; with `--steps N` it then trains the imported flow further, as any
 * flow built here. The metric is the verification's largest absolute error.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importFreia, train, setGlobalSeed, verifyFreiaAsync, type FreiaDocument } from '../../index.js';
import { makeMoons } from '../datasets/moons.js';
import { gaussian, mulberry32 } from '../../math/rng.js';
import { scatterPlotPng } from '../plots/png.js';
import type { Example, ExampleContext, ExampleResult } from './types.js';

/**
 * The shipped export, found from this file: `src/cli/examples/` and
 * `dist/cli/examples/` are both three folders below the package root, where
 * `examples/data/` is (package.json's "files" publishes it).
 */
export const FREIA_MOONS_FILE = fileURLToPath(new URL('../../../examples/data/moons-freia.json', import.meta.url));

/** The verification must match FrEIA this closely (outputs and log-dets, absolute). */
const REQUIRED = 1e-4;

export async function runFreiaImport(context: ExampleContext): Promise<ExampleResult> {
  const { steps, seed, log } = context;
  setGlobalSeed(seed);
  const rng = mulberry32(seed + 1);
  // JSON.parse gives `any`; verifyFreia and importFreia check the whole document before using it.
  const doc = JSON.parse(readFileSync(FREIA_MOONS_FILE, 'utf8')) as FreiaDocument;

  // 1. FrEIA's recorded evaluations, re-run here: forward outputs and log-dets, reverse inputs and log-dets.
  const report = await verifyFreiaAsync(doc);
  const errors = { outputs: report.outputs.error, logDet: report.logDet.error, inputs: report.inputs.error, reverseLogDet: report.reverseLogDet.error };
  const maxError = Math.max(...Object.values(errors));
  log(`verify ${path.basename(FREIA_MOONS_FILE)}: ${report.cases} recorded evaluations; largest errors: outputs ${errors.outputs.toExponential(2)}, log-det ${errors.logDet.toExponential(2)}, reverse inputs ${errors.inputs.toExponential(2)}, reverse log-det ${errors.reverseLogDet.toExponential(2)}`);
  if (!report.ok || !(maxError < REQUIRED)) {
    throw new Error(`the FrEIA export does not match: largest error ${maxError.toExponential(2)} (need < ${REQUIRED})${report.problems.length ? `; ${report.problems.join('; ')}` : ''}`);
  }

  // 2. The runnable flow, typed by what the caller expects (checked against the document).
  const flow = importFreia(doc, { expect: { inputs: [[2]], outputs: [[2]] } });
  const parameters = flow.trainableVariables.reduce((n, v) => n + v.size, 0);
  log(`imported: ${flow.graph.nodes.filter((n) => n.kind === 'module').length} modules, ${parameters} trainable parameters`);

  const nSamples = 2000;
  const sample = async () => {
    const z = tf.tensor2d(Float32Array.from({ length: 2 * nSamples }, () => gaussian(rng)), [nSamples, 2]);
    const { out } = flow.inverse(z);
    const points = (await out.data()) as Float32Array;
    tf.dispose([z, out]);
    return points;
  };
  const moons = (n: number) => tf.tensor2d(makeMoons(n, { noise: 0.05, seed: Math.floor(rng() * 2 ** 31) }), [n, 2]);
  // One held-out set for both measurements, so that they differ only by the training.
  const heldOut = moons(10_000);
  const heldOutNll = async () => {
    const nll = train.nll(flow, heldOut);
    const value = (await nll.data())[0];
    nll.dispose();
    return value;
  };
  const imported = await sample();
  const nllBefore = await heldOutNll();

  // 3. An imported flow is an ordinary flow: train it further here (the seed's moons recipe, clipped).
  const started = performance.now();
  if (steps > 0) await train.fitAsync(flow, { steps, learningRate: 1e-3, clipNorm: 5, data: () => ({ x: moons(100) }), progress: context.progress });
  const trainSeconds = (performance.now() - started) / 1000;
  const trained = await sample();
  const nllAfter = await heldOutNll();
  log(`held-out NLL on the moons: ${nllBefore.toFixed(3)} nats as imported, ${nllAfter.toFixed(3)} after ${steps} steps here`);

  const data = moons(nSamples);
  const png = scatterPlotPng(
    [
      { title: `trained by FrEIA: samples (NLL ${nllBefore.toFixed(3)})`, points: imported, color: [44, 160, 44] },
      ...(steps > 0 ? [{ title: `after ${steps} more steps here`, points: trained, color: [214, 39, 40] as [number, number, number] }] : []),
      { title: 'data: two moons', points: (await data.data()) as Float32Array, color: [31, 119, 180] },
    ],
    { range: [-3, 3], size: 320 },
  );
  const picture = path.join(context.outDir, 'freia-import.png');
  writeFileSync(picture, png);
  tf.dispose([data, heldOut]);
  flow.dispose();
  return {
    metric: 'verification max abs error', value: maxError, picture, cases: report.cases, errors, parameters,
    nllImported: Number(nllBefore.toFixed(4)), nllTrained: Number(nllAfter.toFixed(4)), trainSeconds: Number(trainSeconds.toFixed(1)),
  };
}

export const freiaImportExample: Example = {
  summary: 'a FrEIA export (the moons INN trained in PyTorch): verified against its recorded evaluations, sampled; --steps trains it further here',
  defaultSteps: 0,
  run: runFreiaImport,
};
