/**
 * Validation at every door (issue 13, deliverable 1): builder options,
 * subnets, sizes, run-time inputs, user subnets and custom modules. Each
 * bad input is refused with a typed error naming the node and the field,
 * and nothing is left allocated.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  inn, subnets, dist, Fm, SequenceINN, InvertibleModule, DisposedError, ShapeMismatchError, ValidationError, SIZE_LIMITS, sizeLimits, setSizeLimits, elementCount, didYouMean,
  type ForwardOptions, type ModuleResult, type Shape,
} from '../src/index.js';
import { thrownBy } from './helpers/thrown.js';

const mlp = subnets.mlp({ hidden: 8 });

/** Runs `act`, expects it to throw `type` with `message`, and checks that no tensor or variable was left behind. */
function expectRefusal(act: () => unknown, type: new (...args: never[]) => Error, message: string | RegExp): void {
  const tensors = tf.memory().numTensors;
  const variables = Object.keys(tf.engine().registeredVariables).length;
  const thrown = thrownBy(act);
  expect(thrown).toBeInstanceOf(type);
  expect((thrown as Error).message).toMatch(message);
  expect(tf.memory().numTensors).toBe(tensors);
  expect(Object.keys(tf.engine().registeredVariables).length).toBe(variables);
}

describe('counts that would make a huge module are refused before it is built', () => {
  // Each of these once ran out of JavaScript heap (a 200-byte document could crash the process):
  // the module built its parameters or sections element by element from the count.
  it('reflections, residual layers and widths, split sections', () => {
    const big = 1e9;
    expectRefusal(() => inn.input([4]).allInOne({ subnet: mlp, learnedHouseholderPermutation: big }), ValidationError, /learnedHouseholderPermutation \(reflections × channels\): expected at most \d+ elements/);
    expectRefusal(() => inn.input([4]).householderPerm({ nReflections: big }), ValidationError, /nReflections \(reflections × channels\): expected at most/);
    expectRefusal(() => inn.input([4]).iresnet({ internalSize: big }), ValidationError, /internalSize \(first weight\): expected at most/);
    expectRefusal(() => inn.input([4]).iresnet({ nInternalLayers: big }), ValidationError, /option "nInternalLayers": expected a whole number >= 0 <= 1000/);
    expectRefusal(() => inn.input([64]).iresnet({ nInternalLayers: 1000, internalSize: 4096 }), ValidationError, /internalSize \(hidden weights\): expected at most/);
    expectRefusal(() => new SequenceINN(6).append(Fm.Split, { n_sections: big }), ShapeMismatchError, /nSections from 2 to the axis length 6/);
  });
});

describe('sizes are checked before anything is allocated', () => {
  it('elementCount is overflow-safe', () => {
    expect(elementCount([3, 32, 32])).toBe(3072);
    expect(elementCount([1e9])).toBe(Infinity);
    expect(elementCount([2 ** 30, 2 ** 30, 2 ** 30, 0])).toBe(Infinity); // stops at the limit, never multiplies on to a wrong finite number
    expect(elementCount([SIZE_LIMITS.tensorElements])).toBe(SIZE_LIMITS.tensorElements);
  });

  it('an input of [1e9] is refused by the builder', () => {
    expectRefusal(() => inn.input([1e9]).actNorm().build(), ValidationError, /input: shape: expected at most 67108864 elements .*got \[1000000000\]/);
    expectRefusal(() => inn.graph().input([4096, 4096, 8]), ValidationError, /at most 67108864 elements/);
  });

  it('a subnet with hidden: 1e9 is refused when it is made', () => {
    expectRefusal(() => subnets.mlp({ hidden: 1e9 }), ValidationError, /subnets\.mlp: option "hidden": expected a whole number >= 1 <= 67108864, got 1000000000/);
  });

  it('a subnet layer too large for the limit is refused before its first layer is allocated', () => {
    const wide = subnets.mlp({ hidden: 20_000, layers: 3 }); // 20,000² weights in the middle layer
    expectRefusal(() => inn.input([4]).glow({ subnet: wide }).build(), ValidationError, /subnet mlp: layer 1 weight: expected at most 67108864 elements \(sizeLimits\(\).tensorElements\), got \[20000, 20000\]/);
  });

  it('a flow above the parameter limit is refused and freed', () => {
    const previous = setSizeLimits({ flowParameters: 1000 });
    try {
      const wide = subnets.mlp({ hidden: 16 }); // 328 parameters per RNVP coupling: four subnets 2 → 16 → 2 of 82 each (s and t for both halves)
      const chain = inn.input([4]).repeat(5, (c, k) => c.rnvp({ subnet: wide, name: `block${k}` }));
      expectRefusal(() => chain.build(), ValidationError, /node "block3": parameters: expected at most 1000 parameter elements in a flow \(sizeLimits\(\).flowParameters\), got 1312 up to this node/);
    } finally {
      setSizeLimits(previous);
    }
    expect(sizeLimits()).toEqual(SIZE_LIMITS);
    expect(() => setSizeLimits({ tensorElements: -1 })).toThrow(ValidationError);
  });
});

