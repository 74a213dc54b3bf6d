/**
 * The FrEIA reference exports (`freia-reference/1`, docs/freia-reference-format.md)
 * ship with the project in test/fixtures/freia; `FREIA_FIXTURES` points the
 * tests at another directory (another exporter's output, say).
 *
 * Importing this file touches no disk: every check happens when a test asks
 * for a fixture, so a missing file or directory fails only the tests that
 * read it (with a message naming the path and `FREIA_FIXTURES`), never a
 * whole test file at load, where unrelated tests would go down with it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FreiaDocument } from '../../src/index.js';

/** The fixtures in the repository: test/fixtures/freia. */
export const defaultFixturesDir = path.resolve(import.meta.dirname, '..', 'fixtures', 'freia');

/** The directory the tests read: `env` (relative to the working directory) when set and non-empty, else the repository's. */
export function fixturesDirFor(env: string | undefined): string {
  return env ? path.resolve(env) : defaultFixturesDir;
}

export const fixturesDir = fixturesDirFor(process.env.FREIA_FIXTURES);

function notFound(what: string, where: string): Error {
  const env = process.env.FREIA_FIXTURES;
  const now = env ? `FREIA_FIXTURES is set to "${env}"` : 'FREIA_FIXTURES is not set';
  return new Error(
    `FrEIA reference ${what} not found at ${where}. The fixtures ship in test/fixtures/freia; ` +
      `FREIA_FIXTURES names another directory to read them from (${now}).`,
  );
}

/** The path of one fixture file (`name` with or without `.json`); throws, naming the path, when it does not exist. */
export function fixturePath(name: string, dir: string = fixturesDir): string {
  const file = path.join(dir, name.endsWith('.json') ? name : `${name}.json`);
  if (!existsSync(file)) throw notFound(`fixture "${path.basename(file)}"`, file);
  return file;
}

/** One fixture, parsed. */
export function readFixture(name: string, dir: string = fixturesDir): FreiaDocument {
  return JSON.parse(readFileSync(fixturePath(name, dir), 'utf8')) as FreiaDocument;
}

/** The `.json` file names in the fixtures directory, sorted; throws, naming the directory, when it does not exist. */
export function listFixtures(dir: string = fixturesDir): string[] {
  if (!existsSync(dir)) throw notFound('fixtures directory', dir);
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
}

/** How many reference exports the repository holds (63 from the first release, 4 of LinearSpline and 2 of Inverse from python/make_fixtures.py). */
export const FIXTURE_COUNT = 69;
