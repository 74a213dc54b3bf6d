/**
 * Where the FrEIA reference fixtures are: `FREIA_FIXTURES` when set, else
 * `../shared/reference/fixtures` beside the repository (as in CI). Fails with
 * a message naming both when neither exists, rather than an ENOENT per test.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

const beside = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'reference', 'fixtures');

export const fixturesDir = process.env.FREIA_FIXTURES ? path.resolve(process.env.FREIA_FIXTURES) : beside;

if (!existsSync(fixturesDir)) {
  throw new Error(`FrEIA reference fixtures not found at ${fixturesDir}: clone the repository beside ../shared, or set FREIA_FIXTURES`);
}

/** The path of one fixture file. */
export function fixturePath(name: string): string {
  return path.join(fixturesDir, name.endsWith('.json') ? name : `${name}.json`);
}
