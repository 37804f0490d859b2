// The console's overview page is the dashboard (issue #24 item 1): after sign-in the admin sees
// a card per figure with its total, its change and a sparkline of its days; an order written
// through the API for a day the demo has no data shows on that day's dashboard once the
// server's rollup follower has taken it in (the page is reloaded until it does — no fixed
// wait); the period form and the presets re-render the page for the period asked; 导出 CSV
// downloads that period's days; at 390 px the cards fit without the page scrolling sideways.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '150']); });
after(async () => { await demo?.stop(); });

const DAY = 86_400_000;
/** `YYYY-MM-DD` of an instant in Asia/Shanghai. */
const shanghai = (ms) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(ms));
// A day long before the demo's year of orders: nothing else happens on it.
const QUIET = shanghai(Date.now() - 1000 * DAY);
const FEN = 123_456;

/** The staff API as the demo's admin. */
async function staffApi(base) {
  const r = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'yutang-demo' }),
  });
  assert.equal(r.status, 200);
  const { token } = await r.json();
  return async (method, path, body) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/** Every tile's figures, as the page tells them. */
const tiles = (page) => page.evaluate(() => Object.fromEntries(
  [...document.querySelectorAll('#dash-tiles [data-metric]')].map((t) => [t.dataset.metric, {
    total: Number(t.dataset.total),
    shown: t.querySelector('[data-role="total"]').textContent.trim(),
    change: t.querySelector('[data-role="change"]').textContent.trim(),
    values: t.querySelector('svg.spark').dataset.values.split(',').map(Number),
    title: t.querySelector('svg.spark title').textContent,
  }]),
));

/** Reload `url` until `ok(page)` holds (the follower runs every 500 ms while idle). */
async function reloadUntil(page, url, ok, what, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await page.goto(url);
    assert.equal(r.status(), 200, url);
    if (await ok(page)) return;
    if (Date.now() > end) throw new Error(`${what}: not reached in ${ms} ms`);
    await new Promise((res) => setTimeout(res, 200)); // the poll's interval, not a wait for time
  }
}

