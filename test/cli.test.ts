/** The `freia-ts` command (built into dist/ by `npm test` before vitest runs). */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturePath } from './helpers/fixtures.js';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'dist', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });

/** A fresh temp folder, removed after the tests. */
const tempDirs: string[] = [];
const tempDir = (prefix: string) => {
  tempDirs.push(mkdtempSync(path.join(tmpdir(), prefix)));
  return tempDirs[tempDirs.length - 1];
};
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('freia-ts CLI', () => {
  it('prints the package version', () => {
    const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    const result = run('--version');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('rejects an unknown command, or none, with exit code 2 and one line naming the commands', () => {
    for (const args of [['frobnicate'], []]) {
      const result = run(...args);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(args.length ? 'unknown command "frobnicate"' : 'which command?');
      expect(result.stderr).toContain('verify, graph, export, example, demo, density, bench');
    }
    expect(run('--help').stdout).toContain('usage: freia-ts <command>');
  });

  it('runs a short demo and reports JSON with the NLL and the picture', () => {
    const out = tempDir('freia-cli-');
    const result = run('demo', '--steps', '5', '--json', '--out', out);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!);
    expect(Number.isFinite(report.nll)).toBe(true);
    expect(report.steps).toBe(5);
    expect(readFileSync(report.picture).subarray(1, 4).toString()).toBe('PNG');
  });


  it('verify: prints each file\'s largest errors and a summary, exit 0 when all match', () => {
    const result = run('verify', fixturePath('glow_fc'), fixturePath('haar_down'));
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/glow_fc\.json\s+2\s+\S+\s+\S+\s+\S+\s+\S+\s+ok/);
    expect(result.stdout).toContain('2 of 2 files match FrEIA');
  });

  it('verify: exits 1 and says FAIL when a file is off', () => {
    const doc = JSON.parse(readFileSync(fixturePath('glow_fc'), 'utf8'));
    const output = doc.cases[0].outputs[0];
    output.data = output.data.map((v: number, i: number) => (i === 0 ? v + 0.01 : v));
    const file = path.join(tempDir('freia-verify-'), 'glow_fc_tampered.json');
    writeFileSync(file, JSON.stringify(doc));
    const result = run('verify', file, fixturePath('split'));
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/glow_fc_tampered\.json\s+2\s+1\.00e-2.*FAIL/);
    expect(result.stdout).toContain('1 of 2 files match FrEIA; 1 off');
  });

  it('verify: reports an import problem as a failure of that file', () => {
    const file = path.join(tempDir('freia-verify-'), 'bad.json');
    writeFileSync(file, JSON.stringify({ format: 'nope', name: 'bad' }));
    const result = run('verify', file);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('format is "nope", expected "freia-reference/1"');
  });
});

