#!/usr/bin/env node
/**
 * The `freia-ts` command. Each subcommand is its own module, loaded only
 * when asked for, so `freia-ts --help` starts instantly.
 */
import { readFileSync } from 'node:fs';

const commands: Record<string, { summary: string; load: () => Promise<unknown> }> = {
  verify: { summary: 'check FrEIA exports: re-run their recorded evaluations, print the largest errors (FILE...)', load: () => import('./commands/verify.js') },
  graph: { summary: 'draw a saved or FrEIA-exported model: nodes, module kinds, shapes, conditions (FILE -o graph.svg|.dot|.mmd)', load: () => import('./commands/graph.js') },
  export: { summary: 'write a saved or FrEIA-exported model as a Python module building the FrEIA network (MODEL --out model.py)', load: () => import('./commands/export.js') },
  example: { summary: 'run an example with real data: moons, mnist-cinn, mnist-conv, custom-module, freia-import (NAME; flags: --steps, --seed, --out, --json)', load: () => import('./commands/example.js') },
  demo: { summary: 'train the moons INN and write a picture (flags: --steps, --seed, --out, --json, --clip)', load: () => import('./demo.js') },
  density: { summary: 'compare flow families on 2-D densities: held-out NLL, time, density pictures (flags: --steps, --hidden, --out, --json)', load: () => import('./commands/density.js') },
  bench: { summary: 'run the benchmark workloads, one JSON line each (flags: --runs, --only, --profile; see --help)', load: () => import('./bench.js') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return ['usage: freia-ts <command> [flags]', '', 'commands:', ...lines, '', '  --version  print the version', '', 'Each command takes --help, and --debug to print the stack trace of a failure.'].join('\n');
}

const [command, ...rest] = process.argv.slice(2);
if (command === '--version' || command === '-v') {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  console.log(pkg.version);
} else if (command === '--help' || command === '-h' || command === 'help') {
  console.log(usage());
} else if (!command) {
  console.error(`freia-ts: which command? (${Object.keys(commands).join(', ')}; freia-ts --help shows the usage)`);
  process.exit(2);
} else if (commands[command]) {
  // The subcommand modules read their flags from process.argv.
  process.argv = [process.argv[0], process.argv[1], ...rest];
  await commands[command].load();
} else {
  console.error(`freia-ts: unknown command "${command}" (commands: ${Object.keys(commands).join(', ')}; freia-ts --help shows the usage)`);
  process.exit(2);
}
