// Headless Chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: the protocol on fds 3 and 4, messages
// NUL-terminated; no port, no WebSocket library), for `npm run check:browser`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts Chromium (Debian's package: apt-get install chromium; or set CHROMIUM)
 * with a throw-away profile and `flags`, opens `url` in a `width × height` page,
 * and collects its console errors (console.error, uncaught exceptions, failed
 * loads) and warnings. Resolves to { evaluate, send, errors, warnings, screenshot, close }.
 */
export async function openPage(url, { chromium = process.env.CHROMIUM ?? '/usr/bin/chromium', flags = [], width = 1400, height = 1000 } = {}) {
  const profile = mkdtempSync(path.join(tmpdir(), 'freia-chromium-'));
  const child = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, `--window-size=${width},${height}`, ...flags,
    '--remote-debugging-pipe', 'about:blank'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.on('close', resolve));
  const failed = new Promise((_, reject) => child.on('error', (error) => reject(new Error(`cannot start ${chromium}: ${error.message} (apt-get install chromium, or set CHROMIUM)`))));
  failed.catch(() => undefined);
  let nextId = 1;
  const waiting = new Map();
  const listeners = [];
  let buffer = '';
  child.stdio[4].on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    let end;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
      if (message.id !== undefined && waiting.has(message.id)) {
        const { resolve, reject } = waiting.get(message.id);
        waiting.delete(message.id);
        if (message.error) reject(new Error(`${message.error.message} ${message.error.data ?? ''}`));
        else resolve(message.result);
      } else if (message.method) {
        for (const listener of listeners) listener(message);
      }
    }
  });
  const call = (method, params = {}, sessionId) => Promise.race([failed, new Promise((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve, reject });
    child.stdio[3].write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
  })]);
  const close = async () => {
    await Promise.race([call('Browser.close').catch(() => undefined), sleep(5000)]);
    await Promise.race([exited, sleep(5000)]);
    child.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const { targetId } = await call('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await call('Target.attachToTarget', { targetId, flatten: true });
    const send = (method, params) => call(method, params, sessionId);
    const errors = [];
    const warnings = [];
    listeners.push(({ sessionId: from, method, params }) => {
      if (from !== sessionId) return;
      if (method === 'Runtime.consoleAPICalled') {
        const text = params.args.map((a) => a.value ?? a.description ?? a.type).join(' ');
        if (params.type === 'error' || params.type === 'assert') errors.push(`console.${params.type}: ${text}`);
        else if (params.type === 'warning') warnings.push(text);
      } else if (method === 'Runtime.exceptionThrown') {
        const d = params.exceptionDetails;
        errors.push(`uncaught: ${d.exception?.description ?? d.text}`);
      } else if (method === 'Log.entryAdded' && params.entry.level === 'error') {
        errors.push(`${params.entry.source}: ${params.entry.text} ${params.entry.url ?? ''}`);
      }
    });
    await send('Runtime.enable');
    await send('Log.enable');
    await send('Page.enable');
    await send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    await send('Page.navigate', { url });
    /** The value of a page expression (promises awaited). */
    const evaluate = async (expression) => {
      const { result, exceptionDetails } = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
      if (exceptionDetails) throw new Error(`${expression}: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
      return result.value;
    };
    /** The page as PNG bytes. */
    const screenshot = async () => Buffer.from((await send('Page.captureScreenshot', { format: 'png' })).data, 'base64');
    return { send, evaluate, errors, warnings, screenshot, close };
  } catch (error) {
    await close();
    throw error;
  }
}
