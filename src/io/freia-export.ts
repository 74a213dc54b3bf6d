/**
 * freia-ts models in FrEIA: `exportFreia(flow)` writes a Python module whose
 * `build_inn()` builds the same FrEIA network (FrEIA's classes, the flow's
 * node names, subnets as `nn.Sequential`) with the flow's weights loaded, in
 * evaluation mode. Browser-safe: it returns the module's text; writing it
 * to a file is the caller's (the `freia-ts export` command does).
 *
 * The mapping is the catalogue's, read backwards: each entry's kind is
 * FrEIA's class, its `freia.rename` gives FrEIA's argument names (the rest
 * are our camelCase names in snake_case), `freia.oursOnly` the options
 * FrEIA does not take, `freia.derived` the buffers FrEIA recomputes from its
 * arguments, `freia.notExported` why a kind is refused, and
 * `freia.pythonClass` a small subclass of FrEIA's written into the module
 * where FrEIA takes an option of ours otherwise. Each module's
 * {@link InvertibleModule.freiaState} gives its state-dict entries in
 * PyTorch's layout; the Python side reshapes each to FrEIA's shape and
 * refuses any entry missing, extra or of the wrong size.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleNodeDef, Shape, TensorRef } from '../core/graph.js';
import { className } from '../core/graph.js';
import { DisposedError, FreiaError } from '../core/errors.js';
import type { AnyFlow } from '../runtime/flow.js';
import { catalogue, derivedKeys, moduleSpec } from '../modules/catalogue.js';
import type { SubnetSpec } from '../modules/subnets.js';
import type { SequentialSubnetSpec } from '../modules/sequential-subnet.js';

/**
 * Options of {@link exportFreia}.
 *
 * @group Import/export
 */
export interface ExportFreiaOptions {
  /**
   * `'auto'` (default): a `SequenceINN` for a chain (one input, one output,
   * one-in one-out modules, at most one condition each), a `GraphINN`
   * otherwise; `'graph'`: always a `GraphINN` (FrEIA then knows the node names too).
   */
  readonly form?: 'auto' | 'graph';
  /** The model's name in the module's docstring (default `"model"`). */
  readonly name?: string;
}

/**
 * One module the export refuses: its node, its kind and why.
 *
 * @group Import/export
 */
export interface ExportRefusal {
  /** The node's name. */
  readonly node: string;
  /** Its module kind. */
  readonly kind: string;
  /** Why FrEIA cannot take it. */
  readonly reason: string;
}

/**
 * An export that found modules FrEIA cannot take; `refusals` lists every one.
 *
 * @group Errors
 */
export class FreiaExportError extends FreiaError {
  /** Always `'FreiaExportError'` (for `error.name` checks). */
  override readonly name = 'FreiaExportError';
  /** @param refusals - Every module the export refuses. */
  constructor(readonly refusals: readonly ExportRefusal[]) {
    super(`cannot export to FrEIA: ${refusals.length} module(s) refused\n  - ${refusals.map((r) => `node "${r.node}" (${r.kind}): ${r.reason}`).join('\n  - ')}`);
  }
}

