// The console's metrics page (指标, issue #24 items 2 and 3): the admin opens it from the menu
// next to 概览 and sees the metric lines with each definition on the page (引流率 with its
// healthy value), the two metrics not measurable yet marked 暂无数据; changes the period with
// the month inputs and the first-order window; sees the funnel drawn as bars and the cohort
// matrix, which agree with each other; downloads tables as CSV that match the page; reads it
// in English; a store manager sees their store only; at 390 px the page does not scroll
// sideways. The figures come from the server's rollup follower: the page is reloaded until
// they are in (a state, not a time).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SHOTS, signIn, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '150']); });
after(async () => { await demo?.stop(); });

/** `YYYY-MM` of an instant in Asia/Shanghai. */
const shanghaiMonth = (ms) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' })
  .format(new Date(ms)).slice(0, 7);
/** The month `n` months before `YYYY-MM`. */
function monthsBefore(month, n) {
  const [y, m] = month.split('-').map(Number);
  const k = y * 12 + (m - 1) - n;
  return `${Math.floor(k / 12)}-${String((k % 12) + 1).padStart(2, '0')}`;
}

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

/** The page's figures, as it tells them. */
const figures = (page) => page.evaluate(() => ({
  level: document.querySelector('#metrics').dataset.level,
  months: [...document.querySelectorAll('#m-metrics thead th[data-month]')].map((th) => th.dataset.month),
  lines: Object.fromEntries([...document.querySelectorAll('#m-metrics tbody tr[data-metric]')].map((tr) => [tr.dataset.metric, {
    total: tr.dataset.total,
    shown: tr.querySelector('[data-role="total"]').textContent.trim(),
    name: tr.querySelector('[data-role="name"]').textContent.trim(),
    definition: tr.querySelector('[data-role="definition"]').textContent.trim(),
    healthy: tr.querySelector('[data-role="healthy"]')?.textContent.trim() ?? null,
  }])),
  funnel: Object.fromEntries([...document.querySelectorAll('#m-funnel [data-step]')].map((b) => [b.dataset.step, {
    count: Number(b.dataset.count),
    width: b.querySelector('.m-bar').getBoundingClientRect().width,
    track: b.querySelector('.m-bar-track').getBoundingClientRect().width,
  }])),
  cohorts: [...document.querySelectorAll('#m-cohorts tbody tr')].map((tr) => ({
    month: tr.dataset.month,
    joined: Number(tr.dataset.joined),
    k0: tr.querySelector('td[data-k="0"]').dataset.count ?? null,
    shaded: [...tr.querySelectorAll('td.m-cell')].filter((td) => td.style.background !== '').length,
  })),
}));

/** Click an export link: the download's name and CSV rows (after checking the BOM). */
async function download(page, selector) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  const text = readFileSync(await d.path(), 'utf8');
  assert.ok(text.startsWith('\uFEFF'), `a BOM: ${text.slice(0, 40)}`);
  return { name: d.suggestedFilename(), rows: text.slice(1).trim().split('\r\n').map((l) => l.split(',')) };
}