describe('freia-ts export', () => {
  it('writes a FrEIA export (freia-reference/1) as a Python module building the FrEIA network', () => {
    const out = path.join(tempDir('freia-export-'), 'glow.py');
    const result = run('export', fixturePath('glow_fc'), '--out', out);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('from glow import build_inn');
    const python = readFileSync(out, 'utf8');
    expect(python).toContain('def build_inn():');
    expect(python).toContain('Fm.GLOWCouplingBlock');
    const printed = run('export', fixturePath('graph_moons'), '--form', 'graph');
    expect(printed.status).toBe(0);
    expect(printed.stdout).toContain('Ff.GraphINN([');
  });

  it('writes a saved flow; refuses modules FrEIA lacks, naming them (exit 1)', async () => {
    const { inn, subnets } = await import('../src/index.js');
    const { saveFlowFile } = await import('../src/node/index.js');
    const dir = tempDir('freia-export-');
    const flow = inn.input([4]).allInOne({ subnet: subnets.mlp({ hidden: 8 }), name: 'block' }).build();
    await saveFlowFile(flow, path.join(dir, 'saved'));
    flow.dispose();
    const out = path.join(dir, 'saved.py');
    expect(run('export', path.join(dir, 'saved', 'model.json'), '-o', out).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('inn.node_names = ["block"]');
    const maf = inn.input([4]).maf({ hidden: 8, name: 'made' }).build();
    await saveFlowFile(maf, path.join(dir, 'maf'));
    maf.dispose();
    expectOneLine(run('export', path.join(dir, 'maf'), '-o', path.join(dir, 'maf.py')), 1, 'node "made" (MaskedAutoregressiveFlow): beyond FrEIA: FrEIA has no masked autoregressive flow (MAF)');
    expect(existsSync(path.join(dir, 'maf.py'))).toBe(false);
  });

  it('--train writes the training script and freia_export.py beside the module', () => {
    const dir = tempDir('freia-export-');
    const out = path.join(dir, 'glow.py');
    const result = run('export', fixturePath('glow_fc'), '--out', out, '--train', path.join(dir, 'train.py'));
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('train: torchrun --nproc_per_node N');
    const script = readFileSync(path.join(dir, 'train.py'), 'utf8');
    expect(script).toContain('MODEL_FILE = "glow.py"');
    expect(script).toContain('DistributedDataParallel(inn,');
    expect(readFileSync(path.join(dir, 'freia_export.py'), 'utf8')).toContain('FORMAT = "freia-reference/1"');
    expectOneLine(run('export', fixturePath('glow_fc'), '--train', path.join(dir, 'train.py')), 2, '--train: give --out too');
    expectOneLine(run('export', fixturePath('glow_fc'), '--out', out, '--train', path.join(dir, 'sub', 'train.py')), 2, 'cannot write there');
    expectOneLine(run('export', fixturePath('glow_fc'), '--out', out, '--train', path.join(tmpdir(), 'train.py')), 2, 'put it in the folder of --out');
  });

  it('checks --out and --form before reading the model (exit 2)', () => {
    const dir = tempDir('freia-export-');
    expectOneLine(run('export', fixturePath('glow_fc'), '--out', path.join(dir, 'x.txt')), 2, `freia-ts export: --out ${path.join(dir, 'x.txt')}: expected a file ending in .py, got ".txt"`);
    expectOneLine(run('export', path.join(dir, 'missing.json'), '--out', '/proc/nope/x.py'), 2, 'cannot write there (its folder: it does not exist)');
    expectOneLine(run('export', fixturePath('glow_fc'), '--form', 'tree'), 2, 'freia-ts export: --form: expected auto or graph, got "tree"');
    expectOneLine(run('export'), 2, 'freia-ts export: expected 1 MODEL, got 0');
  });
});

/** One line on stderr, no stack trace, nothing on stdout, and the exit code. */
function expectOneLine(result: ReturnType<typeof run>, status: number, message: string | RegExp): void {
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  if (typeof message === 'string') expect(result.stderr).toContain(message);
  else expect(result.stderr).toMatch(message);
  expect(result.status).toBe(status);
}

describe('command lines that behave (issue 13)', () => {
  it('demo: unknown flags and bad values are usage errors (exit 2), before any training', () => {
    expectOneLine(run('demo', '--bogus'), 2, /^freia-ts demo: Unknown option '--bogus' \(flags: --steps, --seed, --out, --json, --clip\)/);
    expectOneLine(run('demo', '--steps', '-5'), 2, 'freia-ts demo: --steps: expected a whole number >= 0, got "-5"');
    expectOneLine(run('demo', '--steps', ''), 2, 'freia-ts demo: --steps: expected a whole number >= 0, got ""');
    expectOneLine(run('demo', '--steps', '2.5'), 2, '--steps: expected a whole number >= 0, got "2.5"');
    expectOneLine(run('demo', '--clip=abc'), 2, 'freia-ts demo: --clip: expected a number >= 0, got "abc"');
    expectOneLine(run('demo', 'extra'), 2, 'freia-ts demo: unexpected argument "extra"');
  });

  it('demo: an output folder that cannot be made or written is refused before training', () => {
    const file = path.join(tempDir('freia-cli-'), 'a-file');
    writeFileSync(file, 'x');
    expectOneLine(run('demo', '--steps', '1', '--out', '/proc/nope'), 2, 'freia-ts demo: --out /proc/nope: cannot make the output folder');
    expectOneLine(run('demo', '--steps', '1', '--out', file), 2, `freia-ts demo: --out ${file}: cannot write there (it is not a folder)`);
    expectOneLine(run('demo', '--steps', '1', '--out', path.join(file, 'below')), 2, 'cannot make the output folder (a file is in the way)');
  });

  it('--help prints the command\'s usage and exits 0', () => {
    for (const command of ['demo', 'verify', 'graph', 'export', 'bench', 'density', 'example']) {
      const result = run(command, '--help');
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`usage: freia-ts ${command}`);
    }
  });

  it('graph: an unknown output extension or an unwritable place is refused before reading; a bad file is one line and exit 1', () => {
    const dir = tempDir('freia-graph-');
    expectOneLine(run('graph', fixturePath('glow_fc'), '-o', path.join(dir, 'x.png')), 2, 'freia-ts graph: --output ' + path.join(dir, 'x.png') + ': expected a file ending in .svg, .dot, .mmd, got ".png"');
    expectOneLine(run('graph', fixturePath('glow_fc'), '-o', '/proc/nope/x.svg'), 2, 'cannot write there (its folder: it does not exist)');
    mkdirSync(path.join(dir, 'folder.svg'));
    expectOneLine(run('graph', fixturePath('glow_fc'), '-o', path.join(dir, 'folder.svg')), 2, 'folder.svg: is a folder, expected a file name');
    expectOneLine(run('graph'), 2, 'freia-ts graph: expected 1 FILE, got 0');
    const missing = path.join(dir, 'missing.json');
    expectOneLine(run('graph', missing), 1, /^freia-ts graph: .*missing\.json: ENOENT.* \(--debug shows the stack trace\)\n$/);
    const debug = run('graph', missing, '--debug');
    expect(debug.status).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
    expect(existsSync(path.join(dir, 'x.png'))).toBe(false);
  });

  it('verify: no files is a usage error; --json prints JSON lines only, ending with a summary', () => {
    expectOneLine(run('verify'), 2, 'freia-ts verify: expected at least 1 FILE argument(s), got 0');
    const bad = path.join(tempDir('freia-verify-'), 'no-cases.json');
    const doc = JSON.parse(readFileSync(fixturePath('glow_fc'), 'utf8'));
    delete doc.cases;
    writeFileSync(bad, JSON.stringify(doc));
    const result = run('verify', '--json', fixturePath('glow_fc'), bad);
    expect(result.status).toBe(1);
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ name: 'glow_fc', ok: true, cases: 2, problems: [] });
    expect(lines[1]).toMatchObject({ ok: false, cases: 0, problems: [expect.stringContaining('the file records no evaluations')] });
    expect(lines[2]).toMatchObject({ summary: true, files: 2, matched: 1, failed: 1 });
  });

  it('verify: a file without evaluations does not pass', () => {
    const file = path.join(tempDir('freia-verify-'), 'empty-cases.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(fixturePath('glow_fc'), 'utf8')), cases: [] }));
    const result = run('verify', file);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('FAIL: the file records no evaluations');
    expect(result.stdout).toContain('0 of 1 files match FrEIA; 1 off');
  });

  it('density: bad flags are usage errors before anything runs', () => {
    expectOneLine(run('density', '--steps', '0'), 2, 'freia-ts density: --steps: expected a whole number >= 1, got "0"');
    expectOneLine(run('density', '--hidden', 'wide'), 2, 'freia-ts density: --hidden: expected a whole number from 1 to 4096, got "wide"');
    expectOneLine(run('density', '--out', '/proc/nope'), 2, 'freia-ts density: --out /proc/nope: cannot make the output folder');
  });

  it('bench: bad flags are usage errors before anything runs', () => {
    expectOneLine(run('bench', '--runs', 'abc'), 2, 'freia-ts bench: --runs: expected a whole number >= 10, got "abc"');
    expectOneLine(run('bench', '--depths', '8,x'), 2, 'freia-ts bench: --depths: expected a whole number from 1 to 10000, got "x"');
    expectOneLine(run('bench', '--plot', 'out.png'), 2, 'freia-ts bench: --plot out.png: expected a file ending in .svg');
    expectOneLine(run('bench', '--nope'), 2, "freia-ts bench: Unknown option '--nope'");
  });
});

