/**
 * Metrics that report a trained density in the units papers use.
 */
import * as tf from '@tensorflow/tfjs';
import { OptionError, describeValue } from '../core/errors.js';

/**
 * Bits per dimension of a negative log-likelihood given in nats:
 *
 *     bits/dim = nll / (D · ln 2),
 *
 * with `D` = `dims`, the number of dimensions of one sample (3·32·32 = 3072
 * for CIFAR-10). Takes a number (returns a number) or a tensor such as
 * `train.nll(...)`'s scalar or per-sample values (returns a tensor of the
 * same shape, which the caller disposes).
 *
 * For dequantized 8-bit images the NLL must be that of the discrete data,
 * i.e. it must include the dequantization's log-det `−D · log 256`: it does
 * when the flow starts with `.dequantize()` (whose log-det is exactly that)
 * and the NLL is the flow's (`train.nll(flow, pixels)` on the integer
 * pixels). If the data were scaled to [0, 1] outside the flow, add
 * `D · log 256` to the NLL of the scaled data first. Then the result is the
 * usual convention, bits/dim of the discrete data (an upper bound, as the
 * dequantized likelihood is a lower bound of the discrete one).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, subnets, train } from 'freia-ts';
 * const flow = inn.input([1, 4, 4]).dequantize().logit().flatten().glow({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const pixels = tf.floor(tf.randomUniform([8, 1, 4, 4], 0, 256));
 * const nats = train.nll(flow, pixels);              // mean nats per image, dequantization log-det included
 * const bits = train.bitsPerDim(nats, 16);           // a tf.Scalar
 * const plain = train.bitsPerDim(2 * 16 * Math.LN2, 16);   // 2
 * ```
 */
export function bitsPerDim(nllNats: number, dims: number): number;
export function bitsPerDim<T extends tf.Tensor>(nllNats: T, dims: number): T;
export function bitsPerDim(nllNats: number | tf.Tensor, dims: number): number | tf.Tensor {
  if (typeof dims !== 'number' || !Number.isSafeInteger(dims) || dims < 1) throw new OptionError('train.bitsPerDim', 'dims', 'a positive whole number (the dimensions of one sample)', describeValue(dims));
  const scale = 1 / (dims * Math.LN2);
  if (typeof nllNats === 'number') return nllNats * scale;
  if (!(nllNats instanceof tf.Tensor)) throw new OptionError('train.bitsPerDim', 'nllNats', 'a number or a tensor (nats)', describeValue(nllNats));
  return tf.mul(nllNats, scale);
}
