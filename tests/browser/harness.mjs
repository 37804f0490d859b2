// Shared by the browser tests: start `yutang demo` on a free port with a throwaway SQLite
// database, launch Debian's Chromium through playwright-core, sign in.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
const BIN = process.env.YUTANG_BIN || join(ROOT, 'target/debug/yutang');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = join(ROOT, 'target/browser-screenshots');

/** A port free a moment ago (nothing listens on it until someone binds it). */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

// Seeding 50,000 demo customers with a debug build takes most of a minute on a busy machine.
async function waitHealthy(url, ms = 180000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('yutang did not become healthy');
}

/** Start the demo and a browser; `stop()` ends both and removes the database. */
export async function startDemo(extraArgs = ['--customers', '10000']) {
  const dir = mkdtempSync(join(tmpdir(), 'yutang-browser-'));
  mkdirSync(SHOTS, { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(BIN, ['demo', '--listen', `127.0.0.1:${port}`, '--database-url', `sqlite://${join(dir, 'demo.db')}`, ...extraArgs], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, YUTANG_LOG: 'warn' },
  });
  try {
    await waitHealthy(base);
  } catch (e) {
    server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const stop = async () => {
    await browser?.close();
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  return { base, browser, stop };
}

export async function signIn(page, base, username, password = 'yutang-demo') {
  await page.goto(`${base}/console`);
  assert.match(page.url(), /\/console\/login/);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/console`);
}
