/**
 * The module contract: what every invertible module, built-in or
 * user-defined, provides to the executor.
 */
import * as tf from '@tensorflow/tfjs';
import type { Shape } from '../core/graph.js';
import { FreiaError } from '../core/errors.js';
import { instantiateSubnet, type AnySubnet, type Subnet } from './subnets.js';

/**
 * How a module is called: `rev` runs the inverse, `jac` asks for the log-det.
 *
 * @group Modules
 */
export interface ForwardOptions {
  /** Run the inverse. */
  readonly rev: boolean;
  /** Compute the log-determinant (else it may be 0). */
  readonly jac: boolean;
}

/**
 * Outputs (channels-last) and the per-sample log|det J|: a `[batch]` tensor, or a number broadcast over the batch.
 *
 * @group Modules
 */
export interface ModuleResult {
  /** The outputs, channels-last. */
  readonly out: tf.Tensor[];
  /** log abs det of the Jacobian per sample, of the direction run. */
  readonly logDet: tf.Tensor | number;
}

/**
 * Base class of every invertible module, built-in or user-defined.
 *
 * A module receives its input and condition shapes (without batch, channels
 * first, like FrEIA's `dims_in` / `dims_c`) and computes `forward(xs, cs,
 * { rev, jac })`. Tensors reach `forward` **channels-last** (`[B, H, W, C]`,
 * `[B, C]` for vectors): see docs/design.md for why. Parameters live in
 * `params` under FrEIA's state-dict names, so FrEIA weights map onto them.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { InvertibleModule, inn, type ForwardOptions, type ModuleResult, type Shape } from 'freia-ts';
 *
 * // y = x · exp(s) with a learned s per channel; log|det J| = Σ s
 * class Scale extends InvertibleModule {
 *   private readonly s: tf.Variable;
 *   constructor(dimsIn: readonly Shape[], dimsC: readonly Shape[]) {
 *     super(dimsIn, dimsC);
 *     this.s = this.addParam('s', tf.zeros([dimsIn[0][0]]));
 *   }
 *   forward([x]: readonly tf.Tensor[], _c: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
 *     const logDet = tf.sum(this.s);
 *     return rev ? { out: [tf.mul(x, tf.exp(tf.neg(this.s)))], logDet: tf.neg(logDet) } : { out: [tf.mul(x, tf.exp(this.s))], logDet };
 *   }
 * }
 * const flow = inn.input([4]).apply(Scale).actNorm().build();
 * ```
 *
 * @group Modules
 */
export abstract class InvertibleModule {
  /** Parameters and buffers under their FrEIA state-dict names (internal layout). */
  readonly params = new Map<string, tf.Variable>();

  constructor(
    /** The input shapes (without batch, channels first), FrEIA's `dims_in`. */
    readonly dimsIn: readonly Shape[],
    /** The condition shapes, FrEIA's `dims_c` (empty for an unconditional module). */
    readonly dimsC: readonly Shape[] = [],
  ) {}

  /**
   * Runs the module forward (`rev: false`) or in reverse (`rev: true`): its
   * outputs and the log|det J| of the direction run. A flow calls it for
   * every module node; built-in modules receive channels-last tensors.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const module = inn.input([4]).actNorm().build().modules[1]!; // node 0 is the input
   * const { out: [y], logDet } = module.forward([tf.randomNormal([8, 4])], [], { rev: false, jac: true }); // y: [8, 4]
   * const { out: [x] } = module.forward([y], [], { rev: true, jac: false }); // x back
   * ```
   */
  abstract forward(xs: readonly tf.Tensor[], cs: readonly tf.Tensor[], options: ForwardOptions): ModuleResult;

