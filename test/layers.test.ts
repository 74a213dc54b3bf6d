/**
 * The folders are the architecture: every import points down the layer
 * order of docs/design.md, never up and never sideways between two folders
 * of the same rank.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const src = path.resolve(import.meta.dirname, '..', 'src');

/** Rank of each folder under src/ (lower is more basic); `index.ts` sits above the library, below the command line. */
export const layers: Readonly<Record<string, number>> = {
  types: 0,
  core: 1,
  math: 2,
  modules: 3,
  runtime: 4,
  builder: 5,
  distributions: 5,
  train: 6,
  io: 6,
  'index.ts': 7,
  node: 8,
  cli: 9,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The layer a file belongs to: its first folder under src/, or the file name at the top. */
const layerOf = (file: string) => path.relative(src, file).split(path.sep)[0].replace(/\.js$/, '.ts');

/** Relative import specifiers of a file: static imports, re-exports and `import('...')` with a literal. */
export function relativeImports(source: string): string[] {
  const pattern = /(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;
  return [...source.matchAll(pattern)].map((m) => m[1]);
}

/** Every import that breaks the layer order, as `file -> target (why)`. */
export function layerViolations(files: readonly string[], read: (file: string) => string): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    if (!(from in layers)) {
      problems.push(`${path.relative(src, file)}: folder "${from}" has no layer in test/layers.test.ts`);
      continue;
    }
    for (const specifier of relativeImports(read(file))) {
      const target = path.resolve(path.dirname(file), specifier);
      const to = layerOf(target);
      if (to === from) continue;
      if (!(to in layers) || layers[to] >= layers[from]) {
        problems.push(`${path.relative(src, file)} -> ${path.relative(src, target)} (${from}, rank ${layers[from]}, may not import ${to}, rank ${layers[to] ?? '?'})`);
      }
    }
  }
  return problems;
}

describe('layers', () => {
  it('every import in src/ points down the layer order', () => {
    const files = sourceFiles(src);
    expect(files.length).toBeGreaterThan(30);
    expect(layerViolations(files, (f) => readFileSync(f, 'utf8'))).toEqual([]);
  });

  it('the check finds an upward import, a sideways one and an unknown folder', () => {
    const fake: Record<string, string> = {
      [path.join(src, 'modules', 'x.ts')]: "import { Flow } from '../runtime/flow.js';\nimport { y } from './y.js';",
      [path.join(src, 'io', 'a.ts')]: "const t = await import('../train/training.js');",
      [path.join(src, 'misc', 'b.ts')]: "import { z } from '../core/graph.js';",
      [path.join(src, 'cli', 'c.ts')]: "export * from '../index.js';",
    };
    const problems = layerViolations(Object.keys(fake), (f) => fake[f]);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^modules\/x\.ts -> runtime\/flow\.js \(modules, rank 3, may not import runtime, rank 4\)$/);
    expect(problems[1]).toMatch(/io\/a\.ts -> train\/training\.js/);
    expect(problems[2]).toMatch(/folder "misc" has no layer/);
  });
});
