#!/usr/bin/env node
// `npm run check:browser`: builds browser-check/ (a page that trains, inverts,
// saves and loads a flow) with Vite and runs it in headless Chromium
// (Debian's package: apt-get install chromium). Prints the page's verdict;
// exits 1 unless it starts with "OK". Not part of `npm test`, which must not
// need a browser.
import { spawnSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(path.join(root, 'node_modules', '.bin', 'vite'), ['build', '--config', 'browser-check/vite.config.ts', '--logLevel', 'error'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

const dist = path.join(root, 'browser-check', 'dist');
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
const server = createServer(async (req, res) => {
  const file = path.join(dist, decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (!file.startsWith(dist)) return res.writeHead(403).end();
  try {
    const body = await readFile(file.endsWith('/') ? path.join(file, 'index.html') : file);
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
}).listen(0, '127.0.0.1');
await new Promise((resolve) => server.on('listening', resolve));
const url = `http://127.0.0.1:${server.address().port}/index.html`;

const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
// A throw-away browser profile, removed when the check ends.
const profile = mkdtempSync(path.join(tmpdir(), 'freia-chromium-'));
process.on('exit', () => rmSync(profile, { recursive: true, force: true }));
const args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`,
  '--virtual-time-budget=60000', '--dump-dom', url];
const child = spawn(chromium, args, { stdio: ['ignore', 'pipe', 'ignore'] });
let dom = '';
child.stdout.on('data', (chunk) => (dom += chunk));
const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
child.on('error', (error) => {
  console.error(`cannot start ${chromium}: ${error.message} (apt-get install chromium, or set CHROMIUM)`);
  process.exit(1);
});
child.on('close', () => {
  clearTimeout(timer);
  server.close();
  const verdict = /<pre id="result">([^<]*)/.exec(dom)?.[1] ?? 'no result (the page did not finish)';
  console.log(`browser: ${verdict}`);
  process.exit(verdict.startsWith('OK') ? 0 : 1);
});
