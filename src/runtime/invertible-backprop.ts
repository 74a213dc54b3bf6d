/**
 * Gradients by inversion: training memory that does not grow with depth.
 *
 * A run of consecutive module nodes whose inverses are exact (a *segment*)
 * executes as one tfjs operation made with `tf.customGrad`. Its forward pass
 * records nothing on the gradient tape and keeps only the segment's outputs.
 * Its backward pass walks the segment's nodes in reverse: each node's input is
 * recomputed from its output by the inverse pass, then the node's forward is
 * re-run under a tape of its own to give the gradients of its inputs,
 * conditions and parameters (a vector–Jacobian product against the gradient
 * arriving at its outputs and log-det), after which that node's tensors are
 * freed. Held across a training step: the segment's outputs and the
 * parameters; held during the backward pass: one node's recomputation.
 *
 * This is memcnn's and RevNet's scheme (Gomez et al. 2017) on tfjs.
 * Nodes without an exact inverse (a catalogue entry with
 * `recomputeByInversion: false`) end a segment and run on the ordinary tape, keeping
 * their activations.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModuleNodeDef, TensorRef } from '../core/graph.js';
import type { InvertibleModule } from '../modules/index.js';

/** One module node of a segment, in execution order. */
export interface SegmentNode {
  readonly index: number;
  readonly node: ModuleNodeDef;
  readonly module: InvertibleModule;
}

/** Runs one node (the executor's call, which names the node in errors). */
export type NodeCall = (step: SegmentNode, xs: tf.Tensor[], cs: tf.Tensor[], rev: boolean, jac: boolean) => { out: tf.Tensor[]; logDet: tf.Tensor | number };

/** The key of a node's output in the executor's value map. */
export function refKey(ref: TensorRef): string {
  return `${ref.node}:${ref.output}`;
}

const outputKeys = (step: SegmentNode): string[] => step.node.module.outputShapes.map((_, output) => refKey({ node: step.index, output }));

/**
 * `tf.engine().gradients` from inside another gradient's backward pass.
 * tfjs keeps one active tape: a nested `gradients` at depth 0 replaces it and
 * clears it when done, which would leave the outer backward pass without the
 * tape it cleans up at its end. Putting the outer tape back afterwards keeps
 * both intact; the nested tape's saved tensors are freed by the nested call.
 */
function gradientsInsideBackward(f: () => tf.Scalar, xs: tf.Tensor[]): (tf.Tensor | undefined)[] {
  const engine = tf.engine();
  const outerTape = engine.state.activeTape;
  try {
    const { value, grads } = engine.gradients(f, xs, undefined, true);
    value.dispose();
    // tfjs types `grads` as Tensor[], but a target the function does not reach gets undefined.
    return grads as (tf.Tensor | undefined)[];
  } finally {
    engine.state.activeTape = outerTape;
  }
}

/**
 * Runs `segment` (consecutive module nodes, each with an exact inverse, in
 * execution order) so that its gradient recomputes activations by inversion.
 * Reads the segment's inputs from `values`, writes its outputs there, and
 * returns the sum of the nodes' log-dets (`[batch]`), or 0 when `jac` is false.
 */
