/**
 * `verifyFreia`: re-runs the evaluations a FrEIA export recorded and compares
 * them with FrEIA's numbers, and refuses to pass what it could not check: a
 * file without evaluations, with malformed or emptied reference tensors, or
 * with parameters changed since the export fails, naming the case, the node
 * and the parameter where the file lets them be located.
 */
import * as tf from '@tensorflow/tfjs';
import { crc32Hex } from '../core/checksum.js';
import { formatShape } from '../core/errors.js';
import { describeValue } from '../core/validation.js';
import { toInternal, toPublic } from '../math/layout.js';
import type { Flow } from '../runtime/flow.js';
import { importFreia, isObject, tensorProblems, toTensor, type FreiaCase, type FreiaDocument, type FreiaNode, type FreiaTensor } from './freia.js';

/**
 * Largest absolute error and the reference's scale for one comparison.
 *
 * @group Import/export
 */
export interface Deviation {
  /** The largest absolute error against the reference. */
  readonly error: number;
  /** The reference's largest absolute value. */
  readonly scale: number;
}

/**
 * One file's verification result.
 *
 * @group Import/export
 */
export interface VerifyReport {
  /** The document's name. */
  readonly name: string;
  /** The recorded evaluations that were run and compared. */
  readonly cases: number;
  /** Forward outputs against FrEIA's. */
  readonly outputs: Deviation;
  /** Forward log-det against FrEIA's. */
  readonly logDet: Deviation;
  /** Inverse outputs (the inputs again) against FrEIA's. */
  readonly inputs: Deviation;
  /** Inverse log-det against FrEIA's. */
  readonly reverseLogDet: Deviation;
  /** How log-dets were judged: exactly, loosely (stochastic estimates), or against a known FrEIA defect. */
  readonly logDetMode: 'exact' | 'stochastic' | 'known-defect';
  /** Whether every figure is within {@link TOLERANCE} and there are no problems. */
  readonly ok: boolean;
  /**
   * Why the file fails besides the four figures, each naming its place: no evaluations, a malformed
   * case, a parameter changed since the export, the first node whose outputs differ.
   */
  readonly problems: readonly string[];
  /** Remarks that do not fail the file (a known FrEIA defect, a stochastic log-det). */
  readonly notes: readonly string[];
}

/**
 * Tolerances: outputs and inputs 1e-4 relative to their scale, log-dets 1e-3; stochastic log-dets loosely.
 *
 * @group Import/export
 */
export const TOLERANCE = {
  /** Outputs and inputs, relative to their scale. */
  values: 1e-4,
  /** Log-dets, relative to their scale. */
  logDet: 1e-3,
  /** Stochastic log-det estimates (Hutchinson), loosely. */
  stochasticLogDet: 0.5,
} as const;

/** Largest absolute error of our values against the reference's (as float32), and the reference's scale. */
function deviation(values: ArrayLike<number>, reference: FreiaTensor): Deviation {
  let error = 0;
  let scale = 0;
  reference.data.forEach((r, i) => {
    error = Math.max(error, Math.abs(values[i] - Math.fround(r)));
    scale = Math.max(scale, Math.abs(r));
  });
  return { error, scale };
}

const relative = (d: Deviation) => d.error / Math.max(1, d.scale);
const merge = (a: Deviation, b: Deviation): Deviation => ({ error: Math.max(a.error, b.error), scale: Math.max(a.scale, b.scale) });

const nodesOfKind = (doc: FreiaDocument, kind: FreiaNode['kind']) => doc.graph.nodes.filter((n) => n.kind === kind);

/**
 * Problems with one recorded evaluation: every tensor well formed, one per
 * node, of the node's shape with one batch size of at least one sample.
 */
