#!/usr/bin/env node
// `npm run check:browser`: two pages in headless Chromium (Debian's package:
// apt-get install chromium; or set CHROMIUM), driven over the DevTools
// protocol on a pipe (scripts/chromium.mjs). Not part of `npm test`, which
// must not need a browser.
//
// 1. browser-check/: a page that trains, inverts, saves and loads a flow,
//    built with Vite; its verdict (in <pre id="result">) must start with "OK",
//    and no console error may come.
// 2. playground/: built with Vite and driven by scripts/playground-check.mjs:
//    it trains, a stroke is drawn with the mouse, the data set and the flow
//    are changed through the menus; any console error fails it; a screenshot
//    goes to playground/check-screenshot.png.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveDirectory } from './static-server.mjs';
import { checkPlayground } from './playground-check.mjs';
import { openPage, sleep } from './chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';

async function checkSmokePage() {
  const build = spawnSync(path.join(root, 'node_modules', '.bin', 'vite'), ['build', '--config', 'browser-check/vite.config.ts', '--logLevel', 'error'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) return false;
  const server = await serveDirectory(path.join(root, 'browser-check', 'dist'));
  let page;
  try {
    page = await openPage(`${server.url}index.html`, { chromium, flags: ['--disable-gpu'] });
    // The page writes its verdict into <pre id="result"> when it is done; real time, not virtual time (a 2-core machine needs it).
    const deadline = Date.now() + 180_000;
    let verdict = 'running';
    while (verdict === 'running' && Date.now() < deadline) {
      await sleep(500);
      verdict = (await page.evaluate(`document.getElementById('result')?.textContent ?? 'running'`).catch(() => 'running')) || 'running';
    }
    if (verdict === 'running') verdict = 'no result (the page did not finish in 180 s)';
    console.log(`browser: ${verdict}`);
    for (const error of page.errors) console.log(`browser: ${error}`);
    return verdict.startsWith('OK') && page.errors.length === 0;
  } catch (error) {
    console.error(`browser: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  } finally {
    await page?.close();
    server.close();
  }
}

const smoke = await checkSmokePage();
if (!smoke) process.exit(1);
const playground = await checkPlayground({ chromium });
for (const line of playground.lines) console.log(line);
process.exit(playground.ok ? 0 : 1);