test('the metrics page shows the figures with their definitions, changes period and exports CSV', async () => {
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const page = await ctx.newPage();
  const errors = [];
  const outside = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => { if (!r.url().startsWith(demo.base)) outside.push(r.url()); });
  try {
    await signIn(page, demo.base, 'admin');

    // 指标 sits in the menu right after 概览.
    const items = await page.locator('nav.side > a').allTextContents();
    assert.deepEqual(items.slice(0, 2).map((t) => t.trim()), ['概览', '指标']);
    await Promise.all([page.waitForURL(`${demo.base}/console/metrics`), page.click('nav.side a[href="/console/metrics"]')]);
    assert.equal(await page.getAttribute('nav.side a.on', 'href'), '/console/metrics');

    // The demo's orders and adds once the follower has taken them all in: no rebuild
    // pending, buyers on the page, and the same figures on two loads in a row.
    const url = `${demo.base}/console/metrics`;
    let previous = null;
    await reloadUntil(page, url, async (p) => {
      if (await p.locator('#m-rebuilding').count() > 0) return false;
      const snap = JSON.stringify(await figures(p));
      const same = snap === previous;
      previous = snap;
      return same && Number(JSON.parse(snap).lines.buyers.total) > 0;
    }, 'the figures followed');
    const now = shanghaiMonth(Date.now());
    let f = await figures(page);
    assert.equal(f.level, 'brand');
    assert.equal(f.months.length, 6);
    assert.equal(f.months.at(-1), now);
    // 引流率 with its definition visible on the page and its healthy value.
    const traffic = f.lines.traffic_rate;
    assert.equal(traffic.name, '引流率');
    assert.match(traffic.definition, /月初还不在私域/);
    assert.equal(traffic.healthy, '健康值 ≈ 15%');
    assert.match(traffic.shown, /^(\d+\.\d{2}%|—)$/);
    assert.ok(await page.locator('#m-metrics tr[data-metric="traffic_rate"] [data-role="definition"]').isVisible());
    for (const key of ['first_order_rate', 'repurchase_rate', 'second_order_rate', 'purchase_frequency_milli', 'spend_per_buyer_fen', 'orders', 'net_sales_fen']) {
      assert.ok(f.lines[key], key);
      assert.ok(f.lines[key].definition.length > 5, `${key}: a definition`);
    }
    assert.ok(Number(f.lines.orders.total) >= Number(f.lines.buyers.total));
    // The metric without data: marked, with its definition and reason.
    const unavailable = page.locator('#m-unavailable tr[data-metric="interaction_rate"]');
    assert.match(await unavailable.textContent(), /互动率/);
    assert.equal((await unavailable.locator('[data-role="unavailable"]').textContent()).trim(), '暂无数据');
    assert.match(await unavailable.locator('[data-role="reason"]').textContent(), /会话存档/);
    assert.equal(await page.locator('#m-unavailable tr[data-metric="content_reach"]').count(), 0);
    // 内容种草: the demo's customers opened the posters their guides sent.
    assert.equal(f.lines.content_reach.name, '内容种草');
    assert.match(f.lines.content_reach.definition, /雷达链接/);
    assert.ok(Number(f.lines.content_reach.total) > 0, `content reach ${f.lines.content_reach.total}`);
    assert.match(f.lines.content_opens_per_reader_milli.shown, /^\d+\.\d{3}$/);
    await page.screenshot({ path: join(SHOTS, 'metrics.png'), fullPage: true });

    // The form: the last three months, a 7-day first-order window.
    const from = monthsBefore(now, 2);
    await page.fill('#m-from', from);
    await page.fill('#m-to', now);
    await page.selectOption('#m-window', '7');
    await Promise.all([page.waitForURL(/[?&]from=/), page.click('#m-apply')]);
    assert.match(page.url(), new RegExp(`from=${from}&to=${now}`));
    assert.match(page.url(), /first_order_days=7/);
    assert.equal(await page.getAttribute('#metrics', 'data-first-order-days'), '7');
    assert.equal(await page.inputValue('#m-from'), from);
    assert.equal(await page.inputValue('#m-window'), '7');
    f = await figures(page);
    assert.deepEqual(f.months, [from, monthsBefore(now, 1), now]);

    // The funnel as bars: the pool's new members, each later step no longer than joining;
    // the matrix: one row per month, its joined adding up to the funnel's.
    const { joined, joined_group: group, first_order: first, second_order: second } = f.funnel;
    assert.ok(joined && group && first && second, JSON.stringify(f.funnel));
    assert.ok(joined.count > 0, 'the demo adds contacts over the last 30 days');
    assert.ok(Math.abs(joined.width - joined.track) <= 1, 'joined is the whole bar');
    assert.ok(first.count <= joined.count && second.count <= first.count);
    assert.ok(Math.abs(first.width - joined.track * first.count / joined.count) <= 2, JSON.stringify(first));
    assert.ok(await page.locator('#m-funnels tbody tr').count() > 0, 'the breakdown rows');
    assert.deepEqual(f.cohorts.map((c) => c.month), f.months);
    assert.equal(f.cohorts.reduce((n, c) => n + c.joined, 0), joined.count);
    const last = f.cohorts.at(-1);
    assert.ok(last.joined > 0 || f.cohorts.some((c) => c.joined > 0));
    assert.ok(f.cohorts.some((c) => c.shaded > 0), 'cells shaded by share');
    assert.equal(await page.locator('#m-cohorts thead th[data-k]').count(), 13);
    assert.equal(await page.locator(`#m-cohorts tr[data-month="${now}"] [data-role="maturing"]`).textContent(), '成熟中');

    // 导出 CSV: the cohorts and the metric lines of this period, as the page shows them.
    const cohorts = await download(page, '#m-export-cohorts');
    assert.equal(cohorts.name, 'metrics-cohorts.csv');
    assert.deepEqual(cohorts.rows[0].slice(0, 4), ['入池月份', '入池人数', '7 天内首单', '第 0 月下单']);
    assert.deepEqual(cohorts.rows.slice(1).map((r) => [r[0], Number(r[1])]), f.cohorts.map((c) => [c.month, c.joined]));
    const lines = await download(page, '#m-export-metrics');
    assert.equal(lines.name, 'metrics.csv');
    assert.deepEqual(lines.rows[0], ['指标', '合计', ...f.months, '定义']);
    const buyers = lines.rows.find((r) => r[0] === '下单客户数');
    assert.equal(buyers[1], f.lines.buyers.total);
    const stores = await download(page, '#m-export-stores');
    assert.equal(stores.name, 'metrics-stores.csv');
    assert.deepEqual(stores.rows[0].slice(0, 3), ['ID', '名称', '下单客户']);
    assert.equal(stores.rows.length - 1, await page.locator('#m-stores tbody tr').count());
    // 导出 Excel: the same table as a workbook (a zip archive).
    const [xd] = await Promise.all([page.waitForEvent('download'), page.click('#m-export-stores-xlsx')]);
    assert.equal(xd.suggestedFilename(), 'metrics-stores.xlsx');
    assert.equal(readFileSync(await xd.path()).subarray(0, 2).toString('latin1'), 'PK');

    // 效果对比: labelled observational, computed by the analytics loop after its rebuild.
    await reloadUntil(page, page.url(), async (p) => (await p.textContent('#m-uplift-computed')).startsWith('计算于'), 'the uplift computed');
    assert.equal(await page.getAttribute('#m-uplift-evidence', 'data-evidence'), 'observational');
    assert.match(await page.textContent('#m-uplift-evidence'), /观察性对比/);
    assert.equal(await page.locator('#m-uplift-group tbody tr[data-month="all"]').count(), 1);
    assert.equal(await page.locator('#m-uplift-paid_member tbody tr[data-month="all"]').count(), 1);

    // In English: the same page's names, definitions and labels.
    await page.click('a.lang');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    assert.match(page.url(), new RegExp(`from=${from}`));
    const en = await figures(page);
    assert.equal(en.lines.traffic_rate.name, 'Traffic-to-pool rate');
    assert.match(en.lines.traffic_rate.definition, /About 15% a month is healthy/);
    assert.equal(en.lines.buyers.total, f.lines.buyers.total);
    assert.match(await page.textContent('#m-export-metrics'), /Export CSV/);
    assert.match(await page.textContent('nav.side a[href="/console/metrics"]'), /Metrics/);
    await page.click('a.lang');
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');

    // On a phone: the menu leads here, wide tables scroll in their box, not the page.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${demo.base}/console`);
    await page.click('#nav-button');
    await Promise.all([page.waitForURL(url), page.click('nav.side a[href="/console/metrics"]')]);
    const small = await page.evaluate(() => document.fonts.ready.then(() => ({
      scroll: document.scrollingElement.scrollWidth,
      view: window.innerWidth,
      funnel: document.querySelector('#m-funnel').getBoundingClientRect().right,
    })));
    assert.ok(small.scroll <= small.view + 1, JSON.stringify(small));
    assert.ok(small.funnel <= small.view, JSON.stringify(small));
    await page.screenshot({ path: join(SHOTS, 'metrics-390.png'), fullPage: true });
    assert.deepEqual(errors, []);
    assert.deepEqual(outside, [], 'no request leaves the server');
  } finally {
    await ctx.close();
  }
});

test('a store manager sees their own store only', async () => {
  const ctx = await demo.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  try {
    await signIn(page, demo.base, 'sh-001.manager');
    await Promise.all([page.waitForURL(`${demo.base}/console/metrics`), page.click('nav.side a[href="/console/metrics"]')]);
    assert.equal(await page.getAttribute('#metrics', 'data-level'), 'store');
    assert.equal(await page.locator('#m-store').count(), 0, 'no store to pick');
    assert.equal(await page.locator('#m-segments').count(), 0, 'segments are the brand\'s');
    const store = await page.getAttribute('#m-scope', 'data-store');
    assert.ok(Number(store) > 0);
    const rows = await page.locator('#m-stores tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.store));
    assert.ok(rows.every((id) => id === store), JSON.stringify(rows));
    // Another store's page is refused with the console's error page.
    const other = Number(store) === 1 ? 2 : 1;
    const r = await page.goto(`${demo.base}/console/metrics?store_id=${other}`);
    assert.equal(r.status(), 403);
    assert.equal(await page.locator('.flash.bad[role="alert"]').count(), 1);
  } finally {
    await ctx.close();
  }
});
