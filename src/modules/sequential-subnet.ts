/**
 * The `sequential` subnet: a PyTorch `nn.Sequential` described layer by
 * layer, as FrEIA exports write it (docs/freia-reference-format.md,
 * "Sub-networks"). Each layer keeps PyTorch's meaning in evaluation mode:
 *
 * - `Linear`: `y = x W + b` on the last axis (vectors `[B, C]` only);
 * - `Conv2d`: a 2-d convolution with the given kernel, stride and zero padding (images only);
 * - `ReLU`, `LeakyReLU` (`max(x, negative_slope · x)`), `Tanh`, `Sigmoid`;
 * - `Dropout`: the identity (evaluation mode; `p` is kept for the record);
 * - `BatchNorm1d` / `BatchNorm2d`: `(x − running_mean) / √(running_var + eps) · weight + bias`
 *   per channel, with the stored running statistics (evaluation mode: training
 *   here does not update them).
 *
 * The module chooses the subnet's input and output widths: the last Linear or
 * Conv2d has width `null`, every other one its own. State-dict keys are
 * PyTorch's, numbered by position in the list: `<i>.weight`, `<i>.bias`,
 * `<i>.running_mean`, `<i>.running_var`, `<i>.num_batches_tracked`.
 * Variables are channels-last: Linear `[in, out]`, Conv2d `[kH, kW, in, out]`.
 */
import * as tf from '@tensorflow/tfjs';
import { globalRng, uniformTensor, type Rng } from '../math/rng.js';
import { FreiaError, ShapeMismatchError, formatShape } from '../core/errors.js';
import { checkElements, describeValue, sizeLimits } from '../core/validation.js';
import type { Shape } from '../core/graph.js';

/**
 * One layer of a `sequential` subnet, with PyTorch's names.
 *
 * @group Modules
 */
export type SequentialLayer =
  | {
    /** PyTorch's layer class. */
    readonly type: 'Linear';
    /** Outputs (null: the subnet's output size). */
    readonly out_features: number | null;
    /** Whether it adds a bias. */
    readonly bias: boolean;
  }
  | {
      /** PyTorch's layer class. */
      readonly type: 'Conv2d';
      /** Output channels (null: the subnet's output size). */
      readonly out_channels: number | null;
      /** Kernel height and width. */
      readonly kernel_size: readonly [number, number];
      /** Stride along height and width. */
      readonly stride: readonly [number, number];
      /** Zero padding along height and width. */
      readonly padding: readonly [number, number];
      /** Whether it adds a bias. */
      readonly bias: boolean;
    }
  | {
    /** PyTorch's activation class. */
    readonly type: 'ReLU' | 'Tanh' | 'Sigmoid';
  }
  | {
    /** PyTorch's layer class. */
    readonly type: 'LeakyReLU';
    /** The slope for negative inputs. */
    readonly negative_slope: number;
  }
  | {
    /** PyTorch's layer class (the identity in evaluation mode). */
    readonly type: 'Dropout';
    /** The drop probability. */
    readonly p?: number;
  }
  | {
    /** PyTorch's layer class (running statistics in evaluation mode). */
    readonly type: 'BatchNorm1d' | 'BatchNorm2d';
    /** Added to the variance. */
    readonly eps: number;
    /** Whether it has a learned scale and shift. */
    readonly affine: boolean;
  };

/**
 * A PyTorch `nn.Sequential` of {@link SequentialLayer}s.
 *
 * @group Modules
 */
export interface SequentialSubnetSpec {
  /** Tags the spec. */
  readonly kind: 'sequential';
  /** The layers, in order. */
  readonly layers: readonly SequentialLayer[];
}

/** The layer types a `sequential` subnet can hold. */
export const SEQUENTIAL_LAYER_TYPES = ['Linear', 'Conv2d', 'ReLU', 'LeakyReLU', 'Tanh', 'Sigmoid', 'Dropout', 'BatchNorm1d', 'BatchNorm2d'] as const;

const isWidth = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= sizeLimits().tensorElements;
const isPair = (v: unknown, min: number) => Array.isArray(v) && v.length === 2 && v.every((d) => Number.isInteger(d) && d >= min && d <= 1024);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const weighted = (type: unknown) => type === 'Linear' || type === 'Conv2d';

/**
 * Every problem with a `sequential` subnet description, each naming its
 * place (`<at>.layers[2].negative_slope`); `[]` when it can be built.
 */