describe('builder options', () => {
  it('a misspelt option gets a "did you mean"', () => {
    // @ts-expect-error the option does not exist
    expectRefusal(() => inn.input([4]).allInOne({ subnet: mlp, permute_soft: true }).build(), ValidationError, /AllInOneBlock_1: option "permute_soft": expected a known option, got an unknown option \(did you mean "permuteSoft"\?\)/);
    // @ts-expect-error the option does not exist
    expectRefusal(() => inn.input([4]).glow({ subnet: mlp, clampp: 1 }), ValidationError, /option "clampp".*did you mean "clamp"/);
    // @ts-expect-error the option does not exist
    expectRefusal(() => inn.input([4]).actNorm({ bogus: 1 }), ValidationError, /option "bogus".*it takes no options/);
  });

  it('bad values are refused, naming the option and what was expected', () => {
    // @ts-expect-error not an activation
    expectRefusal(() => inn.input([4]).glow({ subnet: mlp, clampActivation: 'RELU' }), ValidationError, /option "clampActivation": expected "ATAN", "TANH" or "SIGMOID", got "RELU"/);
    // @ts-expect-error not a number
    expectRefusal(() => inn.input([4]).glow({ subnet: mlp, clamp: 'abc' }), ValidationError, /option "clamp": expected a finite number > 0, got "abc"/);
    expectRefusal(() => inn.input([4]).glow({ subnet: mlp, clamp: NaN }), ValidationError, /option "clamp".*got NaN/);
    // clamp · atan(s / clamp) is ∞ · 0 = NaN for every output: refused rather than computed
    expectRefusal(() => inn.input([4]).allInOne({ subnet: mlp, clamp: Infinity }), ValidationError, /option "clamp".*got Infinity/);
    expectRefusal(() => inn.input([4]).permuteRandom({ seed: 1.5 }), ValidationError, /option "seed": expected a whole number, got 1.5/);
    // @ts-expect-error not a subnet
    expectRefusal(() => inn.input([4]).glow({ subnet: 'mlp' }), ValidationError, /option "subnet": expected a subnet constructor/);
    // @ts-expect-error not a kernel size
    expectRefusal(() => subnets.conv({ hidden: 8, kernel: 5 }), ValidationError, /subnets\.conv: option "kernel": expected 3 or 1, got 5/);
    // @ts-expect-error misspelt
    expectRefusal(() => subnets.mlp({ hiden: 8 }), ValidationError, /option "hiden".*did you mean "hidden"/);
  });

  it("FrEIA's API refuses a misspelt argument too", () => {
    const net = new SequenceINN(4);
    expectRefusal(() => net.append(Fm.GLOWCouplingBlock, { subnet_constructor: mlp, clampp: 1 }), ValidationError, /did you mean "clamp"/);
  });

  it('the caller’s options object is neither mutated nor frozen', () => {
    const options = { subnet: mlp, clamp: 1.5, name: 'c' };
    const flow = inn.input([4]).glow(options).build();
    expect(Object.isFrozen(options)).toBe(false);
    expect(options).toEqual({ subnet: mlp, clamp: 1.5, name: 'c' });
    flow.dispose();
  });

  it('didYouMean: near misses only', () => {
    expect(didYouMean('permute_soft', ['permuteSoft', 'clamp'])).toBe('permuteSoft');
    expect(didYouMean('clmap', ['clamp', 'subnet'])).toBe('clamp');
    expect(didYouMean('banana', ['clamp', 'subnet'])).toBeUndefined();
  });
});

