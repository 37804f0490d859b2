// The guide's mobile workbench (移动工作台, issue #23 item 3) on a 390 px phone: a guide of the
// demo brand signs in, opens /console/workbench, finds one of their customers by the phone's
// last four digits, switches to 我的待办 and marks a task done (set by the admin through the
// API for this test), looks at 活码海报 and 本周数据 when it is there, and reads it in English.
// No page of the workbench scrolls sideways.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

const GUIDE = 'sh-001.guide1';
const PASSWORD = 'yutang-demo';

async function login(base, username) {
  const r = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

async function api(base, token, method, path, body) {
  const r = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

/** Whether the page is wider than the viewport (a sideways scroll). */
async function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

test('a guide uses the workbench on a phone', async () => {
  const demo = await startDemo(['--customers', '300']);
  try {
    const { base } = demo;
    const guide = await login(base, GUIDE);
    const admin = await login(base, 'admin');
    // One of the guide's customers with a phone, found through the guide's own scope.
    const list = await api(base, guide.token, 'GET', '/customers?identity_kind=phone&page_size=20');
    const customer = list.items.find((c) => c.phone);
    assert.ok(customer, 'the guide has a customer with a phone');
    const suffix = customer.phone.slice(-4);
    const task = await api(base, admin.token, 'POST', '/guide-tasks', {
      staff_id: guide.staff_id, customer_id: customer.id, title: '工作台回访测试',
      body: '问问近况', due_at: new Date(Date.now() + 3600000).toISOString(),
    });

    const ctx = await demo.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, base, GUIDE);
    await page.goto(`${base}/console/workbench`);
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.equal(await page.textContent('#tab-customers[aria-current=page]'), '我的客户');
    await page.waitForSelector('#customers li[data-customer]');
    assert.ok(await overflow(page) <= 0, 'customers: no sideways scroll');
    await page.screenshot({ path: join(SHOTS, 'workbench-customers-390.png') });

    // The phone's last four digits find the customer.
    await page.fill('#q', suffix);
    await page.click('#do-search');
    await page.waitForURL(/q=\d{4}/);
    await page.waitForSelector(`#customers li[data-customer="${customer.id}"]`);
    const phones = await page.$$eval('#customers [data-phone]', (els) => els.map((e) => e.textContent));
    assert.ok(phones.length > 0 && phones.every((p) => p.endsWith(suffix)), phones.join(','));
    assert.ok(phones.every((p) => p.includes('****')), 'phones masked');

    // 我的待办: the task is there; 完成 closes it.
    await page.click('#tab-tasks');
    await page.waitForURL(/tab=tasks/);
    const row = `#tasks li[data-task="${task.id}"]`;
    await page.waitForSelector(row);
    assert.ok(await overflow(page) <= 0, 'tasks: no sideways scroll');
    await page.screenshot({ path: join(SHOTS, 'workbench-tasks-390.png') });
    await page.fill(`${row} form[data-action=done] input[name=note]`, '已回访');
    await page.click(`${row} form[data-action=done] button`);
    await page.waitForURL(/ok_task=done/);
    await page.waitForSelector('#notice');
    assert.equal(await page.$(row), null, 'the done task left the list');
    const closed = await api(base, guide.token, 'GET', `/guide-tasks/${task.id}`);
    assert.equal(closed.state, 'done');

    // 活码海报 and 本周数据 (when the leaderboards are built) lay out without a sideways scroll.
    await page.click('#tab-codes');
    await page.waitForURL(/tab=codes/);
    await page.waitForSelector('#codes');
    assert.ok(await overflow(page) <= 0, 'codes: no sideways scroll');
    await page.screenshot({ path: join(SHOTS, 'workbench-codes-390.png') });
    await page.click('#tab-numbers');
    await page.waitForURL(/tab=numbers/);
    await page.waitForSelector('main[data-tab=numbers]');
    assert.ok(await overflow(page) <= 0, 'numbers: no sideways scroll');
    await page.screenshot({ path: join(SHOTS, 'workbench-390.png'), fullPage: true });

    // English through the switch, back on the same tab.
    await page.click('#lang');
    await page.waitForSelector('html[lang=en]');
    assert.match(page.url(), /tab=numbers/);
    assert.equal(await page.textContent('#tab-customers'), 'Customers');
    await page.goto(`${base}/console/lang?to=zh&back=/console/workbench`);
    await page.waitForSelector('html[lang=zh-CN]');
    assert.deepEqual(errors, []);
    await ctx.close();
  } finally {
    await demo.stop();
  }
});
