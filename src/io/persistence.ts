/**
 * Saving and loading a flow through `tf.io`, the way tfjs-layers saves a
 * `LayersModel`: `await saveFlow(flow, 'indexeddb://my-flow')`, then
 * `await loadFlow('indexeddb://my-flow')`. Any `tf.io` URL scheme works
 * (`indexeddb://`, `localstorage://`, `downloads://`, `http(s)://`, and
 * `file://` in Node with `freia-ts/node` or tfjs-node imported), and so does
 * any `tf.io.IOHandler` object. What is saved is described in
 * saved-format.ts.
 *
 * A user's subnet function is saved when it returns tfjs-layers models
 * (`tf.sequential`, `tf.model`): their architectures as `{ "$layers": ... }`,
 * their weights with the flow's. Any other user function cannot be saved,
 * and saving fails naming the node. Custom modules are saved by class name; pass the classes to
 * {@link loadFlow} to bring them back. Documents in the previous format
 * (`freia-ts/1`, one JSON object) still load: pass the parsed object.
 */
import * as tf from '@tensorflow/tfjs';
import type { NodeDef } from '../core/graph.js';
import { className, deepFreeze } from '../core/graph.js';
import { Flow, type AnyFlow } from '../runtime/flow.js';
import { DisposedError, FreiaError, ValidationError, formatShape } from '../core/errors.js';
import { checkOptions, copyPlain, describeValue, permutationProblem } from '../core/validation.js';
import { defineModule, moduleSpec } from '../modules/catalogue.js';
import { customKind, type CustomModuleClass } from '../modules/custom.js';
import { checkExpectedFlow, type ExpectedFlow, type FlowExpectationOf } from './expectation.js';
import {
  FLOW_FORMAT, FLOW_FORMAT_VERSION, FlowFormatError, flowTopology, isFlowDocument, loadArgs, readDocument, readSaved, sameShape, separateBase,
  weightValues, type FlowDocument, type Saved,
} from './saved-format.js';

/**
 * Where {@link saveFlow} writes: a `tf.io` URL (`'indexeddb://name'`, ...) or an `IOHandler` with `save`.
 *
 * @group Import/export
 */
export type FlowDestination = string | tf.io.IOHandler;
/**
 * What {@link loadFlow} reads: a `tf.io` URL, an `IOHandler` with `load`, or a parsed `freia-ts/1` document.
 *
 * @group Import/export
 */
export type FlowSource = string | tf.io.IOHandler | FlowDocument;

/**
 * Options of {@link loadFlow}.
 *
 * @group Import/export
 */
export interface LoadFlowOptions {
  /** The custom module classes the flow uses, by class name: `{ modules: { MyModule } }`. */
  readonly modules?: Readonly<Record<string, CustomModuleClass<never>>>;
  /** Passed to `tf.io`'s handler for a URL (`requestInit`, `fetchFunc`, `onProgress`, ...). */
  readonly loadOptions?: tf.io.LoadOptions;
}

// ------------------------------------------------------------------ saving ----

/** The `tf.io` artifacts of a flow: topology plus binary weights named `<node>/<param>`. */
export async function flowArtifacts(flow: AnyFlow): Promise<tf.io.ModelArtifacts> {
  // A disposed flow would be written without its weights, and then not load.
  if (flow.isDisposed) throw new DisposedError('saveFlow: the flow has been disposed');
  const modelTopology = flowTopology(flow);
  const named: tf.NamedTensorMap = {};
  flow.graph.nodes.forEach((node, i) => {
    for (const [param, variable] of flow.modules[i]?.params ?? []) {
      if (variable.isDisposed) throw new DisposedError(`saveFlow: node "${node.name}": weight "${param}" has been disposed`);
      // defineProperty: a node named "__proto__" must stay an own key of the map.
      Object.defineProperty(named, `${node.name}/${param}`, { value: variable, enumerable: true });
    }
  });
  const { data, specs } = await tf.io.encodeWeights(named);
  return { modelTopology, format: FLOW_FORMAT, generatedBy: `freia-ts (format version ${FLOW_FORMAT_VERSION})`, convertedBy: null, weightSpecs: specs, weightData: data };
}