function caseProblems(doc: FreiaDocument, value: unknown, at: string): string[] {
  if (!isObject(value)) return [`${at}: expected { inputs, conditions, outputs, log_jac_det, rev_inputs, rev_log_jac_det }, got ${describeValue(value)}`];
  const problems: string[] = [];
  let batch: number | undefined;
  const check = (t: unknown, where: string, shape: readonly number[]) => {
    const found = tensorProblems(t, where);
    if (found.length) return void problems.push(...found);
    const actual = (t as FreiaTensor).shape;
    batch ??= actual[0];
    const expected = [batch ?? 1, ...shape];
    if (batch === undefined || batch < 1) problems.push(`${where}: expected at least one sample, got shape ${formatShape(actual)}`);
    else if (formatShape(actual) !== formatShape(expected)) problems.push(`${where}: expected shape ${formatShape(expected)} (batch ${batch}, as in ${at}.inputs[0]), got ${formatShape(actual)}`);
  };
  const list = (field: string, nodes: readonly { name: string; shape: readonly number[] }[]) => {
    const tensors = value[field];
    if (!Array.isArray(tensors) || tensors.length !== nodes.length) {
      problems.push(`${at}.${field}: expected ${nodes.length} tensor(s), one per node (${nodes.map((n) => `"${n.name}"`).join(', ') || 'none'}), got ${Array.isArray(tensors) ? tensors.length : describeValue(tensors)}`);
    } else tensors.forEach((t, j) => check(t, `${at}.${field}[${j}]`, nodes[j].shape));
  };
  const inputs = nodesOfKind(doc, 'input') as { name: string; shape: readonly number[] }[];
  list('inputs', inputs);
  list('conditions', nodesOfKind(doc, 'condition') as { name: string; shape: readonly number[] }[]);
  list('outputs', nodesOfKind(doc, 'output') as { name: string; shape: readonly number[] }[]);
  list('rev_inputs', inputs);
  check(value.log_jac_det, `${at}.log_jac_det`, []);
  check(value.rev_log_jac_det, `${at}.rev_log_jac_det`, []);
  if (value.nodes !== undefined) {
    if (!isObject(value.nodes)) problems.push(`${at}.nodes: expected an object of tensors by module node name, got ${describeValue(value.nodes)}`);
    else {
      for (const [name, tensors] of Object.entries(value.nodes)) {
        const node = doc.graph.nodes.find((n) => n.name === name);
        if (!node || node.kind !== 'module') problems.push(`${at}.nodes["${name}"]: no module node of that name`);
        else if (!Array.isArray(tensors) || tensors.length !== node.output_shapes.length) problems.push(`${at}.nodes["${name}"]: expected ${node.output_shapes.length} tensor(s), got ${Array.isArray(tensors) ? tensors.length : describeValue(tensors)}`);
        else tensors.forEach((t, j) => check(t, `${at}.nodes["${name}"][${j}]`, node.output_shapes[j]));
      }
    }
  }
  return problems;
}

/** The bytes a parameter's CRC-32 is taken over: the values as read, float32, int32 or one byte per bool, little-endian. */
function parameterBytes(t: FreiaTensor): Uint8Array {
  const integer = t.dtype === 'int64' || t.dtype === 'int32';
  const width = t.dtype === 'bool' ? 1 : 4;
  const view = new DataView(new ArrayBuffer(t.data.length * width));
  t.data.forEach((v, i) => {
    if (width === 1) view.setUint8(i, v ? 1 : 0);
    else if (integer) view.setInt32(i * 4, v, true);
    else view.setFloat32(i * 4, v, true);
  });
  return new Uint8Array(view.buffer);
}