export function sequentialSpecProblems(spec: unknown, at: string): string[] {
  if (!isObject(spec) || !Array.isArray(spec.layers) || spec.layers.length === 0 || spec.layers.length > 1000) {
    return [`${at}.layers: expected a list of 1 to 1000 layers, got ${describeValue(isObject(spec) ? spec.layers : spec)}`];
  }
  const problems: string[] = [];
  const layers: unknown[] = spec.layers;
  const last = layers.reduce<number>((found, layer, i) => (isObject(layer) && weighted(layer.type) ? i : found), -1);
  let vector = false;
  let image = false;
  layers.forEach((layer, i) => {
    const where = `${at}.layers[${i}]`;
    if (!isObject(layer)) return void problems.push(`${where}: expected { type, ... }, got ${describeValue(layer)}`);
    const field = (name: string, ok: boolean, expected: string) => ok || problems.push(`${where}.${name}: expected ${expected}, got ${describeValue(layer[name])}`);
    const width = (name: string) =>
      i === last
        ? field(name, layer[name] === null, 'null (the last Linear or Conv2d has the width its module chooses)')
        : field(name, isWidth(layer[name]), `a whole number from 1 to ${sizeLimits().tensorElements} (null only on the last Linear or Conv2d)`);
    switch (layer.type) {
      case 'Linear':
        vector = true;
        width('out_features');
        field('bias', typeof layer.bias === 'boolean', 'true or false');
        break;
      case 'Conv2d':
        image = true;
        width('out_channels');
        field('kernel_size', isPair(layer.kernel_size, 1), '[kH, kW], whole numbers from 1 to 1024');
        field('stride', isPair(layer.stride, 1), '[sH, sW], whole numbers from 1 to 1024');
        field('padding', isPair(layer.padding, 0), '[pH, pW], whole numbers from 0 to 1024');
        field('bias', typeof layer.bias === 'boolean', 'true or false');
        break;
      case 'LeakyReLU':
        field('negative_slope', typeof layer.negative_slope === 'number' && Number.isFinite(layer.negative_slope), 'a finite number');
        break;
      case 'Dropout':
        field('p', layer.p === undefined || (typeof layer.p === 'number' && layer.p >= 0 && layer.p <= 1), 'a number from 0 to 1, or nothing');
        break;
      case 'BatchNorm1d':
      case 'BatchNorm2d':
        if (layer.type === 'BatchNorm1d') vector = true;
        else image = true;
        field('eps', typeof layer.eps === 'number' && layer.eps > 0 && Number.isFinite(layer.eps), 'a positive number');
        field('affine', typeof layer.affine === 'boolean', 'true or false');
        break;
      case 'ReLU':
      case 'Tanh':
      case 'Sigmoid':
        break;
      default:
        problems.push(`${where}.type: expected one of ${SEQUENTIAL_LAYER_TYPES.join(', ')}, got ${describeValue(layer.type)}`);
    }
  });
  if (vector && image) {
    problems.push(`${at}.layers: Linear or BatchNorm1d together with Conv2d or BatchNorm2d cannot be described (PyTorch's Linear would act on an image's last axis, not its channels)`);
  }
  return problems;
}

/** What a `sequential` subnet runs on: vectors (Linear, BatchNorm1d), images (Conv2d, BatchNorm2d) or either. */
export function sequentialInput(spec: SequentialSubnetSpec): 'vector' | 'image' | 'any' {
  const types = spec.layers.map((l) => l.type);
  if (types.some((t) => t === 'Conv2d' || t === 'BatchNorm2d')) return 'image';
  if (types.some((t) => t === 'Linear' || t === 'BatchNorm1d')) return 'vector';
  return 'any';
}

/**
 * Why a `sequential` subnet cannot run inside a module whose input has shape
 * `shape` (channels first, no batch), or `undefined`: vector layers need
 * `[C]`, image layers `[C, H, W]`, and the convolutions must keep the height
 * and width (a coupling adds the subnet's output to its input).
 */
export function sequentialShapeProblem(spec: SequentialSubnetSpec, shape: Shape): string | undefined {
  const input = sequentialInput(spec);
  if (input === 'vector' && shape.length !== 1) return `its sequential subnet (Linear, BatchNorm1d) needs vectors [C], got ${formatShape(shape)}`;
  if (input !== 'image') return undefined;
  if (shape.length !== 3) return `its sequential subnet (Conv2d, BatchNorm2d) needs images [C, H, W], got ${formatShape(shape)}`;
  let [h, w] = [shape[1], shape[2]];
  for (const [i, layer] of spec.layers.entries()) {
    if (layer.type !== 'Conv2d') continue;
    h = Math.floor((h + 2 * layer.padding[0] - layer.kernel_size[0]) / layer.stride[0]) + 1;
    w = Math.floor((w + 2 * layer.padding[1] - layer.kernel_size[1]) / layer.stride[1]) + 1;
    if (h < 1 || w < 1) return `its sequential subnet's layer ${i} (Conv2d) leaves no pixels of ${formatShape(shape)}`;
  }
  if (h !== shape[1] || w !== shape[2]) return `its sequential subnet turns ${shape[1]}×${shape[2]} pixels into ${h}×${w}; its convolutions must keep the height and width`;
  return undefined;
}

type Built =
  | { readonly type: 'Linear'; readonly weight: tf.Variable; readonly bias?: tf.Variable }
  | { readonly type: 'Conv2d'; readonly weight: tf.Variable; readonly bias?: tf.Variable; readonly layer: Extract<SequentialLayer, { type: 'Conv2d' }> }
  | { readonly type: 'BatchNorm'; readonly mean: tf.Variable; readonly variance: tf.Variable; readonly eps: number; readonly scale?: tf.Variable; readonly offset?: tf.Variable }
  | { readonly type: 'activation'; readonly f: (x: tf.Tensor) => tf.Tensor };