/** A Python literal of a plain value (numbers, booleans, strings, lists, objects). */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return Number.isNaN(value) ? "float('nan')" : value > 0 ? "float('inf')" : "-float('inf')";
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(', ')}]`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`).join(', ')}}`;
  throw new FreiaError(`cannot write ${typeof value} as a Python value`);
}

/** camelCase → snake_case, the inverse of the importer's rule (`M` stays `M`). */
const snake = (name: string) => name.replace(/(?<=[a-z0-9])[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The Python function name of a subnet (`subnet_mlp_32x2`; a `sequential` one by a hash of its layers). */
function subnetName(spec: SubnetSpec): string {
  if (spec.kind !== 'sequential') return `subnet_${spec.kind}_${spec.hidden}x${spec.layers}`;
  let hash = 0x811c9dc5;
  for (const ch of JSON.stringify(spec.layers)) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `subnet_sequential_${hash.toString(16).padStart(8, '0')}`;
}

/** A `sequential` subnet (imported from FrEIA) as its nn.Sequential again: widths follow the layers, the last weighted layer ends at `c_out`. */
function sequentialSource(spec: SequentialSubnetSpec): string {
  const lastWeighted = spec.layers.reduce((found, layer, i) => (layer.type === 'Linear' || layer.type === 'Conv2d' ? i : found), -1);
  const width = (w: number | null, i: number) => (i === lastWeighted || w === null ? 'c_out' : String(w));
  let current = 'c_in';
  const layers = spec.layers.map((layer, i) => {
    switch (layer.type) {
      case 'Linear': {
        const out = width(layer.out_features, i);
        const text = `nn.Linear(${current}, ${out}, bias=${pythonLiteral(layer.bias)})`;
        current = out;
        return text;
      }
      case 'Conv2d': {
        const out = width(layer.out_channels, i);
        const text = `nn.Conv2d(${current}, ${out}, ${pythonLiteral(layer.kernel_size)}, stride=${pythonLiteral(layer.stride)}, padding=${pythonLiteral(layer.padding)}, bias=${pythonLiteral(layer.bias)})`;
        current = out;
        return text;
      }
      case 'LeakyReLU': return `nn.LeakyReLU(${pythonLiteral(layer.negative_slope)})`;
      case 'Dropout': return `nn.Dropout(${pythonLiteral(layer.p ?? 0.5)})`;
      case 'BatchNorm1d':
      case 'BatchNorm2d': return `nn.${layer.type}(${current}, eps=${pythonLiteral(layer.eps)}, affine=${pythonLiteral(layer.affine)})`;
      default: return `nn.${layer.type}()`;
    }
  });
  return `def ${subnetName(spec)}(c_in, c_out):\n    return nn.Sequential(${layers.join(', ')})\n`;
}

/** A subnet as a Python constructor `(c_in, c_out) -> nn.Sequential` with our layers. */
function subnetSource(spec: SubnetSpec): string {
  if (spec.kind === 'sequential') return sequentialSource(spec);
  const layer = (cIn: string, cOut: string) =>
    spec.kind === 'mlp' ? `nn.Linear(${cIn}, ${cOut})` : spec.kind === 'conv3x3' ? `nn.Conv2d(${cIn}, ${cOut}, 3, padding=1)` : `nn.Conv2d(${cIn}, ${cOut}, 1)`;
  const layers: string[] = [];
  for (let i = 0; i < spec.layers; i++) {
    if (i > 0) layers.push('nn.ReLU()');
    layers.push(layer(i === 0 ? 'c_in' : String(spec.hidden), i === spec.layers - 1 ? 'c_out' : String(spec.hidden)));
  }
  return `def ${subnetName(spec)}(c_in, c_out):\n    return nn.Sequential(${layers.join(', ')})\n`;
}

/** What a module's node becomes in Python: the class expression and its keyword arguments. */
interface PythonModule {
  readonly cls: string;
  readonly kwargs: string[];
  /** For FrEIA's Inverse: the wrapped class and its keyword arguments (FrEIA's Inverse takes a module instance). */
  readonly wrapped?: { readonly cls: string; readonly kwargs: string[] };
}

/** Our options of `kind` as FrEIA's keyword arguments (`name=value`), subnets by constructor name. */
function freiaKwargs(kind: string, args: Readonly<Record<string, unknown>>, subnets: Map<string, SubnetSpec>, refuse: (reason: string) => void): string[] {
  const rules = moduleSpec(kind).freia ?? {};
  const back = new Map(Object.entries(rules.rename ?? {}).map(([freia, ours]) => [ours, freia]));
  const kwargs: string[] = [];
  for (const [key, value] of Object.entries(rules.adjustExport ? rules.adjustExport({ ...args }) : args)) {
    if (value === undefined || rules.oursOnly?.includes(key)) continue;
    if (key === 'subnet') {
      // Cast: a subnet option is a factory; built-in ones carry their serialisable description.
      const spec = (value as { spec?: SubnetSpec }).spec;
      if (!spec) {
        refuse('its subnet is a user model (tfjs-layers or a function), not subnets.mlp/subnets.conv; only built-in subnets have an nn.Sequential twin');
        continue;
      }
      subnets.set(subnetName(spec), spec);
      kwargs.push(`subnet_constructor=${subnetName(spec)}`);
      continue;
    }
    const name = back.get(key) ?? snake(key);
    kwargs.push(`${name}=${rules.tensorArgs?.includes(name) ? `torch.tensor(${pythonLiteral(value)}, dtype=torch.float32)` : pythonLiteral(value)}`);
  }
  return kwargs;
}

/** Little-endian bytes of a tensor's values as base64 (float32 as `<f4`, int32 as `<i4`, bool as `u1`). */
function encode(values: tf.TypedArray, dtype: string): string {
  let bytes: Uint8Array;
  if (dtype === 'bool') bytes = Uint8Array.from(values as ArrayLike<number>);
  else {
    bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    values.forEach((v: number, i: number) => (dtype === 'int32' ? view.setInt32(i * 4, v, true) : view.setFloat32(i * 4, v, true)));
  }
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

const BUILT_IN_KINDS: ReadonlySet<string> = new Set(Object.values(catalogue).map((entry) => entry.kind));

const PYTHON_DTYPE: Record<string, string> = { float32: '<f4', int32: '<i4', bool: 'u1' };

/** Whether the graph is a plain chain that FrEIA's SequenceINN can hold. */
function isChain(flow: AnyFlow): boolean {
  const nodes = flow.graph.nodes;
  const inputs = nodes.filter((n) => n.kind === 'input');
  const outputs = nodes.filter((n) => n.kind === 'output');
  if (inputs.length !== 1 || outputs.length !== 1) return false;
  let previous = nodes.indexOf(inputs[0]);
  for (const [i, node] of nodes.entries()) {
    if (node.kind !== 'module') continue;
    if (node.inputs.length !== 1 || node.module.outputShapes.length !== 1 || node.conditions.length > 1) return false;
    if (node.inputs[0].node !== previous || node.inputs[0].output !== 0) return false;
    previous = i;
  }
  const out = outputs[0];
  return out.kind === 'output' && out.input.node === previous;
}

const identifier = (i: number) => `n${i}`;
const shapeArgs = (shape: Shape) => shape.join(', ');

const PRELUDE = `import base64

