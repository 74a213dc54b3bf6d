/**
 * The fixture helper: the reference exports ship in the repository, and a
 * missing file or directory fails with a message that says where it looked
 * and how to look elsewhere (the tests that read fixtures rely on it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURE_COUNT, defaultFixturesDir, fixturePath, fixturesDirFor, listFixtures, readFixture } from './helpers/fixtures.js';

const root = path.resolve(import.meta.dirname, '..');
// A directory that surely does not exist: a name inside a fresh, empty one (removed afterwards).
const scratch = mkdtempSync(path.join(tmpdir(), 'freia-fixtures-'));
const nowhere = path.join(scratch, 'missing');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The error `run` throws; fails the test when it throws nothing. */
function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  throw new Error('expected an error, but nothing was thrown');
}

describe('FrEIA fixture helper', () => {
  it('defaults to test/fixtures/freia in the repository; FREIA_FIXTURES overrides it', () => {
    expect(defaultFixturesDir).toBe(path.join(root, 'test', 'fixtures', 'freia'));
    expect(fixturesDirFor(undefined)).toBe(defaultFixturesDir);
    expect(fixturesDirFor('')).toBe(defaultFixturesDir);
    expect(fixturesDirFor('/elsewhere/fixtures')).toBe(path.resolve('/elsewhere/fixtures'));
    expect(fixturesDirFor('rel/dir')).toBe(path.resolve(process.cwd(), 'rel/dir'));
  });

  it('the repository holds all its reference exports', () => {
    const files = listFixtures(defaultFixturesDir);
    expect(files).toHaveLength(FIXTURE_COUNT);
    expect(files).toContain('glow_fc.json');
    expect(readFixture('glow_fc', defaultFixturesDir).format).toBe('freia-reference/1');
  });

  it('a fixture in a missing directory: the error names the file path and FREIA_FIXTURES', () => {
    const file = path.join(nowhere, 'glow_fc.json');
    for (const read of [() => readFixture('glow_fc', nowhere), () => fixturePath('glow_fc.json', nowhere)]) {
      const { message } = errorOf(read);
      expect(message).toContain(file);
      expect(message).toContain('FREIA_FIXTURES');
      expect(message).toContain('test/fixtures/freia');
    }
  });

  it('a missing fixture in an existing directory names the file too', () => {
    const dir = mkdtempSync(path.join(scratch, 'empty-'));
    const { message } = errorOf(() => readFixture('not_there', dir));
    expect(message).toContain(path.join(dir, 'not_there.json'));
    expect(message).toContain('FREIA_FIXTURES');
    expect(listFixtures(dir)).toEqual([]);
  });

  it('listing a missing directory names the directory and FREIA_FIXTURES', () => {
    const { message } = errorOf(() => listFixtures(nowhere));
    expect(message).toContain(nowhere);
    expect(message).toContain('FREIA_FIXTURES');
  });
});
