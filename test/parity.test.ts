/**
 * FrEIA parity: every export in ../shared/reference/fixtures imports and
 * reproduces FrEIA's outputs, log-dets and inverse (see verifyFreia for the
 * tolerances and the two documented exceptions).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from './helpers/fixtures.js';
import { verifyFreia, type FreiaDocument } from '../src/index.js';

const fixtures = fixturesDir;
const files = readdirSync(fixtures).filter((f) => f.endsWith('.json')).sort();

describe('FrEIA reference fixtures', () => {
  it('are all there', () => expect(files.length).toBe(63));

  for (const file of files) {
    it(file, () => {
      const doc = JSON.parse(readFileSync(path.join(fixtures, file), 'utf8')) as FreiaDocument;
      const before = tf.memory().numTensors;
      const report = verifyFreia(doc);
      expect(tf.memory().numTensors).toBe(before);
      expect(report.cases).toBeGreaterThan(0);
      expect(report, JSON.stringify(report)).toMatchObject({ ok: true });
    });
  }
});