/** The one handler a URL resolves to, as tfjs-layers' `model.save` and `loadLayersModel` pick it. */
export function handlerFor(url: string, kind: 'save' | 'load', loadOptions?: tf.io.LoadOptions): tf.io.IOHandler {
  const handlers = kind === 'save' ? tf.io.getSaveHandlers(url) : tf.io.getLoadHandlers(url, loadOptions);
  // loadLayersModel treats a URL no router claims as a relative http(s) path; so do we, but
  // only for a URL without a scheme: fetching 'indexeddb://x' in Node would only hide the real problem.
  if (handlers.length === 0 && kind === 'load' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return tf.io.browserHTTPRequest(url, loadOptions);
  if (handlers.length === 0) {
    const hint = url.startsWith('file://') ? " (in Node, import 'freia-ts/node' or @tensorflow/tfjs-node to register file://)" : ' (indexeddb://, localstorage:// and downloads:// exist only in a browser)';
    throw new FreiaError(`cannot find any ${kind} handlers for URL '${url}'${hint}`);
  }
  if (handlers.length > 1) throw new FreiaError(`found more than one (${handlers.length}) ${kind} handlers for URL '${url}'`);
  return handlers[0];
}

/**
 * Saves a flow's architecture and weights through `tf.io`, like tfjs-layers'
 * `model.save`: to a URL (`'indexeddb://name'`, `'localstorage://name'`,
 * `'downloads://name'`, `'http(s)://…'`, `'file://dir'` in Node with
 * `freia-ts/node`) or to any `tf.io.IOHandler` ({@link memoryHandler} keeps
 * it in memory). Returns the handler's `SaveResult`.
 *
 * Fails with an `UnsavableSubnetError` naming the node for a flow with a
 * user-written subnet function that does not return tfjs-layers models
 * (`subnets.mlp`/`subnets.conv` and `tf.sequential`/`tf.model` subnets
 * have a description to save).
 *
 * @example
 * ```ts
 * import { inn, subnets, saveFlow, loadFlow, memoryHandler } from 'freia-ts';
 * const flow = inn.input([2]).allInOne({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const store = memoryHandler();          // in a browser: 'indexeddb://my-flow'
 * await saveFlow(flow, store);
 * const again = await loadFlow(store);    // same numbers
 * ```
 *
 * @group Import/export
 */
export async function saveFlow(flow: AnyFlow, destination: FlowDestination): Promise<tf.io.SaveResult> {
  if (flow === null || typeof flow !== 'object' || !Array.isArray(flow.modules)) throw new ValidationError('saveFlow', 'flow', 'a flow', describeValue(flow));
  const handler = typeof destination === 'string' ? handlerFor(destination, 'save') : destination;
  if (typeof handler?.save !== 'function') throw new FreiaError('saveFlow: the IOHandler has no save method');
  return handler.save(await flowArtifacts(flow));
}

// ----------------------------------------------------------------- loading ----

/** The module kind to instantiate for each saved kind; unknown kinds are problems. */
function resolveKinds(saved: Saved, modules: LoadFlowOptions['modules'], problems: string[]): Map<string, string> {
  const classes = new Map(Object.entries(modules ?? {}));
  const kinds = new Map<string, string>();
  saved.graph.nodes.forEach((node, i) => {
    if (node.kind !== 'module' || kinds.has(node.module.kind)) return;
    const name = node.module.kind;
    const cls = classes.get(name);
    if (cls) {
      try {
        kinds.set(name, customKind(cls as CustomModuleClass<unknown>)); // a class taking any arguments is a CustomModuleClass<unknown>
      } catch (error) {
        problems.push(`options.modules.${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      return;
    }
    let registered = !saved.customModules.includes(name);
    if (registered) {
      try {
        moduleSpec(name);
      } catch {
        registered = false;
      }
    }
    if (registered) kinds.set(name, name);
    else problems.push(`${saved.field}.nodes[${i}].module.kind: unknown module kind "${name}" at node "${node.name}" (custom modules are passed as loadFlow(source, { modules: { ${name} } }))`);
  });
  return kinds;
}

/**
 * Checks every module node against its kind's rules (options, shape rule,
 * declared output shapes) and its permutation buffers, before any tensor
 * exists. A custom kind's rule asks a probe instance, which is freed.
 */
function checkModules(saved: Saved, nodes: readonly NodeDef[], problems: string[]): void {
  nodes.forEach((node, i) => {
    if (node.kind !== 'module') return;
    const at = `${saved.field}.nodes[${i}]`;
    try {
      const ours = defineModule(node.name, node.module.kind, node.module.args, node.module.inputShapes, node.module.conditionShapes).outputShapes;
      const declared = node.module.outputShapes;
      if (ours.length !== declared.length || ours.some((s, k) => !sameShape(s, declared[k]))) {
        problems.push(`${at}.module.outputShapes: is ${declared.map(formatShape).join(', ')}, but ${className(node.module.kind)} on ${node.module.inputShapes.map(formatShape).join(', ')} gives ${ours.map(formatShape).join(', ')} (node "${node.name}")`);
      }
    } catch (error) {
      problems.push(`${at} (node "${node.name}"): ${error instanceof Error ? error.message : String(error)}`);
    }
    for (const [perm, inverse] of moduleSpec(node.module.kind).permutations ?? []) {
      const [p, q] = [weightValues(saved, `${node.name}/${perm}`), weightValues(saved, `${node.name}/${inverse}`)];
      if (!(p instanceof Int32Array)) continue; // a soft permutation (a float matrix) or a missing weight, reported later
      const problem = permutationProblem(p, q instanceof Int32Array ? q : undefined);
      if (problem) problems.push(`node "${node.name}": weight "${perm}" is not a permutation with its inverse "${inverse}": ${problem}`);
    }
  });
}

/** Builds the flow and fills its parameters; on any problem nothing stays allocated. */
function buildFlow(saved: Saved, options: LoadFlowOptions): Flow {
  const problems: string[] = [];
  const kinds = resolveKinds(saved, options.modules, problems);
  const nodes = saved.graph.nodes.map((node, i): NodeDef => {
    if (node.kind !== 'module') return node;
    const args = loadArgs(node.module.args, `${saved.field}.nodes[${i}].module.args`, problems) as Record<string, unknown>; // an object stays an object
    return { ...node, module: { ...node.module, kind: kinds.get(node.module.kind) ?? node.module.kind, args } };
  });
  if (problems.length) throw new FlowFormatError(problems);
  checkModules(saved, nodes, problems);
  if (problems.length) throw new FlowFormatError(problems);

  let flow: Flow;
  try {
    flow = new Flow(deepFreeze({ nodes }));
  } catch (error) {
    // the constructor frees whatever it made before failing
    throw new FlowFormatError([error instanceof Error ? error.message : String(error)]);
  }
  try {
    fillWeights(flow, saved, problems);
  } catch (error) {
    flow.dispose();
    throw error;
  }
  if (problems.length) {
    flow.dispose();
    throw new FlowFormatError(problems);
  }
  return flow;
}

/** Matches every weight to a parameter (collecting problems) and, when all fit, assigns them. */
function fillWeights(flow: Flow, saved: Saved, problems: string[]): void {
  const specs = new Map(saved.specs.map((spec) => [spec.name, spec]));
  const used = new Set<string>();
  const targets: [tf.Variable, string][] = [];
  flow.graph.nodes.forEach((node, i) => {
    for (const [param, variable] of flow.modules[i]?.params ?? []) {
      const name = `${node.name}/${param}`;
      const spec = specs.get(name);
      if (!spec) {
        problems.push(`node "${node.name}": missing weight "${param}"`);
        continue;
      }
      used.add(name);
      if (!sameShape(spec.shape, variable.shape)) problems.push(`node "${node.name}": weight "${param}" has shape ${formatShape(spec.shape)}, expected ${formatShape(variable.shape)}`);
      else if (spec.dtype !== variable.dtype) problems.push(`node "${node.name}": weight "${param}" has dtype "${spec.dtype}", expected "${variable.dtype}"`);
      else targets.push([variable, name]);
    }
  });
  const moduleNodes = flow.graph.nodes.filter((n) => n.kind === 'module').map((n) => n.name);
  const strays = new Set<string>(saved.strays);
  for (const name of specs.keys()) {
    if (used.has(name)) continue;
    // node names may contain '/', so the owner is the longest module node name that prefixes the weight's
    const owner = moduleNodes.filter((n) => name.startsWith(`${n}/`)).sort((a, b) => b.length - a.length)[0];
    if (owner !== undefined) problems.push(`node "${owner}": weight "${name.slice(owner.length + 1)}" belongs to no parameter`);
    else strays.add(name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : name);
  }
  for (const node of strays) problems.push(`weights for "${node}", which is no module node`);
  if (problems.length) return;
  tf.tidy(() => {
    const values = tf.io.decodeWeights(saved.data, saved.specs);
    for (const [variable, name] of targets) variable.assign(values[name]);
  });
}

/**
 * A flow from what {@link saveFlow} wrote (a `tf.io` URL or an `IOHandler`
 * with `load`), or from a parsed `freia-ts/1` document of earlier versions,
 * like tfjs-layers' `loadLayersModel`. A URL no `tf.io` router claims is
 * fetched as a relative http(s) path, as `loadLayersModel` does.
 *
 * Custom module classes used by the flow are passed by class name
 * (`{ modules: { MyModule } }`). Every problem (a malformed field, an unknown
 * kind, a missing, mis-shaped or stray weight) is reported at once in a
 * {@link FlowFormatError}, and nothing is left allocated.
 *
 * @example
 * ```ts
 * import { inn, subnets, saveFlow, loadFlow, memoryHandler } from 'freia-ts';
 * const store = memoryHandler();
 * await saveFlow(inn.input([4]).glow({ subnet: subnets.mlp({ hidden: 16 }) }).build(), store);
 * const flow = await loadFlow(store);   // or loadFlow('indexeddb://my-flow'), loadFlow('https://example.com/flow/model.json')
 * ```
 *
 * A saved document has no TypeScript types, so `flow` above is a `Flow` of
 * unknown shapes. Say which flow it should be with `expect`, and it comes
 * back typed, after a check of the document (a {@link FlowMismatchError}
 * listing each difference, before anything is allocated):
 *
 * ```ts
 * import { inn, subnets, saveFlow, loadFlow, memoryHandler } from 'freia-ts';
 * const store = memoryHandler();
 * const network = () => inn.input([4]).glow({ subnet: subnets.mlp({ hidden: 16 }) }).split([2, 2]);
 * await saveFlow(network().build(), store);
 * const byChain = await loadFlow(store, { expect: network() });                      // Flow<[[4]], [[2], [2]], []>
 * const byShapes = await loadFlow(store, { expect: { inputs: [[4]], outputs: [[2], [2]] } });
 * ```
 *
 * @group Import/export
 */
export async function loadFlow<const E extends FlowExpectationOf>(source: FlowSource, options: LoadFlowOptions & { readonly expect: E }): Promise<ExpectedFlow<E>>;
export async function loadFlow(source: FlowSource, options?: LoadFlowOptions): Promise<Flow>;
export async function loadFlow(source: FlowSource, options: LoadFlowOptions & { readonly expect?: unknown } = {}): Promise<Flow> {
  checkOptions('loadFlow', options, LOAD_OPTIONS);
  const problems: string[] = [];
  let saved: Saved | undefined;
  // Copies: checking and freezing the definition must not touch (or freeze) the caller's objects.
  if (isFlowDocument(source)) saved = readDocument(copyPlain(source), problems);
  else {
    // not a freia-ts/1 document, so a URL or (checked next) a handler
    const handler = typeof source === 'string' ? handlerFor(source, 'load', options.loadOptions) : (source as tf.io.IOHandler);
    if (handler === null || typeof handler !== 'object' || typeof handler.load !== 'function') {
      throw new ValidationError('loadFlow', 'source', 'a URL, an IOHandler with a load method, or a freia-ts/1 document', describeValue(source));
    }
    // A model saved with its base (saveModel) loads as its flow.
    const loaded: unknown = await handler.load();
    const artifacts: unknown = loaded !== null && typeof loaded === 'object' ? separateBase(loaded as tf.io.ModelArtifacts).flow : loaded;
    const copy = artifacts !== null && typeof artifacts === 'object' ? { ...artifacts, modelTopology: copyPlain((artifacts as tf.io.ModelArtifacts).modelTopology) } : artifacts;
    saved = readSaved(copy, problems);
  }
  if (!saved || problems.length) throw new FlowFormatError(problems);
  checkExpectedFlow('loadFlow', saved.graph, options.expect);
  return buildFlow(saved, options);
}

/** The options every loader takes (loadFlow, loadModel): custom module classes and tf.io's load options. */
export const SOURCE_OPTIONS = {
  modules: { expected: 'an object of custom module classes by name', test: (v: unknown) => v !== null && typeof v === 'object' && Object.values(v).every((c) => typeof c === 'function') },
  loadOptions: { expected: 'tf.io load options (an object)', test: (v: unknown) => v !== null && typeof v === 'object' },
} as const;

/** The options {@link loadFlow} takes. */
const LOAD_OPTIONS = {
  ...SOURCE_OPTIONS,
  // checked against the document by checkExpectedFlow, which names what is wrong with it
  expect: { expected: 'shapes or an unbuilt chain', test: () => true },
} as const;

/**
 * An `IOHandler` that keeps what is saved to it in memory (see {@link memoryHandler}).
 *
 * @group Import/export
 */
export interface MemoryHandler extends tf.io.IOHandler {
  /** The artifacts saved last, if any. */
  readonly artifacts: tf.io.ModelArtifacts | undefined;
  /**
   * Stores the artifacts in `artifacts`.
   *
   * @example
   * ```ts
   * import { inn, saveFlow, memoryHandler } from 'freia-ts';
   * const store = memoryHandler();
   * await saveFlow(inn.input([3]).actNorm().build(), store); // calls store.save(artifacts)
   * console.log(store.artifacts?.weightSpecs?.length); // 3
   * ```
   */
  save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult>;
  /**
   * Returns the stored artifacts (an error when nothing was saved).
   *
   * @example
   * ```ts
   * import { inn, saveFlow, loadFlow, memoryHandler } from 'freia-ts';
   * const store = memoryHandler();
   * await saveFlow(inn.input([3]).actNorm().build(), store);
   * const flow = await loadFlow(store); // calls store.load()
   * const copy = memoryHandler();
   * await copy.save(await store.load()); // or hand the artifacts to another handler
   * ```
   */
  load(): Promise<tf.io.ModelArtifacts>;
}

/**
 * A `tf.io.IOHandler` that keeps the artifacts in memory: save a flow to it,
 * load a flow from it, or read `artifacts` (what `tf.io.fromMemory` takes).
 * Loading before anything was saved fails.
 *
 * @example
 * ```ts
 * import { inn, saveFlow, loadFlow, memoryHandler } from 'freia-ts';
 * const store = memoryHandler();
 * await saveFlow(inn.input([3]).actNorm({ name: 'norm' }).build(), store);
 * console.log(store.artifacts?.weightSpecs?.map((s) => s.name)); // ['norm/log_scale', 'norm/loc', 'norm/is_initialized']
 * const flow = await loadFlow(store);
 * ```
 *
 * @group Import/export
 */
export function memoryHandler(): MemoryHandler {
  let saved: tf.io.ModelArtifacts | undefined;
  return {
    get artifacts() {
      return saved;
    },
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      saved = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      if (!saved) throw new FreiaError('memoryHandler: nothing has been saved to it yet');
      return saved;
    },
  };
}
