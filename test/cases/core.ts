/** The module table's rows for the first modules: couplings, ActNorm, permutations, reshapes, split and concat. */
import * as tf from '@tensorflow/tfjs';
import { inn, subnets } from '../../src/index.js';
import type { ModuleCase } from '../helpers/module-case.js';

const mlp = subnets.mlp({ hidden: 16 });
const conv3 = subnets.conv({ hidden: 8, kernel: 3 });
const conv1 = subnets.conv({ hidden: 8, kernel: 1 });
/** A user's subnet: any `(cIn, cOut) => tfjs-layers model`. */
const layersSubnet = (cIn: number, cOut: number) =>
  tf.sequential({ layers: [tf.layers.dense({ inputShape: [cIn], units: 12, activation: 'tanh' }), tf.layers.dense({ units: cOut })] });
const layersConvSubnet = (cIn: number, cOut: number) =>
  tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [null, null, cIn] as unknown as number[], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }), tf.layers.conv2d({ filters: cOut, kernelSize: 1 })] });


const img = [4, 4, 4];
export const cases: ModuleCase[] = [
  { name: 'AllInOne plain', input: [5], outputs: [[5]], build: () => inn.input([5]).allInOne({ subnet: mlp }).build() },
  { name: 'AllInOne permuteSoft', input: [6], outputs: [[6]], build: () => inn.input([6]).allInOne({ subnet: mlp, permuteSoft: true, clamp: 1.5 }).build() },
  { name: 'AllInOne conditional', input: [4], conditions: [[3]], outputs: [[4]], build: () => inn.input([4]).condition([3]).allInOne({ subnet: mlp, cond: 0 }).build() },
  { name: 'AllInOne GIN', input: [5], outputs: [[5]], build: () => inn.input([5]).allInOne({ subnet: mlp, gin: true }).build() },
  { name: 'AllInOne householder', input: [4], outputs: [[4]], build: () => inn.input([4]).allInOne({ subnet: mlp, learnedHouseholderPermutation: 2 }).build() },
  { name: 'AllInOne one householder reflection', input: [3], outputs: [[3]], build: () => inn.input([3]).allInOne({ subnet: mlp, learnedHouseholderPermutation: 1 }).build() },
  { name: 'AllInOne reversePermutation SIGMOID', input: [5], outputs: [[5]], build: () => inn.input([5]).allInOne({ subnet: mlp, reversePermutation: true, globalAffineType: 'SIGMOID' }).build() },
  { name: 'AllInOne EXP', input: [4], outputs: [[4]], build: () => inn.input([4]).allInOne({ subnet: mlp, globalAffineType: 'EXP', globalAffineInit: 0.7 }).build() },
  { name: 'AllInOne conv soft', input: [3, 4, 4], outputs: [[3, 4, 4]], build: () => inn.input([3, 4, 4]).allInOne({ subnet: conv3, permuteSoft: true }).build() },
  { name: 'AllInOne conv hard', input: [3, 4, 4], outputs: [[3, 4, 4]], build: () => inn.input([3, 4, 4]).allInOne({ subnet: conv1 }).build() },
  { name: 'GLOW fc odd', input: [5], outputs: [[5]], build: () => inn.input([5]).glow({ subnet: mlp, clamp: 1.2 }).build() },
  { name: 'GLOW conditional TANH', input: [4], conditions: [[2], [3]], outputs: [[4]], build: () => inn.input([4]).condition([2]).condition([3]).glow({ subnet: mlp, cond: [1, 0], clampActivation: 'TANH' }).build() },
  { name: 'GLOW conv SIGMOID splitLen 1', input: [3, 4, 4], outputs: [[3, 4, 4]], build: () => inn.input([3, 4, 4]).glow({ subnet: conv3, clampActivation: 'SIGMOID', splitLen: 1 }).build() },
  { name: 'GLOW with a tfjs-layers subnet', input: [5], outputs: [[5]], build: () => inn.input([5]).glow({ subnet: layersSubnet }).build() },
  { name: 'AllInOne with a tfjs-layers conv subnet', input: [3, 4, 4], outputs: [[3, 4, 4]], build: () => inn.input([3, 4, 4]).allInOne({ subnet: layersConvSubnet }).build() },
  { name: 'RNVP', input: [6], outputs: [[6]], build: () => inn.input([6]).rnvp({ subnet: mlp, splitLen: 0.3 }).build() },
  { name: 'NICE', input: [5], outputs: [[5]], build: () => inn.input([5]).nice({ subnet: mlp }).build() },
  { name: 'ActNorm fc', input: [3], outputs: [[3]], build: () => inn.input([3]).actNorm().build() },
  { name: 'ActNorm on one channel', input: [1], outputs: [[1]], build: () => inn.input([1]).actNorm().build() },
  { name: 'ActNorm image', input: [2, 3, 3], outputs: [[2, 3, 3]], build: () => inn.input([2, 3, 3]).actNorm().build() },
  { name: 'PermuteRandom', input: [6], outputs: [[6]], build: () => inn.input([6]).permuteRandom({ seed: 3 }).build() },
  { name: 'Flatten', input: [2, 2, 3], outputs: [[12]], build: () => inn.input([2, 2, 3]).flatten().build() },
  { name: 'Reshape', input: [12], outputs: [[3, 2, 2]], build: () => inn.input([12]).reshape([3, 2, 2]).build() },
  { name: 'IRevNet down', input: [2, 4, 4], outputs: [[8, 2, 2]], build: () => inn.input([2, 4, 4]).irevnetDownsample().build() },
  { name: 'IRevNet down legacy', input: [2, 4, 4], outputs: [[8, 2, 2]], build: () => inn.input([2, 4, 4]).irevnetDownsample({ legacy: true }).build() },
  { name: 'IRevNet up', input: [8, 2, 2], outputs: [[2, 4, 4]], build: () => inn.input([8, 2, 2]).irevnetUpsample().build() },
  { name: 'Haar down', input: [2, 4, 4], outputs: [[8, 2, 2]], build: () => inn.input([2, 4, 4]).haarDownsample().build() },
  { name: 'Haar down wavelet rebalance', input: [2, 4, 4], outputs: [[8, 2, 2]], build: () => inn.input([2, 4, 4]).haarDownsample({ orderByWavelet: true, rebalance: 0.7 }).build() },
  { name: 'Haar up rebalance', input: [8, 2, 2], outputs: [[2, 4, 4]], build: () => inn.input([8, 2, 2]).haarUpsample({ rebalance: 1.3 }).build() },
  { name: 'Split + Concat', input: [7], outputs: [[3], [4]], build: () => inn.input([7]).split([3, 4]).build() },
  { name: 'Split dim 1 + Concat', input: img, outputs: [[4, 4, 4]], build: () => inn.input([4, 4, 4]).split([1, 3], { dim: 1 }).concat({ dim: 1 }).build() },
  { name: 'Split on glow concat', input: [6], outputs: [[6]], build: () => inn.input([6]).split([2, 4]).on(1, (s) => s.glow({ subnet: mlp })).concat().build() },
];