  /**
   * Output shapes for the given input shapes, for custom modules (FrEIA's
   * `output_dims`); without it a custom module keeps its shapes. Built-in
   * modules do not have it: their rule is their catalogue entry's
   * `outputShapes`, which also sees their options and conditions.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { InvertibleModule, type ForwardOptions, type ModuleResult, type Shape } from 'freia-ts';
   * // a vector [C] as a 1×1 image [C, 1, 1] (a custom module sees channels-first tensors)
   * class AsImage extends InvertibleModule {
   *   forward([x]: readonly tf.Tensor[], _c: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
   *     return { out: [rev ? tf.reshape(x, [-1, x.shape[1]!]) : tf.reshape(x, [-1, x.shape[1]!, 1, 1])], logDet: 0 };
   *   }
   *   override outputShapes([[c]]: readonly Shape[]): Shape[] { return [[c, 1, 1]]; }
   * }
   * new AsImage([[3]]).outputShapes([[3]]); // [[3, 1, 1]]
   * ```
   */
  outputShapes?(inputShapes: readonly Shape[]): Shape[];

  /** Registers a parameter (or a buffer, with `trainable: false`) under its FrEIA name. */
  protected addParam(name: string, initial: tf.Tensor, trainable = true): tf.Variable {
    const variable = tf.variable(initial, trainable);
    initial.dispose();
    this.params.set(name, variable);
    return variable;
  }

  /**
   * Loads one FrEIA state-dict entry (PyTorch layout) into the parameter
   * `name`. The default converts the layouts that differ: subnet Linear
   * weights `[out, in]` → `[in, out]`, Conv2d weights `[out, in, kH, kW]` →
   * `[kH, kW, in, out]`, broadcast shapes such as `[1, C, 1, 1]` → `[C]`,
   * int64 indices → int32. Modules whose buffers mean something else override it.
   * Throws a message naming the parameter and both shapes when nothing fits.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn } from 'freia-ts';
   * const actNorm = inn.input([3, 8, 8]).actNorm().build().modules[1]!;
   * actNorm.loadParam('loc', tf.zeros([1, 3, 1, 1])); // FrEIA's shape, stored as our [3]
   * actNorm.loadParam('is_initialized', tf.scalar(1)); // cast to the bool buffer
   * ```
   */
  loadParam(name: string, value: tf.Tensor): void {
    const target = this.params.get(name);
    if (!target) throw new FreiaError(`no parameter "${name}" (has: ${[...this.params.keys()].join(', ')})`);
    const converted = tf.tidy(() => {
      const layout = convertLayout(name, value, target.shape);
      return layout.dtype === target.dtype ? layout : tf.cast(layout, target.dtype);
    });
    target.assign(converted);
    converted.dispose();
  }

  /**
   * This module's FrEIA state-dict entries, the inverse of
   * {@link InvertibleModule.loadParam} (for `exportFreia`): each parameter
   * in PyTorch's element order, its shape up to broadcasting (`[C]` for
   * FrEIA's `[1, C, 1, 1]`; the Python side reshapes to FrEIA's shape):
   * subnet Linear weights `[in, out]` → `[out, in]`, Conv2d weights
   * `[kH, kW, in, out]` → `[out, in, kH, kW]`. Keys FrEIA recomputes from
   * the constructor's arguments may be left out (the entry's `derived`).
   * Modules whose `loadParam` moves axes override it. The caller disposes
   * the tensors.
   *
   * @example
   * ```ts
   * import * as tf from '@tensorflow/tfjs';
   * import { inn, subnets } from 'freia-ts';
   * const glow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build().modules[1]!;
   * const state = glow.freiaState(); // 'subnet1.0.weight', 'subnet1.0.bias', …, 'subnet2.2.bias'
   * console.log(state.get('subnet1.0.weight')!.shape); // [32, 1]: PyTorch's [out, in]
   * tf.dispose([...state.values()]);
   * ```
   */
  freiaState(): Map<string, tf.Tensor> {
    return new Map([...this.params].map(([name, value]) => [name, toFreiaLayout(name, value)]));
  }