export function runSegmentByInversion(
  segment: readonly SegmentNode[],
  values: Map<string, tf.Tensor>,
  conditions: ReadonlyMap<number, tf.Tensor>,
  batch: number,
  jac: boolean,
  call: NodeCall,
): tf.Tensor | 0 {
  const produced = new Set<string>();
  const consumedInside = new Set<string>();
  const inputKeys: string[] = [];
  for (const step of segment) {
    for (const key of step.node.inputs.map(refKey)) {
      if (produced.has(key)) consumedInside.add(key);
      else if (!inputKeys.includes(key)) inputKeys.push(key);
    }
    for (const key of outputKeys(step)) produced.add(key);
  }
  const segmentOutputs = [...produced].filter((key) => !consumedInside.has(key));
  /** For each tensor read inside the segment, the position of the last node that reads it. */
  const lastReader = new Map<string, number>();
  segment.forEach((step, s) => step.node.inputs.forEach((ref) => lastReader.set(refKey(ref), s)));
  const conditionNodes = [...new Set(segment.flatMap((step) => step.node.conditions))];
  const variables = [...new Set(segment.flatMap((step) => step.module.trainableVariables))];
  const inputs = [...inputKeys.map((key) => values.get(key)!), ...conditionNodes.map((node) => conditions.get(node)!), ...variables];
  const outputShapes = new Map<string, number[]>();
  const columns: number[] = [];

  // customGrad's value is one tensor: the outputs, flattened per sample, side by side, then the log-det.
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    // Cast: customGrad passes the inputs, then its save function.
    const save = args.pop() as tf.GradSaveFunc;
    const tensors = args as tf.Tensor[];
    const local = new Map<string, tf.Tensor>(inputKeys.map((key, k) => [key, tensors[k]]));
    const conditionValue = new Map<number, tf.Tensor>(conditionNodes.map((node, k) => [node, tensors[inputKeys.length + k]]));
    // Nothing here is on a tape, so an intermediate is freed as soon as the last node reading it has run:
    // the forward pass then holds about one node's activations, not the whole segment's.
    const holders = new Map<tf.Tensor, number>();
    const hold = (t: tf.Tensor) => holders.set(t, (holders.get(t) ?? 0) + 1);
    const release = (t: tf.Tensor) => {
      const left = (holders.get(t) ?? 0) - 1;
      if (left > 0) holders.set(t, left);
      else {
        holders.delete(t);
        // A module may pass an input through as its output: the segment's own inputs are never ours to free.
        if (!tensors.includes(t)) t.dispose();
      }
    };
    let logDet: tf.Tensor = tf.zeros([batch]);
    segment.forEach((step, s) => {
      const xs = step.node.inputs.map((ref) => local.get(refKey(ref))!);
      const result = tf.tidy(() => call(step, xs, step.node.conditions.map((c) => conditionValue.get(c)!), false, jac));
      outputKeys(step).forEach((key, k) => {
        local.set(key, result.out[k]);
        hold(result.out[k]);
      });
      if (jac && result.logDet !== 0) {
        const sum = tf.add(logDet, result.logDet);
        logDet.dispose();
        if (result.logDet instanceof tf.Tensor && !holders.has(result.logDet) && !tensors.includes(result.logDet)) result.logDet.dispose();
        logDet = sum;
      }
      for (const key of new Set(step.node.inputs.map(refKey))) {
        if (lastReader.get(key) === s && produced.has(key)) {
          release(local.get(key)!);
          local.delete(key);
        }
      }
    });
    const outs = segmentOutputs.map((key) => local.get(key)!);
    outs.forEach((t, k) => outputShapes.set(segmentOutputs[k], t.shape));
    columns.splice(0, columns.length, ...outs.map((t) => t.size / batch), ...(jac ? [1] : []));
    // The conditions too: the executor frees its own copies when the forward pass ends.
    save([...outs, ...conditionNodes.map((node) => conditionValue.get(node)!)]);
    const flat = [...outs.map((t) => tf.reshape(t, [batch, -1])), ...(jac ? [tf.reshape(logDet, [batch, 1])] : [])];
    const value = flat.length === 1 ? tf.clone(flat[0]) : tf.concat(flat, 1);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => backward(dy, saved) };
  });

  const backward = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
    /** What the walk knows of each tensor of the segment: its value and the gradient arriving at it. */
    const frontier = new Map<string, { value: tf.Tensor; grad?: tf.Tensor; owned: boolean }>();
    const pieces = tf.tidy(() => tf.split(dy, columns, 1));
    segmentOutputs.forEach((key, k) => {
      frontier.set(key, { value: saved[k], grad: tf.tidy(() => tf.reshape(pieces[k], outputShapes.get(key)!)), owned: false });
    });
    const logDetGrad = jac ? tf.tidy(() => tf.reshape(pieces[pieces.length - 1], [batch])) : undefined;
    tf.dispose(pieces);
    const savedConditions = new Map<number, tf.Tensor>(conditionNodes.map((node, k) => [node, saved[segmentOutputs.length + k]]));
    const conditionGrads = new Map<number, tf.Tensor>();
    const variableGrads = new Map<tf.Variable, tf.Tensor>();
    const accumulate = <K>(map: Map<K, tf.Tensor>, key: K, grad: tf.Tensor) => {
      const previous = map.get(key);
      map.set(key, previous ? tf.tidy(() => tf.add(previous, grad)) : grad);
      if (previous) tf.dispose([previous, grad]);
    };

    for (let s = segment.length - 1; s >= 0; s--) {
      const step = segment[s];
      const keys = outputKeys(step);
      const ys = keys.map((key) => frontier.get(key)!.value);
      const dys = keys.map((key) => frontier.get(key)!.grad);
      const cs = step.node.conditions.map((c) => savedConditions.get(c)!);
      const stepVariables = step.module.trainableVariables;
      const { xs, grads } = tf.tidy(() => {
        const xs = call(step, ys, cs, true, false).out;
        const targets = [...xs, ...cs, ...stepVariables];
        const found = gradientsInsideBackward(() => {
          const { out, logDet } = call(step, xs, cs, false, jac);
          const terms = out.flatMap((o, k) => (dys[k] ? [tf.sum(tf.mul(o, dys[k]!))] : []));
          if (logDetGrad && logDet !== 0) terms.push(tf.sum(tf.mul(logDet, logDetGrad)));
          return (terms.length === 0 ? tf.scalar(0) : tf.addN(terms)) as tf.Scalar;
        }, targets);
        return { xs, grads: found.map((g, k) => g ?? tf.zerosLike(targets[k])) };
      });
      for (const key of keys) {
        const entry = frontier.get(key)!;
        if (entry.owned) entry.value.dispose();
        entry.grad?.dispose();
        frontier.delete(key);
      }
      step.node.inputs.forEach((ref, k) => {
        const key = refKey(ref);
        const known = frontier.get(key);
        if (known) {
          // Only possible when one tensor feeds two inputs of the segment: sum the gradients, keep one value.
          xs[k].dispose();
          if (known.grad) {
            const sum = tf.tidy(() => tf.add(known.grad!, grads[k]));
            tf.dispose([known.grad, grads[k]]);
            known.grad = sum;
          } else known.grad = grads[k];
        } else frontier.set(key, { value: xs[k], grad: grads[k], owned: true });
      });
      step.node.conditions.forEach((c, k) => accumulate(conditionGrads, c, grads[xs.length + k]));
      stepVariables.forEach((v, k) => accumulate(variableGrads, v, grads[xs.length + cs.length + k]));
    }
    logDetGrad?.dispose();

    const inputGrads = inputKeys.map((key) => {
      const entry = frontier.get(key)!;
      const grad = entry.grad ?? tf.zerosLike(entry.value);
      if (entry.owned) entry.value.dispose();
      return grad;
    });
    const zeros = (t: tf.Tensor) => tf.zeros(t.shape, 'float32');
    return [
      ...inputGrads,
      ...conditionNodes.map((node) => conditionGrads.get(node) ?? zeros(savedConditions.get(node)!)),
      ...variables.map((v) => variableGrads.get(v) ?? zeros(v)),
    ];
  };

  const packed = op(...inputs);
  const parts = columns.length === 1 ? [packed] : tf.split(packed, columns, 1);
  segmentOutputs.forEach((key, k) => values.set(key, tf.reshape(parts[k], outputShapes.get(key)!)));
  return jac ? tf.reshape(parts[parts.length - 1], [batch]) : 0;
}
