/**
 * The module contract and the registry that maps a definition's `kind` to
 * its run-time shape rule and its implementation.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleDef, Shape } from '../core/graph.js';
import { FreiaError } from '../core/errors.js';
import { instantiateSubnet, subnetFromSpec, type Subnet, type SubnetFactory, type SubnetSpec } from './subnets.js';

/** How a module is called: `rev` runs the inverse, `jac` asks for the log-det. */
export interface ForwardOptions {
  readonly rev: boolean;
  readonly jac: boolean;
}

/** Outputs (channels-last) and the per-sample log|det J|: a `[batch]` tensor, or a number broadcast over the batch. */
export interface ModuleResult {
  readonly out: tf.Tensor[];
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
 */
export abstract class InvertibleModule {
  /** Parameters and buffers under their FrEIA state-dict names (internal layout). */
  readonly params = new Map<string, tf.Variable>();

  constructor(
    readonly dimsIn: readonly Shape[],
    readonly dimsC: readonly Shape[] = [],
  ) {}

  /** Runs the module forward (`rev: false`) or in reverse (`rev: true`). */
  abstract forward(xs: readonly tf.Tensor[], cs: readonly tf.Tensor[], options: ForwardOptions): ModuleResult;

  /** Output shapes for the given input shapes; the default keeps them. */
  outputShapes(inputShapes: readonly Shape[]): Shape[] {
    return [...inputShapes];
  }

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

  /** Builds a subnet whose variables join `params` as `<name>.<key>` (FrEIA's `subnet1.0.weight`). */
  protected addSubnet(name: string, factory: unknown, cIn: number, cOut: number): Subnet {
    const subnet = instantiateSubnet(factory as SubnetFactory, cIn, cOut);
    for (const [key, variable] of subnet.variables) this.params.set(`${name}.${key}`, variable);
    return subnet;
  }

  /** Every trainable variable of this module, subnets included. */
  get trainableVariables(): tf.Variable[] {
    return [...this.params.values()].filter((v) => v.trainable);
  }

  /** Frees the parameters' memory. */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

/**
 * A definition's arguments as the module's options type. The builders and the
 * importer are the only producers of `args` and they write exactly these
 * options, so the cast is the one place the untyped data meets the module.
 */
export function argsOf<T>(def: ModuleDef): T {
  return def.args as unknown as T;
}

const subnetWeight = /(^|\.)\d+\.weight$/;

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

/**
 * How FrEIA's constructor arguments map onto ours. By default every
 * snake_case argument becomes camelCase and keeps its value.
 */
export interface FreiaImport {
  /** FrEIA argument → our option name, where camelCase is not enough. */
  readonly rename?: Readonly<Record<string, string>>;
  /** FrEIA arguments we do not use (e.g. `init_data`). */
  readonly drop?: readonly string[];
  /** Final adjustment of the mapped arguments (tensor-valued arguments, defaults). */
  readonly adjust?: (args: Record<string, unknown>) => Record<string, unknown>;
  /** State-dict keys FrEIA stores but we recompute from other parameters; ignored on import. */
  readonly derived?: readonly string[];
}

/** Everything the runtime needs to know about one module kind. */
export interface ModuleSpec {
  /** Registry key; FrEIA's class name for FrEIA's modules. */
  readonly kind: string;
  /**
   * The run-time twin of the type-level shape rule: output shapes, or a thrown
   * error naming the shapes. `node` names the node for the message.
   */
  outputShapes(node: string, inputShapes: readonly Shape[], conditionShapes: readonly Shape[], args: Readonly<Record<string, unknown>>): Shape[];
  /** Instantiates the module for a definition (weights freshly initialised). */
  create(def: ModuleDef): InvertibleModule;
  /** How a FrEIA export of this module maps onto it (absent: camelCase arguments, nothing derived). */
  readonly freia?: FreiaImport;
}

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * FrEIA constructor arguments (snake_case, as in Python) as our module
 * options: the module's own renames, then camelCase; `subnet_constructor`
 * becomes `subnet`; `null` means "not given".
 */
export function freiaArgs(kind: string, freiaArgs: Readonly<Record<string, unknown>>, subnet: SubnetSpec | null = null): Record<string, unknown> {
  const rules = moduleSpec(kind).freia ?? {};
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(freiaArgs)) {
    if (value === null || value === undefined || rules.drop?.includes(key)) continue;
    args[rules.rename?.[key] ?? (key === 'subnet_constructor' ? 'subnet' : camel(key))] = value;
  }
  if (subnet) args.subnet = subnetFromSpec(subnet);
  return rules.adjust ? rules.adjust(args) : args;
}

const registry = new Map<string, ModuleSpec>();

/** Adds a module kind to the registry; a module file calls this once. */
export function registerModule(spec: ModuleSpec): ModuleSpec {
  registry.set(spec.kind, spec);
  return spec;
}

/** The spec of a registered kind, or an error listing the known kinds. */
export function moduleSpec(kind: string): ModuleSpec {
  const spec = registry.get(kind);
  if (!spec) throw new FreiaError(`unknown module kind "${kind}" (known: ${[...registry.keys()].sort().join(', ')})`);
  return spec;
}

/** Builds a validated definition: runs the shape rule, so a bad wiring fails here, naming the node. */
export function defineModule(
  node: string,
  kind: string,
  args: Readonly<Record<string, unknown>>,
  inputShapes: readonly Shape[],
  conditionShapes: readonly Shape[] = [],
): ModuleDef {
  const outputShapes = moduleSpec(kind).outputShapes(node, inputShapes, conditionShapes, args);
  return { kind, args, inputShapes, conditionShapes, outputShapes };
}