test('the dashboard shows the figures, follows new orders, changes period and exports CSV', async () => {
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const page = await ctx.newPage();
  const errors = [];
  const outside = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => { if (!r.url().startsWith(demo.base)) outside.push(r.url()); });
  try {
    await signIn(page, demo.base, 'admin');

    // The overview is the dashboard: the greeting, the brand's cards, the last 30 days.
    assert.match(await page.textContent('#greeting'), /欢迎回来/);
    assert.equal(await page.getAttribute('#dashboard', 'data-level'), 'brand');
    assert.equal(await page.getAttribute('#dash-period', 'data-days'), '30');
    assert.equal(await page.getAttribute('#dash-period', 'data-to'), shanghai(Date.now()));
    const first = await tiles(page);
    for (const m of ['pool', 'new_customers', 'contacts_added', 'net_adds', 'orders', 'gmv_fen', 'coupons_used']) {
      assert.ok(first[m], `tile ${m}`);
      assert.equal(first[m].values.length, 30, `${m}: a value per day`);
    }
    assert.match(first.orders.title, /^订单数每日走势/);
    assert.match(first.gmv_fen.shown, /^¥-?\d+\.\d{2}$/);
    assert.equal(await page.locator('#dash-tiles svg.spark[role="img"]').count(), Object.keys(first).length);
    await page.screenshot({ path: join(SHOTS, 'dashboard.png'), fullPage: true });

    // An order on a quiet day, through the API: that day's dashboard shows it once followed.
    const api = await staffApi(demo.base);
    const quiet = `${demo.base}/console?from=${QUIET}&to=${QUIET}`;
    let r = await page.goto(quiet);
    assert.equal(r.status(), 200);
    assert.equal((await tiles(page)).orders.total, 0, 'nothing on the quiet day yet');
    await api('POST', '/orders', {
      external_id: 'BROWSER-DASH-1', customer_id: 1, channel: 'store',
      paid_at: `${QUIET}T12:00:00+08:00`,
      lines: [{ sku: 'DASH', name: '车厘子礼盒', quantity: 1, unit_price_fen: FEN }],
    });
    await reloadUntil(page, quiet, async (p) => (await tiles(p)).orders.total === 1, 'the order on the dashboard');
    const day = await tiles(page);
    assert.equal(day.gmv_fen.total, FEN);
    assert.equal(day.gmv_fen.shown, '¥1234.56');
    assert.deepEqual(day.orders.values, [1]);
    // Nothing the day before: no change to compare with.
    assert.equal(day.orders.change, '—');

    // The form: a two-day period ending on the quiet day re-renders with two days.
    const before = shanghai(Date.parse(`${QUIET}T12:00:00+08:00`) - DAY);
    await page.fill('#dash-from', before);
    await Promise.all([page.waitForURL(/[?&]from=/), page.click('#dash-apply')]);
    assert.match(page.url(), new RegExp(`from=${before}&to=${QUIET}`));
    assert.equal(await page.getAttribute('#dash-period', 'data-days'), '2');
    const two = await tiles(page);
    assert.deepEqual(two.orders.values, [0, 1]);
    assert.equal(two.gmv_fen.total, FEN);

    // A store picked in the form: that store's figures.
    const store = await page.locator('#dash-store option[value]:not([value=""])').first();
    const storeId = await store.getAttribute('value');
    await page.selectOption('#dash-store', storeId);
    await Promise.all([page.waitForURL(new RegExp(`store_id=${storeId}`)), page.click('#dash-apply')]);
    assert.equal(await page.getAttribute('#dashboard', 'data-level'), 'store');
    assert.equal(await page.getAttribute('#dash-scope', 'data-store'), storeId);
    assert.equal(await page.locator('#tile-new_customers').count(), 0, 'brand-only figures hidden');
    assert.equal(await page.locator('#dash-store option[selected]').getAttribute('value'), storeId);

    // A preset: the last 7 days, the store kept.
    await Promise.all([page.waitForURL(/from=/), page.click('#dash-presets a[data-days="7"]')]);
    assert.equal(await page.getAttribute('#dash-period', 'data-days'), '7');
    assert.equal(await page.getAttribute('#dash-presets a[data-days="7"]', 'aria-current'), 'true');
    assert.equal(await page.getAttribute('#dash-scope', 'data-store'), storeId);
    assert.equal((await tiles(page)).orders.values.length, 7);

    // 导出 CSV: the quiet day's figures, a day per row then the totals.
    await page.goto(quiet);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dash-export')]);
    assert.equal(download.suggestedFilename(), 'dashboard.csv');
    const csv = readFileSync(await download.path(), 'utf8');
    assert.ok(csv.startsWith('\uFEFF日期,'), csv.slice(0, 80));
    const rows = csv.slice(1).trim().split('\r\n').map((l) => l.split(','));
    assert.equal(rows.length, 3, csv);
    const col = rows[0].indexOf('成交额（元）');
    assert.ok(col > 0, rows[0].join(','));
    assert.equal(rows[1][0], QUIET);
    assert.equal(rows[1][col], '1234.56');
    assert.equal(rows[2][0], '合计');
    assert.equal(rows[2][col], '1234.56');

    // In English: the same page's labels.
    await page.goto(`${demo.base}/console/lang?to=en&back=${encodeURIComponent(`/console?from=${QUIET}&to=${QUIET}`)}`);
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    assert.match(await page.textContent('#tile-orders'), /Orders/);
    assert.match(await page.textContent('#dash-export'), /Export CSV/);
    assert.match((await tiles(page)).orders.title, /^Orders per day/);

    // On a phone: the cards fit, the page does not scroll sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${demo.base}/console`);
    const small = await page.evaluate(() => {
      const spark = document.querySelector('#tile-orders svg.spark').getBoundingClientRect();
      return {
        scroll: document.documentElement.scrollWidth, view: window.innerWidth,
        left: spark.left, right: spark.right, width: spark.width,
      };
    });
    assert.ok(small.scroll <= small.view, JSON.stringify(small));
    assert.ok(small.left >= 0 && small.right <= small.view && small.width > 60, JSON.stringify(small));
    await page.screenshot({ path: join(SHOTS, 'dashboard-390.png'), fullPage: true });
    assert.deepEqual(errors, []);
    assert.deepEqual(outside, [], 'no request leaves the server');
  } finally {
    await ctx.close();
  }
});
