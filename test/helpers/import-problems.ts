import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { FreiaImportError, importFreia, type FreiaDocument } from '../../src/index.js';

/** The problems `importFreia` lists for a document it must refuse, checking that the refusal allocated no tensor. */
export function importProblems(doc: unknown): string[] {
  const before = tf.memory().numTensors;
  try {
    // Cast: the documents under test are malformed on purpose.
    importFreia(doc as FreiaDocument);
  } catch (error) {
    expect(tf.memory().numTensors).toBe(before);
    expect(error).toBeInstanceOf(FreiaImportError);
    return [...(error as FreiaImportError).problems];
  }
  throw new Error('the import did not fail');
}
