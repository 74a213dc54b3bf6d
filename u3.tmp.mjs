import * as tf from '@tensorflow/tfjs';
import { inn, useBackend } from './dist/index.js';
await useBackend('wasm');
inn.input([4]).split([1, 2]);
