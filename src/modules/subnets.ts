/**
 * Sub-networks of coupling blocks: `subnets.mlp`, `subnets.conv`, or any user
 * function `(cIn, cOut) => model`. A subnet maps a channels-last tensor with
 * `cIn` channels to one with `cOut` channels and the same spatial size.
 */
import * as tf from '@tensorflow/tfjs';
import { globalRng, uniformTensor, type Rng } from '../math/rng.js';
import { FreiaError, ShapeMismatchError, formatShape } from '../core/errors.js';
import { SIZE_LIMITS, checkElements, checkOptions, describeValue, is, sizeLimits } from '../core/validation.js';
import { SequentialLayersSubnet, sequentialSpecProblems, type SequentialSubnetSpec } from './sequential-subnet.js';

/**
 * What a coupling block needs from a subnet.
 *
 * @group Modules
 */
export interface Subnet {
  /**
   * Runs the subnet on `[batch, cIn]` (or channels-last images), giving `cOut` channels: coupling blocks call it on the half they condition on.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, type Subnet } from 'freia-ts';
   * // a subnet of one's own: one linear map, its variable under a PyTorch-style name
   * const linear = (cIn: number, cOut: number): Subnet => {
   *   const w = tf.variable(tf.zeros([cIn, cOut]));
   *   return { apply: (x) => tf.matMul(x, w), variables: new Map([['0.weight', w]]) };
   * };
   * const flow = inn.input([4]).glow({ subnet: linear }).build();
   * ```
   */
  apply(x: tf.Tensor): tf.Tensor;
  /** Variables under PyTorch `nn.Sequential` names (`0.weight`, `0.bias`, `2.weight`, ...). */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /**
   * For a built-in mlp: its linear layers in order (`weight [in, out]`,
   * `bias [out]`; ReLU between them), so that fused kernels can run the
   * subnet themselves. Absent for every other subnet.
   */
  readonly dense?: readonly {
    /** `[in, out]`. */
    readonly weight: tf.Variable;
    /** `[out]`. */
    readonly bias: tf.Variable;
  }[];
  /**
   * For a user subnet that is a tfjs-layers model (`tf.sequential`,
   * `tf.model`): the model, whose `getClassName()` and `getConfig()` are its
   * architecture as saving writes it (`{ "$layers": ... }`). Absent otherwise.
   */
  readonly layersModel?: DescribableModel;
}

/**
 * A tfjs-layers model (or anything with `apply` and `trainableWeights`) is
 * accepted too: its trainable weights become the parameters `w0`, `w1`, ...,
 * its non-trainable ones (BatchNormalization's moving statistics) `s0`, `s1`, ...
 *
 * @group Modules
 */
export interface LayersModelLike {
  /**
   * Runs the model (tfjs-layers' `apply`); it must return one tensor of `cOut` channels.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const subnet = (cIn: number, cOut: number) =>
   *   tf.sequential({ layers: [tf.layers.dense({ inputShape: [cIn], units: 32, activation: 'relu' }), tf.layers.dense({ units: cOut })] });
   * const flow = inn.input([4]).glow({ subnet }).build(); // each block calls its model's apply(x)
   * ```
   */
  apply(x: tf.Tensor): tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[];
  /** tfjs-layers' trainable weights. */
  readonly trainableWeights: readonly {
    /** The weight's value. */
    read(): tf.Tensor;
  }[];
  /** tfjs-layers' non-trainable weights. */
  readonly nonTrainableWeights?: readonly {
    /** The weight's value. */
    read(): tf.Tensor;
  }[];
}

/**
 * A model tfjs can serialise: `tf.serialization` rebuilds it from its class name and config.
 *
 * @group Modules
 */
export interface DescribableModel {
  /**
   * tfjs-layers' class name (`Sequential`).
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import type { DescribableModel } from 'freia-ts';
   * const model: DescribableModel = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 4 })] });
   * model.getClassName(); // 'Sequential': saving a flow writes it, with getConfig(), under "$layers"
   * ```
   */
  getClassName(): string;
  /**
   * tfjs-layers' configuration, saved with the flow.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import type { DescribableModel } from 'freia-ts';
   * const model: DescribableModel = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 4 })] });
   * model.getConfig(); // { name: 'sequential_1', layers: [{ className: 'Dense', config: { units: 4, … } }] }
   * ```
   */
  getConfig(): tf.serialization.ConfigDict;
}

const isDescribable = (model: object): model is DescribableModel =>
  typeof (model as Partial<DescribableModel>).getClassName === 'function' && typeof (model as Partial<DescribableModel>).getConfig === 'function';

