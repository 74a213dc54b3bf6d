/**
 * Docs that work when pasted: every `ts` block of the README type-checks
 * against the library (with `@ts-expect-error` lines really failing), and
 * every block runs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import ts from 'typescript';
import path from 'node:path';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';

const root = path.resolve(import.meta.dirname, '..');
const scratch = path.join(root, 'test', '.docs-scratch');
const blocks = [...readFileSync(path.join(root, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const entry = path.join(root, 'src', 'index.js');
const nodeEntry = path.join(root, 'src', 'node', 'index.js');

/** Every ```ts block of a TSDoc comment in src/, with the comment's leading ` * ` removed. */
function tsdocExamples(): { file: string; code: string }[] {
  const files = readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  return files.flatMap((file) => {
    const text = readFileSync(path.join(root, 'src', file), 'utf8');
    return [...text.matchAll(/^\s*\* ```ts\n([\s\S]*?)^\s*\* ```/gm)].map((m) => ({
      file,
      code: m[1].split('\n').map((line) => line.replace(/^\s*\* ?/, '')).join('\n'),
    }));
  });
}

/** Compiles snippets (importing 'freia-ts' or 'freia-ts/node') against the sources, strictly; returns the messages. */
function typeCheck(snippets: { label: string; code: string }[]): string[] {
  const files = snippets.map(({ code }, k) => {
    const file = path.join(scratch, `snippet-${k}.ts`);
    writeFileSync(file, localize(code) + '\nexport {};\n');
    return file;
  });
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, noEmit: true, skipLibCheck: true, types: ['node'],
  };
  const program = ts.createProgram(files, options);
  return files.flatMap((f, k) => ts.getPreEmitDiagnostics(program, program.getSourceFile(f)).map((d) => `${snippets[k].label}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`));
}

function localize(code: string): string {
  return code.replaceAll("from 'freia-ts/node'", `from ${JSON.stringify(nodeEntry)}`).replaceAll("from 'freia-ts'", `from ${JSON.stringify(entry)}`);
}

mkdirSync(scratch, { recursive: true });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('README examples', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThanOrEqual(2));

  it('type-check', () => {
    expect(typeCheck(blocks.map((code, k) => ({ label: `README block ${k}`, code })))).toEqual([]);
  });

  it('TSDoc examples in src/ type-check', () => {
    const examples = tsdocExamples();
    expect(examples.length).toBeGreaterThanOrEqual(10);
    expect(typeCheck(examples.map(({ file, code }) => ({ label: file, code })))).toEqual([]);
  });

  // A block that shows mis-wired code is only type-checked: it is meant to fail at run time.
  blocks.forEach((code, k) => {
    if (code.includes('@ts-expect-error')) return;
    it(`block ${k} runs without leaking tensors`, async () => {
      const file = path.join(scratch, `run-${k}.ts`);
      writeFileSync(file, localize(code) + '\nexport {};\n');
      const before = tf.memory().numTensors;
      await import(file);
      // Building a flow allocates its parameters; a README block leaves them to the user, so count only non-variables.
      const variables = Object.values(tf.engine().registeredVariables).length;
      expect(tf.memory().numTensors - before).toBeLessThanOrEqual(variables);
    });
  });
});
