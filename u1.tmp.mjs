import * as tf from '@tensorflow/tfjs';
import { inn, ready, train } from '/work/wt-rel-run/dist/index.js';
await ready();
const flow = inn.input([2]).actNorm().build();
train.fit(flow, { steps: 2, progress: false, data: () => { throw new Error('boom'); } });