/**
 * Serialisable description of a built-in subnet (FrEIA's reference format
 * uses the same kinds): an mlp or conv stack, or a PyTorch `nn.Sequential`
 * described layer by layer ({@link SequentialSubnetSpec}).
 *
 * @group Modules
 */
export type SubnetSpec = StackSubnetSpec | SequentialSubnetSpec;

/**
 * `mlp`, `conv3x3`, `conv1x1`: `layers` linear maps of width `hidden` with ReLUs between them.
 *
 * @group Modules
 */
export interface StackSubnetSpec {
  /** Which stack: an MLP, or a CNN with 3×3 or 1×1 kernels. */
  readonly kind: 'mlp' | 'conv3x3' | 'conv1x1';
  /** Hidden width (units or channels). */
  readonly hidden: number;
  /** Number of hidden layers. */
  readonly layers: number;
  /** How the weights start. */
  readonly init?: SubnetInit;
  /** Whether the last layer starts at zero. */
  readonly zeroLast?: boolean;
}

/**
 * `'torch'`: PyTorch's default `U(±1/√fan_in)` for weights and biases; `'xavier'`: Glorot uniform, zero bias.
 *
 * @group Modules
 */
export type SubnetInit = 'torch' | 'xavier';

declare const subnetKind: unique symbol;

/**
 * What the compiler knows of a subnet: `subnets.mlp` works on vectors and
 * on images (on the channels of each pixel); `subnets.conv` needs an image,
 * and says so in its type, which is what the editor prints when one is
 * given to a block on a vector. A user's own subnet function is either.
 *
 * @group Modules
 */
export type SubnetKind = 'mlp' | 'conv (needs an image [C, H, W])';

/**
 * A subnet constructor, called by a module as `factory(cIn, cOut)`. `K` is
 * what the compiler knows of it ({@link SubnetKind}); the default, `never`,
 * knows nothing, so a subnet typed plainly `SubnetFactory` fits every stream.
 *
 * @group Modules
 */
export interface SubnetFactory<K extends SubnetKind = never> {
  (cIn: number, cOut: number): Subnet | LayersModelLike;
  /** Present for the built-in subnets, so definitions stay serialisable. */
  readonly spec?: SubnetSpec;
  /** Types only, never present at run time: which streams the subnet fits. */
  readonly [subnetKind]?: K;
}

/**
 * A subnet of any kind: what a block's `subnet` option takes (`SubnetFactory` alone means one of unknown kind).
 *
 * @group Modules
 */
export type AnySubnet = SubnetFactory<SubnetKind>;

/**
 * The subnets that fit a stream of shape `S`: only `mlp` (and user functions) on a vector `[C]`, any on an image.
 *
 * @group Modules
 */
export type SubnetFor<S> = S extends readonly [number] ? SubnetFactory<'mlp'> : AnySubnet;

function initLayer(
  weightShape: number[],
  fanIn: number,
  fanOut: number,
  init: SubnetInit,
  zero: boolean,
  rng: Rng,
): [tf.Tensor, tf.Tensor] {
  if (zero) return [tf.zeros(weightShape), tf.zeros([fanOut])];
  if (init === 'xavier') {
    const receptive = fanIn / weightShape[weightShape.length - 2];
    return [uniformTensor(weightShape, Math.sqrt(6 / (fanIn + fanOut * receptive)), rng), tf.zeros([fanOut])];
  }
  const bound = 1 / Math.sqrt(fanIn);
  return [uniformTensor(weightShape, bound, rng), uniformTensor([fanOut], bound, rng)];
}

function layerNames(index: number): [string, string] {
  return [`${2 * index}.weight`, `${2 * index}.bias`];
}

/** An alternating stack of linear maps (matMul or conv) and ReLUs. */
class SequentialSubnet implements Subnet {
  readonly variables = new Map<string, tf.Variable>();
  private readonly layers: { weight: tf.Variable; bias: tf.Variable }[] = [];
  readonly dense?: readonly { weight: tf.Variable; bias: tf.Variable }[];