/** Parameters whose CRC-32 differs from the one recorded at export, each named with its node. */
function checksumProblems(doc: FreiaDocument): string[] {
  const recorded = doc.param_crc32;
  if (recorded === undefined) return [];
  if (!isObject(recorded)) return [`param_crc32: expected an object of 8-hex-digit CRC-32s by parameter key, got ${describeValue(recorded)}`];
  const owner = (key: string) => doc.graph.nodes.find((n) => n.kind === 'module' && key.startsWith(n.param_prefix))?.name;
  const problems: string[] = [];
  for (const [key, crc] of Object.entries(recorded)) {
    if (typeof crc !== 'string' || !/^[0-9a-f]{8}$/i.test(crc)) problems.push(`param_crc32["${key}"]: expected 8 hex digits, got ${describeValue(crc)}`);
    else if (!(key in doc.params)) problems.push(`param_crc32["${key}"]: the file has no parameter "${key}"`);
    else {
      const actual = crc32Hex(parameterBytes(doc.params[key]));
      const node = owner(key);
      if (actual !== crc.toLowerCase()) problems.push(`parameter "${key}"${node ? ` of node "${node}"` : ''} has changed since the export (CRC-32 ${actual}, recorded ${crc.toLowerCase()})`);
    }
  }
  return problems;
}

/** Which figure of the report a comparison feeds (`reverseNegated`: −our reverse log-det, for FrEIA's known defect). */
type Slot = 'outputs' | 'logDet' | 'inputs' | 'reverseLogDet' | 'reverseNegated';
interface Comparison {
  readonly slot: Slot;
  readonly ours: tf.Tensor;
  readonly reference: FreiaTensor;
}

/** Runs one recorded case forward and in reverse; our tensors stay on the device until the caller reads them. */
function runCase(flow: Flow, c: FreiaCase): Comparison[] {
  const slots: [Slot, FreiaTensor][] = [];
  const kept = tf.tidy(() => {
    const tensors: tf.Tensor[] = [];
    const add = (slot: Slot, ours: tf.Tensor | tf.Tensor[], reference: readonly FreiaTensor[]) => {
      (Array.isArray(ours) ? ours : [ours]).forEach((t, k) => {
        tensors.push(t);
        slots.push([slot, reference[k]]);
      });
    };
    const cs = c.conditions.map(toTensor);
    const fwd = flow.forward(c.inputs.map(toTensor), { c: cs });
    add('outputs', fwd.out, c.outputs);
    add('logDet', fwd.logDet, [c.log_jac_det]);
    const inv = flow.inverse(c.outputs.map(toTensor), { c: cs });
    add('inputs', inv.out, c.rev_inputs);
    add('reverseLogDet', inv.logDet, [c.rev_log_jac_det]);
    add('reverseNegated', tf.neg(inv.logDet), [c.rev_log_jac_det]);
    return tensors;
  });
  return kept.map((ours, i) => ({ slot: slots[i][0], reference: slots[i][1], ours }));
}

/** One module node run alone on FrEIA's recorded inputs of it, against FrEIA's recorded outputs. */
interface NodeCheck {
  readonly node: string;
  readonly comparisons: readonly { readonly ours: tf.Tensor; readonly reference: FreiaTensor }[];
}

/**
 * Each module node whose inputs and outputs the case records, run alone on
 * those inputs (forward, in graph order): the first whose outputs differ is
 * where our network and FrEIA's part.
 */
function nodeChecks(doc: FreiaDocument, flow: Flow, c: FreiaCase): NodeCheck[] {
  const records = c.nodes ?? {};
  const inputs = nodesOfKind(doc, 'input').map((n) => n.name);
  const conditions = nodesOfKind(doc, 'condition').map((n) => n.name);
  const recordedValue = ([name, output]: readonly [string, number]): FreiaTensor | undefined => {
    const k = inputs.indexOf(name);
    return k >= 0 ? c.inputs[k] : records[name]?.[output];
  };
  const checks: NodeCheck[] = [];
  for (const n of doc.graph.nodes) {
    if (n.kind !== 'module' || !records[n.name]) continue;
    const xs = n.inputs.map(recordedValue);
    if (xs.some((x) => x === undefined)) continue;
    const index = flow.graph.nodes.findIndex((node) => node.name === n.name);
    const module = flow.modules[index];
    if (!module) continue;
    const outs = tf.tidy(() => {
      const cs = n.conditions.map((name) => toInternal(toTensor(c.conditions[conditions.indexOf(name)])));
      return module.forward(xs.map((x) => toInternal(toTensor(x!))), cs, { rev: false, jac: false }).out.map(toPublic);
    });
    checks.push({ node: n.name, comparisons: outs.map((ours, k) => ({ ours, reference: records[n.name][k] })) });
  }
  return checks;
}

