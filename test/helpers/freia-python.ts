/**
 * The Python the FrEIA tests run: `FREIA_PYTHON`, `python3` or
 * `/usr/bin/python3`, whichever works first. A test that needs FrEIA asks
 * {@link freiaSetup} why it cannot run (or which Python can), and shows up
 * as `NOT RUN: <reason>` where it cannot.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

export const pythons = [process.env.FREIA_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);

/** Runs `python args…`, waiting for it (utf-8 output, the test's environment). */
export const runs = (python: string, args: string[]) => spawnSync(python, args, { encoding: 'utf8', env: { ...process.env } });

/** A Python that runs at all (for syntax checks), or undefined. */
export const anyPython = pythons.find((p) => runs(p, ['-c', 'pass']).status === 0);

/** Why FrEIA cannot run here, or undefined when it can (and the Python that imports `modules`, FrEIA and FREIA_SRC's path). */
export function freiaSetup(modules = 'torch, numpy'): { python?: string; src?: string; reason?: string } {
  const src = process.env.FREIA_SRC;
  if (!src) return { reason: 'FREIA_SRC is not set (point it at a clone of FrEIA)' };
  if (!existsSync(path.join(src, 'FrEIA'))) return { reason: `FREIA_SRC=${src} holds no FrEIA folder` };
  const python = pythons.find((p) => runs(p, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(src)}); import ${modules}, FrEIA.framework`]).status === 0);
  return python ? { python, src } : { reason: `no Python among ${pythons.join(', ')} imports ${modules} and FrEIA (set FREIA_PYTHON)` };
}

/**
 * A test that every file `write()` returns is valid Python (`python -m
 * py_compile`); without a Python, a test titled `syntax check NOT RUN: …`
 * that says so on stderr instead.
 */
export function itIsValidPython(what: string, write: () => string[]): void {
  if (!anyPython) {
    it(`syntax check NOT RUN: no Python found among ${pythons.join(', ')}`, () => {
      console.warn(`the syntax check of ${what} did not run: no Python among ${pythons.join(', ')}`);
    });
    return;
  }
  it(`is valid Python (${anyPython} -m py_compile)`, () => {
    for (const file of write()) {
      const result = runs(anyPython, ['-m', 'py_compile', file]);
      expect(result.stderr, file).toBe('');
      expect(result.status, file).toBe(0);
    }
  });
}