  constructor(
    private readonly spec: StackSubnetSpec,
    cIn: number,
    cOut: number,
    rng: Rng,
  ) {
    if (spec.layers < 1) throw new FreiaError(`subnet ${spec.kind}: layers must be at least 1, got ${spec.layers}`);
    const kernel = spec.kind === 'conv3x3' ? 3 : 1;
    // Every layer's size is checked before the first one is allocated.
    for (let i = 0; i < spec.layers; i++) {
      const inC = i === 0 ? cIn : spec.hidden;
      const outC = i === spec.layers - 1 ? cOut : spec.hidden;
      checkElements(`subnet ${spec.kind}`, `layer ${i} weight`, spec.kind === 'mlp' ? [inC, outC] : [kernel, kernel, inC, outC]);
    }
    for (let i = 0; i < spec.layers; i++) {
      const inC = i === 0 ? cIn : spec.hidden;
      const outC = i === spec.layers - 1 ? cOut : spec.hidden;
      const shape = spec.kind === 'mlp' ? [inC, outC] : [kernel, kernel, inC, outC];
      const last = i === spec.layers - 1;
      const [w, b] = initLayer(shape, inC * kernel * kernel, outC, spec.init ?? 'torch', last && !!spec.zeroLast, rng);
      const [wName, bName] = layerNames(i);
      const weight = tf.variable(w, true);
      const bias = tf.variable(b, true);
      w.dispose();
      b.dispose();
      this.variables.set(wName, weight).set(bName, bias);
      this.layers.push({ weight, bias });
    }
    if (spec.kind === 'mlp') this.dense = this.layers;
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const conv = this.spec.kind !== 'mlp';
      if (conv && x.rank !== 4) {
        throw new FreiaError(`subnet ${this.spec.kind} needs image input [B, C, H, W], got rank ${x.rank}`);
      }
      let h: tf.Tensor = x;
      const leading = x.shape.slice(0, -1);
      if (!conv && x.rank !== 2) h = tf.reshape(x, [-1, x.shape[x.rank - 1]]);
      this.layers.forEach(({ weight, bias }, i) => {
        // Fused kernels (product + bias + ReLU in one) halve the kernel launches, which set the
        // pace of small flows on wasm (docs/performance.md).
        const activation = i < this.layers.length - 1 ? 'relu' : 'linear';
        h = conv
          ? tf.fused.conv2d({ x: h as tf.Tensor4D, filter: weight as tf.Tensor4D, strides: 1, pad: 'same', bias, activation })
          : tf.fused.matMul({ a: h as tf.Tensor2D, b: weight as tf.Tensor2D, bias, activation });
      });
      if (!conv && x.rank !== 2) h = tf.reshape(h, [...leading, h.shape[h.rank - 1]]);
      return h;
    });
  }
}

/** The factory of a built-in subnet from its serialisable description (as FrEIA exports name them). */
export function subnetFromSpec(spec: SubnetSpec): SubnetFactory {
  const factory = (cIn: number, cOut: number) =>
    spec.kind === 'sequential' ? new SequentialLayersSubnet(spec, cIn, cOut, globalRng()) : new SequentialSubnet(spec, cIn, cOut, globalRng());
  return Object.assign(factory, { spec });
}

/**
 * Every problem with a subnet description in a FrEIA document, each naming
 * its place under `at`; `[]` when it is one.
 */
export function subnetSpecProblems(spec: unknown, at: string): string[] {
  const s = spec as Record<string, unknown> | null;
  if (s !== null && typeof s === 'object' && s.kind === 'sequential') return sequentialSpecProblems(s, at);
  const whole = (v: unknown, max: number) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= max;
  const ok = s !== null && typeof s === 'object' && ['mlp', 'conv3x3', 'conv1x1'].includes(s.kind as string) && whole(s.hidden, sizeLimits().tensorElements) && whole(s.layers, 1000);
  if (ok) return [];
  return [`${at}: expected null, { kind: "mlp" | "conv3x3" | "conv1x1", hidden: 1..${sizeLimits().tensorElements}, layers: 1..1000 } or { kind: "sequential", layers: [...] }, got ${describeValue(spec)}`];
}

const MLP_OPTIONS = {
  hidden: is.number({ integer: true, min: 1, max: SIZE_LIMITS.tensorElements }), // checked against the current limit when the layers are made
  layers: is.number({ integer: true, min: 1, max: 1000 }),
  init: is.oneOf(['torch', 'xavier']),
  zeroLast: is.boolean,
} as const;
const CONV_OPTIONS = { ...MLP_OPTIONS, kernel: is.oneOf([3, 1]) } as const;

/**
 * Options of the built-in subnets.
 *
 * @group Modules
 */
export interface MlpOptions {
  /** Width of the hidden layers. */
  readonly hidden: number;
  /** Number of linear layers (2: `Linear → ReLU → Linear`, FrEIA's usual subnet). */
  readonly layers?: number;
  /** How the weights start (default: PyTorch's `nn.Linear` / `nn.Conv2d` initialisation). */
  readonly init?: SubnetInit;
  /** Start the last layer at zero so every coupling starts as the identity (Glow's trick). */
  readonly zeroLast?: boolean;
}