/**
 * Reading results back is synchronous or asynchronous by backend, so the
 * verification is a generator: it yields the tensors it needs read and is
 * resumed with their values, by {@link verifyFreia} or {@link verifyFreiaAsync}.
 */
type Steps<T> = Generator<readonly tf.Tensor[], T, ArrayLike<number>[]>;

/** The judgement by the rules of {@link verifyFreia}. */
function* verifySteps(doc: FreiaDocument): Steps<VerifyReport> {
  const problems: string[] = [];
  const cases = doc.cases;
  if (cases !== undefined && !Array.isArray(cases)) problems.push(`cases: expected a list of recorded evaluations, got ${describeValue(cases)}`);
  else if (!cases || cases.length === 0) problems.push('the file records no evaluations (cases is empty or missing): there is nothing to compare with FrEIA');
  const valid = (Array.isArray(cases) ? cases : []).filter((c: unknown, k) => {
    const found = caseProblems(doc, c, `cases[${k}]`);
    problems.push(...found);
    return found.length === 0;
  });
  problems.push(...checksumProblems(doc));
  const flow = importFreia(doc);
  const notes = doc.notes ?? [];
  const zero: Deviation = { error: 0, scale: 0 };
  const found: Record<Slot, Deviation> = { outputs: zero, logDet: zero, inputs: zero, reverseLogDet: zero, reverseNegated: zero };
  let located = false;
  try {
    for (const c of valid) {
      const comparisons = runCase(flow, c);
      let values: ArrayLike<number>[];
      try {
        values = yield comparisons.map((comparison) => comparison.ours);
      } finally {
        tf.dispose(comparisons.map((comparison) => comparison.ours));
      }
      const caseFound: Partial<Record<Slot, Deviation>> = {};
      comparisons.forEach((comparison, i) => {
        const d = deviation(values[i], comparison.reference);
        found[comparison.slot] = merge(found[comparison.slot], d);
        caseFound[comparison.slot] = merge(caseFound[comparison.slot] ?? zero, d);
      });
      const valuesOff = relative(caseFound.outputs ?? zero) > TOLERANCE.values || relative(caseFound.inputs ?? zero) > TOLERANCE.values;
      if (!valuesOff || located) continue;
      located = true;
      const at = `cases[${cases!.indexOf(c)}]`;
      problems.push((yield* locate(doc, flow, c, at)) ?? `${at}: the outputs differ, and the file records no per-node outputs (cases[].nodes) to tell which node differs`);
    }
  } finally {
    flow.dispose();
  }
  const { outputs, logDet, inputs, reverseLogDet, reverseNegated } = found;
  const valuesOk = relative(outputs) <= TOLERANCE.values && relative(inputs) <= TOLERANCE.values;
  const stochastic = notes.some((n) => /stochastic/i.test(n));
  const reverseDefect = notes.some((n) => /rev_log_jac_det is not -log_jac_det/.test(n));
  let logDetMode: VerifyReport['logDetMode'] = 'exact';
  let logDetOk = relative(logDet) <= TOLERANCE.logDet && relative(reverseLogDet) <= TOLERANCE.logDet;
  if (stochastic) {
    logDetMode = 'stochastic';
    logDetOk = relative(logDet) <= TOLERANCE.stochasticLogDet && relative(reverseLogDet) <= TOLERANCE.stochasticLogDet;
  } else if (!logDetOk && reverseDefect && relative(logDet) <= TOLERANCE.logDet && relative(reverseNegated) <= TOLERANCE.logDet) {
    logDetMode = 'known-defect';
    logDetOk = true;
  }
  return {
    name: doc.name, cases: valid.length, outputs, logDet, inputs, reverseLogDet, logDetMode,
    ok: valuesOk && logDetOk && problems.length === 0, problems, notes,
  };
}

