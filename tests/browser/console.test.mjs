// Console main flows in a real browser: Debian's Chromium driven by playwright-core.
// Starts `yutang demo` on a free port with a throwaway SQLite database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = process.env.YUTANG_BIN || join(ROOT, 'target/debug/yutang');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = join(ROOT, 'target/browser-screenshots');

let server, base, browser, dir;

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function waitHealthy(url, ms = 30000) {
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

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'yutang-browser-'));
  mkdirSync(SHOTS, { recursive: true });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['demo', '--listen', `127.0.0.1:${port}`, '--database-url', `sqlite://${join(dir, 'demo.db')}`], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, YUTANG_LOG: 'warn' },
  });
  await waitHealthy(base);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function signIn(page, username, password = 'yutang-demo') {
  await page.goto(`${base}/console`);
  assert.match(page.url(), /\/console\/login/);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/console`);
}

test('admin signs in, sees the demo brand, creates a store and a guide, switches to English', async () => {
  const page = await browser.newPage();
  await signIn(page, 'admin');
  assert.equal(await page.textContent('#count-stores'), '20');
  assert.equal(await page.textContent('#count-staff'), '105');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  await page.screenshot({ path: join(SHOTS, 'home.png'), fullPage: true });

  // New store through the form.
  await page.click('nav >> text=门店');
  await page.click('text=新建门店');
  await page.fill('#code', 'xa-001');
  await page.fill('#name', '鲜果时光·西安钟楼店');
  await page.selectOption('#region_id', { label: '西南大区' });
  await page.fill('#city', '西安');
  await page.click('#store-form button[type=submit]');
  await page.waitForURL(/\/console\/stores\/\d+\?ok=created/);
  assert.equal(await page.inputValue('#code'), 'XA-001');

  // New guide in that store; a bad username is explained first.
  await page.goto(`${base}/console/staff/new`);
  await page.fill('#username', 'Bad Name');
  await page.fill('#display_name', '马小跳');
  await page.selectOption('#role', 'guide');
  await page.selectOption('#store_id', { label: 'XA-001 鲜果时光·西安钟楼店' });
  await page.fill('#password', 'guide-pass-123');
  await page.click('#staff-form button[type=submit]');
  assert.match(await page.textContent('[role=alert]'), /用户名需为/);
  assert.equal(await page.inputValue('#display_name'), '马小跳');
  await page.fill('#username', 'xa-001.guide1');
  await page.fill('#password', 'guide-pass-123');
  await page.click('#staff-form button[type=submit]');
  await page.waitForURL(/\/console\/staff\/\d+\?ok=created/);
  assert.match(await page.textContent('[role=status]'), /已创建/);

  await page.goto(`${base}/console/staff?q=xa-001`);
  assert.match(await page.textContent('#staff-table'), /马小跳/);
  await page.screenshot({ path: join(SHOTS, 'staff.png'), fullPage: true });

  // English.
  await page.click('a.lang');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.match(page.url(), /\/console\/staff\?q=xa-001/);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('nav'), /Staff/);
  await page.screenshot({ path: join(SHOTS, 'staff-en.png'), fullPage: true });

  // Audit log shows the sign-in.
  await page.goto(`${base}/console/audit?action=login`);
  assert.match(await page.textContent('#audit-table'), /admin/);

  // Sign out.
  await page.click('text=Sign out');
  await page.waitForURL(/\/console\/login/);
  await page.close();
});

test('a guide sees only their own store and no admin pages', async () => {
  const page = await browser.newPage();
  await signIn(page, 'sh-001.guide1');
  assert.equal(await page.textContent('#count-stores'), '1');
  await page.goto(`${base}/console/staff`);
  const table = await page.textContent('#staff-table');
  assert.match(table, /sh-001\.manager/);
  assert.doesNotMatch(table, /sh-002|bj-001|admin/);
  assert.equal(await page.locator('nav a[href="/console/tokens"]').count(), 0);
  const r = await page.goto(`${base}/console/tokens`);
  assert.equal(r.status(), 403);
  await page.close();
});