/**
 * Options of {@link subnets.conv}: those of an MLP, plus the kernel size.
 *
 * @group Modules
 */
export interface ConvOptions extends MlpOptions {
  /** 3 (`padding=1`) or 1. */
  readonly kernel?: 3 | 1;
}

/**
 * `Linear(cIn, hidden) → ReLU → … → Linear(hidden, cOut)`, applied to the
 * channel axis.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 64 }) }).build();
 * ```
 */
export function mlp(options: MlpOptions): SubnetFactory<'mlp'> {
  checkOptions('subnets.mlp', options, MLP_OPTIONS);
  if (options.hidden === undefined) throw new FreiaError('subnets.mlp: option "hidden" is required (the width of the hidden layers)');
  return subnetFromSpec({ kind: 'mlp', hidden: options.hidden, layers: options.layers ?? 2, init: options.init, zeroLast: options.zeroLast });
}

/**
 * `Conv2d(cIn, hidden, k) → ReLU → … → Conv2d(hidden, cOut, k)` with 'same' padding.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * const flow = inn.input([4, 16, 16]).glow({ subnet: subnets.conv({ hidden: 64, kernel: 3 }) }).build();
 * ```
 */
export function conv(options: ConvOptions): SubnetFactory<'conv (needs an image [C, H, W])'> {
  checkOptions('subnets.conv', options, CONV_OPTIONS);
  if (options.hidden === undefined) throw new FreiaError('subnets.conv: option "hidden" is required (the width of the hidden layers)');
  const kind = (options.kernel ?? 3) === 3 ? 'conv3x3' : 'conv1x1';
  return subnetFromSpec({ kind, hidden: options.hidden, layers: options.layers ?? 2, init: options.init, zeroLast: options.zeroLast });
}

/** Builds a subnet and brings user models into the {@link Subnet} shape. */
export function instantiateSubnet(factory: AnySubnet, cIn: number, cOut: number): Subnet {
  if (typeof factory !== 'function') throw new FreiaError('subnet must be a function (cIn, cOut) => model, e.g. subnets.mlp({ hidden: 512 })');
  const made = factory(cIn, cOut);
  if (made instanceof SequentialSubnet) return made;
  if (made instanceof SequentialLayersSubnet) return { variables: made.variables, apply: (x) => checkedOutput(x, made.apply(x), cOut) };
  if (made !== null && typeof made === 'object' && 'variables' in made && made.variables instanceof Map) {
    const subnet = made as Subnet;
    return { variables: subnet.variables, apply: (x) => checkedOutput(x, subnet.apply(x), cOut) };
  }
  const model = made as LayersModelLike;
  if (made === null || typeof made !== 'object' || typeof model.apply !== 'function' || !Array.isArray(model.trainableWeights)) {
    throw new FreiaError('a subnet must have apply(x) and trainableWeights (a tfjs-layers model) or be built by subnets.*');
  }
  const variables = new Map<string, tf.Variable>();
  // read() of a tfjs-layers LayerVariable is the tf.Variable that holds its value
  model.trainableWeights.forEach((w, i) => variables.set(`w${i}`, w.read() as tf.Variable));
  (Array.isArray(model.nonTrainableWeights) ? model.nonTrainableWeights : []).forEach((w, i) => variables.set(`s${i}`, w.read() as tf.Variable));
  return {
    variables,
    layersModel: isDescribable(model) ? model : undefined,
    apply: (x) => {
      const y = model.apply(x);
      if (Array.isArray(y) || !(y instanceof tf.Tensor)) throw new FreiaError('a subnet model must return one tensor');
      return checkedOutput(x, y, cOut);
    },
  };
}

/**
 * A user subnet's output must keep the batch and spatial sizes of its input
 * and have `cOut` channels: one that broadcasts or collapses the batch would
 * otherwise run and mix samples.
 */
function checkedOutput(x: tf.Tensor, y: tf.Tensor, cOut: number): tf.Tensor {
  const expected = [...x.shape.slice(0, -1), cOut];
  if (!(y instanceof tf.Tensor) || y.rank !== expected.length || y.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeMismatchError('subnet output', `${formatShape(expected)} (the input's batch and spatial sizes, ${cOut} channels)`, y instanceof tf.Tensor ? formatShape(y.shape) : String(y));
  }
  return y;
}
