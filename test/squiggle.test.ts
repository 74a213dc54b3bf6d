/**
 * Where the editor puts the error of a mis-wired multi-line chain: on the
 * failing method's name (its line and column), once, with no second error
 * after it (issue 15). Each snippet marks the expected spot with `/*here*\/`
 * just before the method name.
 */
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const snippetFile = path.join(root, 'test', '__squiggle__.ts');
const prelude = `import { inn, subnets } from '../src/index.js';\nconst mlp = subnets.mlp({ hidden: 8 });\nconst conv = subnets.conv({ hidden: 8 });\nvoid mlp;\nvoid conv;\n`;

interface Reported {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

function diagnostics(code: string): Reported[] {
  const options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, noEmit: true, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const source = prelude + code + '\n';
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (file) => (path.resolve(file) === snippetFile ? source : readFile(file));
  host.fileExists = (file) => path.resolve(file) === snippetFile || fileExists(file);
  host.getSourceFile = (file, language, onError) => (path.resolve(file) === snippetFile ? ts.createSourceFile(file, source, language) : getSourceFile(file, language, onError));
  const program = ts.createProgram([snippetFile], options, host);
  const sourceFile = program.getSourceFile(snippetFile)!;
  return ts.getPreEmitDiagnostics(program, sourceFile).map((d) => {
    const { line, character } = sourceFile.getLineAndCharacterOfPosition(d.start ?? 0);
    return { line, column: character, message: ts.flattenDiagnosticMessageText(d.messageText, '\n') };
  });
}

/** The line and column just after the marker, where the method name starts. */
function marked(code: string): { line: number; column: number } {
  const source = prelude + code;
  const at = source.indexOf('/*here*/') + '/*here*/'.length;
  const before = source.slice(0, at).split('\n');
  return { line: before.length - 1, column: before[before.length - 1].length };
}

const chains: { name: string; code: string; message: string }[] = [
  {
    name: 'a third Haar downsampling of 28×28',
    code: `const flow = inn.input([1, 28, 28])
  .haarDownsample()
  .glow({ subnet: conv })
  .permuteRandom()
  .haarDownsample()
  .glow({ subnet: conv })
  .actNorm()
  .permuteRandom()
  ./*here*/haarDownsample()
  .flatten()
  .build();`,
    message: 'downsampling needs an even height and width, got [16, 7, 7]',
  },
  {
    name: 'a coupling on one channel',
    code: `const flow = inn.input([1, 28, 28])
  .actNorm()
  ./*here*/glow({ subnet: conv })
  .haarDownsample()
  .build();`,
    message: 'glow splits the channels into two non-empty halves',
  },
  {
    name: 'a single-stream block after a split',
    code: `const flow = inn.input([8])
  .actNorm()
  .split([4, 4])
  ./*here*/allInOne({ subnet: mlp })
  .concat()
  .build();`,
    message: 'this operation needs exactly one live stream, but 2 are live',
  },
  {
    name: 'a vector-only module on an image',
    code: `const flow = inn.input([4, 8, 8])
  .actNorm()
  ./*here*/orthogonal()
  .flatten()
  .build();`,
    message: 'orthogonal needs a vector input [C], got [4, 8, 8]',
  },
  {
    name: 'flatten with two live streams',
    code: `const flow = inn.input([4, 8, 8])
  .split([2, 2])
  ./*here*/flatten()
  .build();`,
    message: 'this operation needs exactly one live stream, but 2 are live',
  },
  {
    name: 'concat of mismatched images',
    code: `const flow = inn.input([8, 32, 32])
  .split([4, 4])
  .on(1, (s) => s.haarDownsample())
  ./*here*/concat()
  .build();`,
    message: 'concat needs shapes equal except in dim 0, got [4, 32, 32] and [16, 16, 16]',
  },
  {
    name: 'upsampling channels not divisible by 4',
    code: `const flow = inn.input([6, 16, 16])
  .actNorm()
  ./*here*/irevnetUpsample()
  .build();`,
    message: 'upsampling needs channels divisible by 4, got [6, 16, 16]',
  },
];

describe('the error lands on the method that is wrong', () => {
  for (const chain of chains) {
    it(chain.name, () => {
      const reported = diagnostics(chain.code);
      expect(reported).toHaveLength(1);
      expect({ line: reported[0].line, column: reported[0].column }).toEqual(marked(chain.code));
      expect(reported[0].message).toContain(chain.message);
    });
  }

  it('a well-wired chain of the same methods has no error', () => {
    expect(diagnostics(`const flow = inn.input([1, 28, 28]).haarDownsample().glow({ subnet: conv }).haarDownsample().glow({ subnet: conv }).flatten().split([392, 392]).concat().build();`)).toEqual([]);
  });
});