describe('run-time inputs', () => {
  const flow = inn.input([4]).glow({ subnet: mlp, name: 'coupling' }).build();

  it('int32 input is refused (it would differ from the float result)', () => {
    const x = tf.zeros([2, 4], 'int32');
    expectRefusal(() => flow.forward(x), ValidationError, /input "input_0": dtype: expected "float32".*got "int32"/);
    x.dispose();
  });

  it('an empty batch is refused', () => {
    const x = tf.zeros([0, 4]);
    expectRefusal(() => flow.forward(x), ValidationError, /input "input_0": batch: expected at least one sample, got \[0, 4\]/);
    expectRefusal(() => flow.inverse(x), ValidationError, /output "output_0": batch/);
    x.dispose();
    expectRefusal(() => dist.pullBack(flow).sample(0), ValidationError, /StandardNormal.sample: n: expected a whole number of samples >= 1, got 0/);
  });

  it('plain arrays, undefined, null and numbers are refused', () => {
    expectRefusal(() => flow.forward([[1, 2, 3, 4], [5, 6, 7, 8]] as never), ValidationError, /input "input_0": value: expected a tf.Tensor \[batch, 4\], got an array \(a plain array: wrap it with tf.tensor/);
    expectRefusal(() => flow.forward(undefined as never), ValidationError, /input "input_0": value: expected a tf.Tensor.*got undefined/);
    expectRefusal(() => flow.forward(null as never), ValidationError, /got null/);
    expectRefusal(() => flow.forward(3 as never), ValidationError, /got 3/);
  });

  it('a disposed tensor is refused', () => {
    const x = tf.zeros([2, 4]);
    x.dispose();
    expectRefusal(() => flow.forward(x), DisposedError, /input "input_0": the tensor has been disposed/);
  });

  it('a misspelt run option gets a "did you mean"', () => {
    const x = tf.zeros([2, 4]);
    expectRefusal(() => flow.forward(x, { cond: x } as never), ValidationError, /flow.forward: option "cond".*did you mean "c"/);
    x.dispose();
  });

  it('a disposed flow is refused', () => {
    const other = inn.input([4]).glow({ subnet: mlp }).build();
    other.dispose();
    expect(other.isDisposed).toBe(true);
    const x = tf.zeros([2, 4]);
    expectRefusal(() => other.forward(x), DisposedError, /flow.forward: the flow has been disposed/);
    expectRefusal(() => other.inverse(x), DisposedError, /flow.inverse/);
    x.dispose();
  });
});

describe('user subnets and custom modules are held to their shapes', () => {
  it('a user subnet whose output broadcasts over the batch', () => {
    const broadcasting = (_cIn: number, cOut: number) => ({ variables: new Map<string, tf.Variable>(), apply: () => tf.zeros([1, cOut]) });
    const flow = inn.input([4]).glow({ subnet: broadcasting, name: 'coupling' }).build();
    const x = tf.zeros([3, 4]);
    expectRefusal(() => flow.forward(x), ShapeMismatchError, /node "coupling" \(GLOWCouplingBlock, forward, inputs \[4\]\): subnet output: expected \[3, 4\].*got \[1, 4\]/);
    tf.dispose(x);
    flow.dispose();
  });

  it('a user subnet that collapses the batch', () => {
    const collapsing = (_cIn: number, cOut: number) => ({ variables: new Map<string, tf.Variable>(), apply: (x: tf.Tensor) => tf.tile(tf.sum(x, 0, true), [1, cOut / x.shape[1]!]).reshape([cOut]) });
    const flow = inn.input([4]).glow({ subnet: collapsing, name: 'coupling' }).build();
    const x = tf.ones([3, 4]);
    expectRefusal(() => flow.forward(x), ShapeMismatchError, /node "coupling".*subnet output: expected \[3, 4\].*got \[4\]/);
    tf.dispose(x);
    flow.dispose();
  });

  class WrongShape extends InvertibleModule {
    forward([x]: readonly tf.Tensor[]): ModuleResult {
      return { out: [tf.concat([x, x], 1)], logDet: 0 };
    }
  }
  class WrongLogDet extends InvertibleModule {
    forward([x]: readonly tf.Tensor[], _c: readonly tf.Tensor[], { rev }: ForwardOptions): ModuleResult {
      return { out: [tf.clone(x)], logDet: rev ? tf.zeros([1]) : tf.zeros([x.shape[0] + 1]) };
    }
  }
  class ThrowsAfterParam extends InvertibleModule {
    constructor(dimsIn: readonly Shape[], dimsC: readonly Shape[]) {
      super(dimsIn, dimsC);
      this.addParam('w', tf.ones([4]));
      throw new Error('bad configuration');
    }
    forward(xs: readonly tf.Tensor[]): ModuleResult {
      return { out: [...xs], logDet: 0 };
    }
  }

  it("a custom module's output shape is checked", () => {
    const flow = inn.input([4]).apply(WrongShape, undefined, { name: 'wrong' }).build();
    const x = tf.zeros([2, 4]);
    expectRefusal(() => flow.forward(x), ShapeMismatchError, /node "wrong" \(WrongShape, forward, inputs \[4\]\): output 0: expected \[2, 4\].*got \[2, 8\]/);
    x.dispose();
    flow.dispose();
  });

  it("a custom module's log-det length is checked", () => {
    const flow = inn.input([4]).apply(WrongLogDet, undefined, { name: 'wrong' }).build();
    const x = tf.zeros([2, 4]);
    expectRefusal(() => flow.forward(x), ShapeMismatchError, /node "wrong" \(WrongLogDet, forward, inputs \[4\]\): log-det: expected a number or a tensor of shape \[2\].*got \[3\]/);
    expectRefusal(() => flow.inverse(x), ShapeMismatchError, /log-det.*got \[1\]/);
    x.dispose();
    flow.dispose();
  });

  it('a custom module whose constructor throws after adding a parameter leaks nothing', () => {
    expectRefusal(() => inn.input([4]).apply(ThrowsAfterParam).build(), ShapeMismatchError, /bad configuration/);
    const g = inn.graph();
    const x = g.input([4]);
    expectRefusal(() => g.apply(ThrowsAfterParam, [x]), ShapeMismatchError, /bad configuration/);
  });
});