import numpy as np
import torch
import torch.nn as nn

import FrEIA.framework as Ff
import FrEIA.modules as Fm
from FrEIA.modules.inverse import Inverse  # not in FrEIA.modules.__all__
`;

const LOADER = `def _tensor(dtype, shape, data):
    return torch.from_numpy(np.frombuffer(base64.b64decode(data), dtype=dtype).reshape(shape).copy())


def _load(name, module):
    """Loads the exported entries of node \`name\` into \`module\`: every state-dict entry must be
    given (reshaped to FrEIA's shape, same number of elements) or one FrEIA derives from its arguments."""
    given = WEIGHTS.get(name, {})
    derived = set(DERIVED.get(name, []))
    state = module.state_dict()
    extra = sorted(set(given) - set(state))
    if extra:
        raise KeyError(f"node {name!r}: the export has entries FrEIA's {type(module).__name__} lacks: {extra}")
    loaded = {}
    for key, target in state.items():
        if key in given:
            value = _tensor(*given[key])
            if value.numel() != target.numel():
                raise ValueError(f"node {name!r}: {key} has {value.numel()} values, FrEIA's is {tuple(target.shape)}")
            loaded[key] = value.reshape(target.shape).to(target.dtype)
        elif key in derived:
            loaded[key] = target
        else:
            raise KeyError(f"node {name!r}: FrEIA's {type(module).__name__} has {key}, which the export lacks")
    module.load_state_dict(loaded)
