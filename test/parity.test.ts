/**
 * FrEIA parity: every reference export in test/fixtures/freia (or
 * FREIA_FIXTURES) imports and reproduces FrEIA's outputs, log-dets and
 * inverse (see verifyFreia for the tolerances and the two documented
 * exceptions).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FIXTURE_COUNT, listFixtures, readFixture } from './helpers/fixtures.js';
import { verifyFreia } from '../src/index.js';

// Listed while vitest collects the tests (one test per file needs the names
// up front); a missing directory is held back and thrown by the first test,
// so it shows as one failing test instead of a file that cannot load.
let files: string[] = [];
let unlisted: unknown;
try {
  files = listFixtures();
} catch (error) {
  unlisted = error;
}

describe('FrEIA reference fixtures', () => {
  it('are all there', () => {
    if (unlisted) throw unlisted;
    expect(files.length).toBe(FIXTURE_COUNT);
  });

  for (const file of files) {
    it(file, () => {
      const doc = readFixture(file);
      const before = tf.memory().numTensors;
      const report = verifyFreia(doc);
      expect(tf.memory().numTensors).toBe(before);
      expect(report.cases).toBeGreaterThan(0);
      expect(report, JSON.stringify(report)).toMatchObject({ ok: true });
    });
  }
});
