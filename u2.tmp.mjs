import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { inn } from './dist/index.js';
await tf.setBackend('wasm');
inn.input([4]).split([1, 2]);