`;

/**
 * Writes a Python module whose `build_inn()` returns the FrEIA network of
 * `flow`, weights loaded, in evaluation mode (see docs/freia.md, "From
 * freia-ts to FrEIA"). Modules FrEIA lacks (MAF, IAF, the LU 1×1
 * convolution, dequantization, logit, …), custom modules and user subnets
 * are refused with a {@link FreiaExportError} naming every such node. Reads
 * the weights synchronously.
 *
 * @example
 * ```ts
 * import { exportFreia, inn, subnets } from 'freia-ts';
 * const flow = inn.input([4]).allInOne({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const python = exportFreia(flow); // write it to model.py; in Python: from model import build_inn
 * ```
 *
 * @group Import/export
 */
export function exportFreia(flow: AnyFlow, options: ExportFreiaOptions = {}): string {
  if (flow.isDisposed) throw new DisposedError('exportFreia: the flow has been disposed');
  const nodes = flow.graph.nodes;
  const refusals: ExportRefusal[] = [];
  const subnets = new Map<string, SubnetSpec>();
  const python = new Map<number, PythonModule>();
  const classes = new Map<string, string>();
  for (const [i, node] of nodes.entries()) {
    if (node.kind !== 'module') continue;
    const kind = className(node.module.kind);
    const refuse = (reason: string) => refusals.push({ node: node.name, kind, reason });
    const reason = exportable(node);
    if (reason) {
      refuse(reason);
      continue;
    }
    // Cast: a definition's args are its options object.
    const args = node.module.args as Record<string, unknown>;
    if (kind === 'Inverse') {
      const inner = args.module as string;
      const innerReason = exportable({ ...node, module: { ...node.module, kind: inner } });
      if (innerReason) {
        refuse(`it wraps a ${inner}, which ${innerReason.replace(/^beyond FrEIA: /, 'is beyond FrEIA: ')}`);
        continue;
      }
      const kwargs = freiaKwargs(inner, (args.args ?? {}) as Record<string, unknown>, subnets, refuse);
      python.set(i, { cls: 'Inverse', kwargs: [], wrapped: { cls: pythonClass(inner, classes), kwargs } });
    } else {
      python.set(i, { cls: pythonClass(kind, classes), kwargs: freiaKwargs(kind, args, subnets, refuse) });
    }
  }
  if (refusals.length) throw new FreiaExportError(refusals);

  const weights: string[] = [];
  const derived: string[] = [];
  for (const [i, node] of nodes.entries()) {
    if (node.kind !== 'module') continue;
    const module = flow.modules[i]!;
    // Cast: a definition's args are its options object.
    const keys = derivedKeys(node.module.kind, node.module.args as Record<string, unknown>);
    const state = module.freiaState();
    // Buffers FrEIA computes from its arguments (Haar's weights, the splines' bins) are its own: ours may be laid out
    // otherwise. A permutation's inverse is derived from a weight, not an argument: it travels with the permutation.
    const travels = new Set(permutationKeys(node.module.kind, node.module.args as Record<string, unknown>));
    for (const key of keys) {
      if (module.params.has(key) && !travels.has(key)) {
        state.get(key)?.dispose();
        state.delete(key);
      }
    }
    try {
      const entries = [...state].map(([key, value]) => {
        const dtype = value.dtype === 'int32' || value.dtype === 'bool' ? value.dtype : 'float32';
        return `        ${JSON.stringify(key)}: (${JSON.stringify(PYTHON_DTYPE[dtype])}, ${pythonLiteral(value.shape)}, ${JSON.stringify(encode(value.dataSync(), dtype))}),`;
      });
      weights.push(`    ${JSON.stringify(node.name)}: {\n${entries.join('\n')}\n    },`);
    } finally {
      for (const value of state.values()) value.dispose();
    }
    if (keys.length) derived.push(`    ${JSON.stringify(node.name)}: ${pythonLiteral(keys)},`);
  }

  const chain = (options.form ?? 'auto') === 'auto' && isChain(flow);
  const conditions = nodes.flatMap((n, i) => (n.kind === 'condition' ? [i] : []));
  const instance = (module: PythonModule, dims: string) => `${module.wrapped!.cls}(${[dims, ...module.wrapped!.kwargs].join(', ')})`;
  const body: string[] = [];
  const names = nodes.flatMap((n) => (n.kind === 'module' ? [n.name] : []));
  if (chain) {
    const input = nodes.find((n) => n.kind === 'input')!;
    body.push(`    inn = Ff.SequenceINN(${shapeArgs(input.kind === 'input' ? input.shape : [])})`);
    for (const [i, node] of nodes.entries()) {
      if (node.kind !== 'module') continue;
      const module = python.get(i)!;
      const cond = node.conditions.length ? [`cond=${conditions.indexOf(node.conditions[0])}`, `cond_shape=(${shapeArgs(node.module.conditionShapes[0])},)`] : [];
      if (module.wrapped) {
        const dimsC = node.conditions.length ? `, dims_c=[(${shapeArgs(node.module.conditionShapes[0])},)]` : '';
        body.push(`    inn.append(Inverse(${instance(module, `[(${shapeArgs(node.module.inputShapes[0])},)]${dimsC}`)})${cond.length ? `, ${cond[0]}` : ''})`);
      } else {
        body.push(`    inn.append(${[module.cls, ...cond, ...module.kwargs].join(', ')})`);
      }
    }
    body.push(`    inn.node_names = ${pythonLiteral(names)}`);
    body.push('    for name, module in zip(inn.node_names, inn.module_list):');
    body.push('        _load(name, module)');
  } else {
    const ref = (r: TensorRef) => `(${identifier(r.node)}, ${r.output})`;
    for (const [i, node] of nodes.entries()) {
      const name = `name=${JSON.stringify(node.name)}`;
      if (node.kind === 'input') body.push(`    ${identifier(i)} = Ff.InputNode(${shapeArgs(node.shape)}, ${name})`);
      else if (node.kind === 'condition') body.push(`    ${identifier(i)} = Ff.ConditionNode(${shapeArgs(node.shape)}, ${name})`);
      else if (node.kind === 'output') body.push(`    ${identifier(i)} = Ff.OutputNode(${ref(node.input)}, ${name})`);
      else {
        const module = python.get(i)!;
        const inputs = `[${node.inputs.map(ref).join(', ')}]`;
        const conds = node.conditions.length ? `, conditions=[${node.conditions.map(identifier).join(', ')}]` : '';
        if (module.wrapped) {
          const dims = `[${node.module.inputShapes.map((s) => `(${shapeArgs(s)},)`).join(', ')}]`;
          const dimsC = node.conditions.length ? `, dims_c=[${node.module.conditionShapes.map((s) => `(${shapeArgs(s)},)`).join(', ')}]` : '';
          body.push(`    ${identifier(i)} = Ff.Node(${inputs}, Inverse(${instance(module, `${dims}${dimsC}`)}), None${conds}, ${name})`);
        } else {
          body.push(`    ${identifier(i)} = Ff.Node(${inputs}, ${module.cls}, {${module.kwargs.map((kw) => kw.replace(/^(\w+)=/, '"$1": ')).join(', ')}}${conds}, ${name})`);
        }
      }
    }
    body.push(`    inn = Ff.GraphINN([${nodes.map((_, i) => identifier(i)).join(', ')}])`);
    body.push(`    for node in [${nodes.flatMap((n, i) => (n.kind === 'module' ? [identifier(i)] : [])).join(', ')}]:`);
    body.push('        _load(node.name, node.module)');
  }
  body.push('    inn.eval()', '    return inn');

  const title = options.name ?? 'model';
  const inputNames = nodes.filter((n) => n.kind === 'input').map((n) => n.name);
  const conditionNames = conditions.map((i) => nodes[i].name);
  const outputNames = nodes.filter((n) => n.kind === 'output').map((n) => n.name);
  return [
    `"""FrEIA network ${JSON.stringify(title)}, exported by freia-ts (exportFreia).`,
    '',
    `build_inn() returns the ${chain ? 'SequenceINN' : 'GraphINN'} with its weights loaded, in evaluation mode.`,
    `Inputs: ${inputNames.join(', ')}; conditions (c=[...]): ${conditionNames.join(', ') || 'none'}; outputs: ${outputNames.join(', ')}.`,
    'Tensors are channels first, batch first, as in FrEIA. Needs FrEIA, torch and numpy.',
    '"""',
    PRELUDE,
    '',
    ...[...subnets.values()].map((spec) => `${subnetSource(spec)}\n`),
    ...[...classes.values()].map((source) => `${source}\n`),
    `# Each node's state-dict entries: (numpy dtype, shape, little-endian bytes in base64).`,
    `WEIGHTS = {\n${weights.join('\n')}\n}`,
    '',
    `# Entries FrEIA computes from the constructor's arguments (not exported).`,
    `DERIVED = {\n${derived.join('\n')}\n}`,
    '',
    '',
    LOADER,
    '',
    'def build_inn():',
    ...body,
    '',
  ].join('\n');
}

/** The Python class of a kind: the export's own subclass where the catalogue gives one (noted in `classes`), else FrEIA's. */
function pythonClass(kind: string, classes: Map<string, string>): string {
  const source = moduleSpec(kind).freia?.pythonClass;
  if (!source) return `Fm.${kind}`;
  classes.set(kind, source);
  return kind;
}

/** The permutation buffers of a kind (`w_perm`, `w_perm_inv`), under `module.` inside FrEIA's Inverse. */
function permutationKeys(kind: string, args: Record<string, unknown>): string[] {
  if (kind === 'Inverse' && typeof args.module === 'string') return permutationKeys(args.module, {}).map((key) => `module.${key}`);
  return (moduleSpec(kind).permutations ?? []).flat();
}

/** Why a module node cannot be exported, or undefined when it can. */
function exportable(node: ModuleNodeDef): string | undefined {
  const kind = node.module.kind;
  if (!BUILT_IN_KINDS.has(kind)) return 'a custom module: FrEIA has no such class (write its FrEIA twin by hand)';
  return moduleSpec(kind).freia?.notExported;
}
