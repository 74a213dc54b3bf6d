// A smoke test of freia-ts in a real browser: backend choice, a chain with a
// condition, training with the default progress output, inverse, and saving
// and loading through tf.io's browser handlers (IndexedDB, localStorage).
import * as tf from '@tensorflow/tfjs';
import { inn, subnets, train, ready, saveFlow, loadFlow } from '../src/index.js';

const out = document.getElementById('result')!;
try {
  const backend = await ready();
  const flow = inn.input([4]).condition([2]).repeat(3, (c) => c.allInOne({ subnet: subnets.mlp({ hidden: 16 }), cond: 0, permuteSoft: true })).build();
  const losses = train.fit(flow, { steps: 20, data: () => ({ x: tf.randomNormal([32, 4]), c: tf.randomNormal([32, 2]) }) }).loss;
  const x = tf.randomNormal([8, 4]);
  const c = tf.randomNormal([8, 2]);
  const { out: z } = flow.forward(x, { c });
  const { out: back } = flow.inverse(z, { c });
  const error = tf.max(tf.abs(tf.sub(back as tf.Tensor, x))).dataSync()[0];
  let saveError = 0;
  for (const url of ['indexeddb://freia-ts-check', 'localstorage://freia-ts-check']) {
    await saveFlow(flow, url);
    const again = await loadFlow(url);
    const z2 = again.forward(x, { c }).out as tf.Tensor;
    saveError = Math.max(saveError, tf.max(tf.abs(tf.sub(z2, z as tf.Tensor))).dataSync()[0]);
    again.dispose();
    await tf.io.removeModel(url);
  }
  out.textContent = `OK backend=${backend} losses=${losses.length} inverseError=${error.toExponential(2)} saveError=${saveError}`;
} catch (error) {
  out.textContent = `FAIL ${error instanceof Error ? error.stack ?? error.message : String(error)}`;
}
