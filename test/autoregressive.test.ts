/**
 * Autoregressive modules (MAF, IAF, autoregressive RQ spline): the Jacobian
 * is triangular in each module's ordering (by autodiff, exact zeros above
 * the diagonal), MAF's density direction is one pass while its sampling
 * direction is sequential (and IAF the other way round), and the options
 * are checked.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { inn, setGlobalSeed, MaskedAutoregressiveFlow, AutoregressiveRqSpline, type AnyFlow } from '../src/index.js';

/** The Jacobian of the flow's forward pass at one point, `J[k][j] = ∂out_k / ∂x_j`, by autodiff. */
function jacobian(flow: AnyFlow, x: tf.Tensor2D): number[][] {
  const d = x.shape[1];
  return Array.from({ length: d }, (_, k) => tf.tidy(() => {
    const g = tf.grad((input: tf.Tensor) => tf.sum(tf.slice(flow.forward(input).out as tf.Tensor, [0, k], [1, 1])))(x);
    return Array.from(g.dataSync());
  }));
}

const orderingOf = (flow: AnyFlow) => (flow.modules.find((m) => m !== null) as MaskedAutoregressiveFlow | AutoregressiveRqSpline).ordering;

describe('autoregressive modules', () => {
  const builds: [string, () => AnyFlow][] = [
    ['MAF', () => inn.input([6]).maf({ hidden: 24, order: 'random', seed: 3 }).build()],
    ['IAF', () => inn.input([6]).iaf({ hidden: 24, order: 'random', seed: 5 }).build()],
    ['AR spline', () => inn.input([6]).arSpline({ hidden: 24, order: 'random', seed: 7, bins: 4 }).build()],
    ['MAF reversed', () => inn.input([5]).maf({ hidden: 16, order: 'reversed', layers: 3 }).build()],
  ];
  for (const [name, build] of builds) {
    it(`${name}: the Jacobian is triangular in the module's ordering, with a non-zero diagonal`, () => {
      setGlobalSeed(11);
      const flow = build();
      const x = tf.randomNormal([1, flow.inputShapes[0][0]], 0, 1.5, 'float32', 2) as tf.Tensor2D;
      const J = jacobian(flow, x);
      const order = orderingOf(flow);
      expect([...order].sort((a, b) => a - b)).toEqual([...Array(order.length).keys()]);
      if (name === 'MAF reversed') expect(order).toEqual([4, 3, 2, 1, 0]);
      order.forEach((k, t) => order.forEach((j, s) => {
        if (s > t) expect(J[k][j], `∂out_${k}/∂x_${j}`).toBe(0);
        if (s === t) expect(Math.abs(J[k][j])).toBeGreaterThan(1e-3);
      }));
      // Not diagonal either: elements read the ones before them.
      expect(order.some((k, t) => order.slice(0, t).some((j) => Math.abs(J[k][j]) > 1e-4))).toBe(true);
      x.dispose();
      flow.dispose();
    });
  }

  it('MAF: one MADE pass for the density, D passes to sample; IAF the other way round', async () => {
    setGlobalSeed(12);
    // Counted through the kernels tfjs runs: each MADE pass is one MatMul per layer.
    const passes = async (flow: AnyFlow, rev: boolean, x: tf.Tensor) => {
      const info = await tf.profile(() => {
        const r = rev ? flow.inverse(x) : flow.forward(x);
        tf.dispose([r.out as tf.Tensor, r.logDet]);
      });
      return info.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === '_FusedMatMul' || k.name === 'MatMul').length / 3;
    };
    const x = tf.randomNormal([4, 5], 0, 1, 'float32', 3);
    const maf = inn.input([5]).maf({ hidden: 8 }).build(); // 2 hidden layers: 3 products per pass
    const iaf = inn.input([5]).iaf({ hidden: 8 }).build();
    // One profile at a time: tf.profile records every kernel the engine runs meanwhile.
    const counts = [await passes(maf, false, x), await passes(maf, true, x), await passes(iaf, false, x), await passes(iaf, true, x)];
    expect(counts).toEqual([1, 5, 5, 1]);
    x.dispose();
    maf.dispose();
    iaf.dispose();
  });

  it('refuses images, bad orderings and a MADE above the size limit, naming the node', () => {
    // Cast: the compiler refuses an image already (type-tests/autoregressive.test-d.ts); plain JavaScript reaches the run-time rule.
    expect(() => (inn.input([3, 4, 4]) as unknown as { maf(o: object): { build(): unknown } }).maf({}).build()).toThrow(/a vector input \[D\] \(flatten an image first\), got \[3, 4, 4\]/);
    expect(() => inn.input([4]).maf({ order: 'sorted' } as never).build()).toThrow(/option "order": expected "natural", "reversed" or "random", got "sorted"/);
    expect(() => inn.input([4]).arSpline({ bins: 0 }).build()).toThrow(/bins/);
    expect(() => inn.input([100_000]).maf({ hidden: 4096 }).build()).toThrow(/MADE input layer: expected at most/);
  });
});