/** A built `sequential` subnet: its variables under PyTorch's names, run in evaluation mode. */
export class SequentialLayersSubnet {
  readonly variables = new Map<string, tf.Variable>();
  private readonly built: Built[] = [];

  constructor(spec: SequentialSubnetSpec, cIn: number, cOut: number, rng: Rng = globalRng()) {
    const problems = sequentialSpecProblems(spec, 'subnet');
    if (problems.length) throw new FreiaError(`sequential subnet: ${problems.join('; ')}`);
    // Every width and size is settled before the first variable is made.
    const widths: number[] = [];
    let c = cIn;
    spec.layers.forEach((layer, i) => {
      if (layer.type === 'Linear' || layer.type === 'Conv2d') {
        const out = (layer.type === 'Linear' ? layer.out_features : layer.out_channels) ?? cOut;
        const [kH, kW] = layer.type === 'Conv2d' ? layer.kernel_size : [1, 1];
        checkElements('sequential subnet', `layer ${i} (${layer.type}) weight`, layer.type === 'Linear' ? [c, out] : [kH, kW, c, out]);
        c = out;
      }
      widths.push(c);
    });
    if (c !== cOut) throw new FreiaError(`sequential subnet: gives ${c} channels, but its module needs ${cOut} (it has no Linear or Conv2d to choose the width)`);
    let inC = cIn;
    spec.layers.forEach((layer, i) => {
      const outC = widths[i];
      const add = (name: string, value: tf.Tensor, trainable = true) => {
        const v = tf.variable(value, trainable);
        value.dispose();
        this.variables.set(`${i}.${name}`, v);
        return v;
      };
      switch (layer.type) {
        case 'Linear':
        case 'Conv2d': {
          // PyTorch's default initialisation, U(±1/√fan_in); an import overwrites it.
          const [kH, kW] = layer.type === 'Conv2d' ? layer.kernel_size : [1, 1];
          const bound = 1 / Math.sqrt(inC * kH * kW);
          const weight = add('weight', uniformTensor(layer.type === 'Linear' ? [inC, outC] : [kH, kW, inC, outC], bound, rng));
          const bias = layer.bias ? add('bias', uniformTensor([outC], bound, rng)) : undefined;
          this.built.push(layer.type === 'Linear' ? { type: 'Linear', weight, bias } : { type: 'Conv2d', weight, bias, layer });
          break;
        }
        case 'BatchNorm1d':
        case 'BatchNorm2d': {
          const scale = layer.affine ? add('weight', tf.ones([outC])) : undefined;
          const offset = layer.affine ? add('bias', tf.zeros([outC])) : undefined;
          const mean = add('running_mean', tf.zeros([outC]), false);
          const variance = add('running_var', tf.ones([outC]), false);
          add('num_batches_tracked', tf.scalar(0, 'int32'), false);
          this.built.push({ type: 'BatchNorm', mean, variance, eps: layer.eps, scale, offset });
          break;
        }
        case 'ReLU':
          this.built.push({ type: 'activation', f: (x) => tf.relu(x) });
          break;
        case 'LeakyReLU': {
          const slope = layer.negative_slope;
          this.built.push({ type: 'activation', f: (x) => tf.leakyRelu(x, slope) });
          break;
        }
        case 'Tanh':
          this.built.push({ type: 'activation', f: (x) => tf.tanh(x) });
          break;
        case 'Sigmoid':
          this.built.push({ type: 'activation', f: (x) => tf.sigmoid(x) });
          break;
        case 'Dropout':
          this.built.push({ type: 'activation', f: (x) => x });
          break;
      }
      inC = outC;
    });
  }

  /** `x`: `[B, C]` for vector layers, `[B, H, W, C]` (channels-last) for image layers. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = x;
      for (const layer of this.built) {
        switch (layer.type) {
          case 'Linear':
            if (h.rank !== 2) throw new ShapeMismatchError('sequential subnet', 'vectors [B, C] for Linear', formatShape(h.shape));
            h = tf.matMul(h as tf.Tensor2D, layer.weight as tf.Tensor2D);
            if (layer.bias) h = tf.add(h, layer.bias);
            break;
          case 'Conv2d': {
            if (h.rank !== 4) throw new ShapeMismatchError('sequential subnet', 'images [B, H, W, C] for Conv2d', formatShape(h.shape));
            const [pH, pW] = layer.layer.padding;
            const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [pH, pH], [pW, pW], [0, 0]];
            h = tf.conv2d(h as tf.Tensor4D, layer.weight as tf.Tensor4D, [...layer.layer.stride] as [number, number], pad);
            if (layer.bias) h = tf.add(h, layer.bias);
            break;
          }
          case 'BatchNorm':
            h = tf.batchNorm(h, layer.mean, layer.variance, layer.offset, layer.scale, layer.eps);
            break;
          case 'activation':
            h = layer.f(h);
            break;
        }
      }
      return h === x ? tf.clone(x) : h;
    });
  }
}