  /**
   * Builds a subnet whose variables join `params` as `<name>.<key>` (FrEIA's
   * `subnet1.0.weight`), and records which factory made it for which
   * channels (`subnetsOf`), so a user's tfjs-layers subnet can be saved.
   */
  protected addSubnet(name: string, factory: AnySubnet, cIn: number, cOut: number): Subnet {
    const subnet = instantiateSubnet(factory, cIn, cOut);
    for (const [key, variable] of subnet.variables) this.params.set(`${name}.${key}`, variable);
    const made = madeSubnets.get(this) ?? [];
    made.push({ name, factory, cIn, cOut, subnet });
    madeSubnets.set(this, made);
    return subnet;
  }

  /** Every trainable variable of this module, subnets included. */
  get trainableVariables(): tf.Variable[] {
    return [...this.params.values()].filter((v) => v.trainable);
  }

  /**
   * Frees the parameters' memory. `flow.dispose()` calls it for every
   * module of the flow.
   *
   * @example
   * ```ts
   * import { inn } from 'freia-ts';
   * const module = inn.input([4]).actNorm().build().modules[1]!;
   * module.dispose(); // log_scale, loc and is_initialized are freed
   * console.log(module.params.size); // 0
   * ```
   */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

/** A subnet a module made with {@link InvertibleModule.addSubnet}: its name, the factory and the channels it was called with. */
export interface MadeSubnet {
  readonly name: string;
  readonly factory: AnySubnet;
  readonly cIn: number;
  readonly cOut: number;
  readonly subnet: Subnet;
}

/** The subnets of each module, in the order they were made (kept out of the class, whose fields users see). */
const madeSubnets = new WeakMap<InvertibleModule, MadeSubnet[]>();

/** The subnets `module` made with `addSubnet`, in order (saving describes a user's tfjs-layers subnets from them). */
export function subnetsOf(module: InvertibleModule): readonly MadeSubnet[] {
  return madeSubnets.get(module) ?? [];
}

/**
 * Runs `make`; if it throws, every tfjs variable created meanwhile is freed,
 * including those of a module whose constructor failed halfway, so nothing
 * half-built is left behind.
 */
export function withVariableCleanup<T>(make: () => T): T {
  const variablesBefore = new Set(Object.keys(tf.engine().registeredVariables));
  try {
    return make();
  } catch (error) {
    for (const [name, variable] of Object.entries(tf.engine().registeredVariables)) {
      if (!variablesBefore.has(name)) variable.dispose();
    }
    throw error;
  }
}

const subnetWeight = /(^|\.)\d+\.weight$/;

/** Ours → PyTorch's layout, up to broadcasting: the inverse of {@link convertLayout}. */
export function toFreiaLayout(name: string, value: tf.Tensor): tf.Tensor {
  if (subnetWeight.test(name) && value.rank === 2) return tf.transpose(value);
  if (subnetWeight.test(name) && value.rank === 4) return tf.transpose(value, [3, 2, 0, 1]);
  return value.clone();
}

/** PyTorch layout → ours, by the rules of {@link InvertibleModule.loadParam}. */
export function convertLayout(name: string, value: tf.Tensor, target: readonly number[]): tf.Tensor {
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  if (subnetWeight.test(name) && (value.rank === 2 || value.rank === 4)) {
    const moved = value.rank === 2 ? tf.transpose(value) : tf.transpose(value, [2, 3, 1, 0]);
    if (same(moved.shape, target)) return moved;
  } else if (same(value.shape, target)) {
    return value.clone();
  }
  const squeeze = (s: readonly number[]) => s.filter((d) => d !== 1);
  if (value.size === target.reduce((a, b) => a * b, 1) && same(squeeze(value.shape), squeeze(target))) {
    return tf.reshape(value, [...target]);
  }
  throw new FreiaError(`parameter "${name}": expected shape [${target.join(', ')}] (ours) or its PyTorch layout, got [${value.shape.join(', ')}]`);
}
