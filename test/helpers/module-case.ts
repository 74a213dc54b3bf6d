import type { AnyFlow } from '../../src/index.js';

/** One row of the module table (test/modules.test.ts). */
export interface ModuleCase {
  readonly name: string;
  /** Builds a flow around the module under test (usually a one-module chain). */
  readonly build: () => AnyFlow;
  /** Input shape without batch (channels first). */
  readonly input: number[];
  readonly conditions?: number[][];
  /** Expected output shapes without batch. */
  readonly outputs: number[][];
  /**
   * Makes a valid input batch when a module's domain is restricted (InvertibleSigmoid's inverse
   * needs (0, 1)); default `tf.randomNormal`.
   */
  readonly sample?: (shape: number[]) => import('@tensorflow/tfjs').Tensor;
  /**
   * Standard deviation of the random move of every parameter before the checks (default 0.3).
   * Smaller where a module has no subnet to damp and large raw values would make its bins so
   * narrow that a float32 inverse legitimately loses digits (the autoregressive spline).
   */
  readonly perturbation?: number;
  /** Log-det tolerance if the module's log-det is an estimate (relative); default 1e-3. */
  readonly logDetTolerance?: number;
  /**
   * The outputs depend on noise drawn at each call (dequantization): two
   * backends draw different numbers from one seed, so a comparison across
   * backends checks the log-det and the inverse, not the outputs.
   */
  readonly drawsNoise?: boolean;
}