/** Names the first node whose outputs differ from FrEIA's recorded ones, given FrEIA's recorded inputs of it. */
function* locate(doc: FreiaDocument, flow: Flow, c: FreiaCase, at: string): Steps<string | undefined> {
  if (!c.nodes) return undefined;
  const checks = nodeChecks(doc, flow, c);
  try {
    for (const check of checks) {
      const values = yield check.comparisons.map((comparison) => comparison.ours);
      const worst = check.comparisons.reduce((w, comparison, k) => merge(w, deviation(values[k], comparison.reference)), { error: 0, scale: 0 });
      if (relative(worst) <= TOLERANCE.values) continue;
      const node = doc.graph.nodes.find((n) => n.name === check.node) as Extract<FreiaNode, { kind: 'module' }>;
      const params = Object.keys(doc.params).filter((key) => key.startsWith(node.param_prefix));
      return `${at}: the first node whose outputs differ from FrEIA's is "${check.node}" (${node.module}), off by ${worst.error.toExponential(2)} given FrEIA's recorded inputs of it${params.length ? `; its parameters: ${params.map((p) => `"${p}"`).join(', ')}` : ''}`;
    }
    return `${at}: the outputs differ, but every node whose outputs the file records matches FrEIA's on its recorded inputs`;
  } finally {
    tf.dispose(checks.flatMap((check) => check.comparisons.map((comparison) => comparison.ours)));
  }
}

/**
 * Runs every recorded evaluation forward and in reverse and compares with
 * FrEIA's numbers. Outputs and inputs must agree to 1e-4 relative to their
 * scale (max(1, max |reference|)), log-dets to 1e-3. Stochastic log-dets
 * (the notes say so: IResNetLayer's Hutchinson estimate) are compared loosely;
 * where FrEIA's reverse log-det is wrong (notes: "rev_log_jac_det is not
 * -log_jac_det") and ours is its negation, the difference is reported as a
 * known FrEIA defect, not a failure.
 *
 * A file passes only if it was checked: no evaluations, a malformed or
 * emptied case, or a parameter whose recorded CRC-32 (`param_crc32`) no
 * longer matches make it fail, with `problems` saying where. When the
 * outputs differ and the file records per-node outputs (`cases[].nodes`),
 * the first node that differs is named.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { verifyFreia } from 'freia-ts';
 * const report = verifyFreia(JSON.parse(readFileSync('glow.json', 'utf8')));
 * if (!report.ok) console.log(report.problems);
 * ```
 *
 * @group Import/export
 */
export function verifyFreia(doc: FreiaDocument): VerifyReport {
  const steps = verifySteps(doc);
  let next = steps.next();
  while (!next.done) {
    const tensors = next.value;
    let values: ArrayLike<number>[];
    try {
      values = tensors.map((t) => t.dataSync());
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(values);
  }
  return next.value;
}

/**
 * {@link verifyFreia} for every backend, WebGPU in Node included: our
 * results are read back asynchronously.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { verifyFreiaAsync } from 'freia-ts';
 * const report = await verifyFreiaAsync(JSON.parse(readFileSync('glow.json', 'utf8')));
 * console.log(report.ok, report.outputs.error);
 * ```
 *
 * @group Import/export
 */
export async function verifyFreiaAsync(doc: FreiaDocument): Promise<VerifyReport> {
  const steps = verifySteps(doc);
  let next = steps.next();
  while (!next.done) {
    let values: ArrayLike<number>[];
    try {
      values = await Promise.all(next.value.map((t) => t.data()));
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(values);
  }
  return next.value;
}
