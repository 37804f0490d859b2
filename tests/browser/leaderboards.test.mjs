// Leaderboards and incentive pools in the console (排行榜与激励, issue #23 item 6): an operator
// opens 排行榜与激励 from the menu after 服务评价, ranks the brand's guides by GMV over a month,
// opens the demo's last-month pool, sees its split once the analytics have caught up, settles
// it and downloads the payroll CSV; a guide sees their rank
// and only their own row of the pool; the page reads in English.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

/** Reload `path` until `ready(page)` holds: the demo's rollups are built in the background. */
async function reloadUntil(page, url, ready, what) {
  for (let i = 0; i < 240; i += 1) {
    await page.goto(url);
    if (await ready(page)) return;
    await page.waitForTimeout(250);
  }
  throw new Error(`gave up waiting for ${what}`);
}

test('an operator ranks guides, settles last month\'s pool once and exports it; a guide sees their own row', async () => {
  const demo = await startDemo(['--customers', '1500']);
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page, demo.base, 'ops.chen');

    // In the menu right after 服务评价.
    const items = (await page.locator('nav.side > a').allTextContents()).map((t) => t.trim());
    assert.equal(items[items.indexOf('服务评价') + 1], '排行榜与激励');
    const nav = page.locator('#side-nav a[href="/console/leaderboards"]');
    await Promise.all([page.waitForURL(/\/console\/leaderboards$/), nav.click()]);
    assert.equal(await nav.getAttribute('class'), 'on');

    // The brand's guides by GMV this month: ranks never go down the table.
    await page.selectOption('#f-metric', 'gmv');
    await page.selectOption('#f-period', 'month');
    await Promise.all([page.waitForURL(/metric=gmv/), page.click('#do-show')]);
    assert.match(await page.locator('#board-heading').textContent(), /业绩/);
    const ranks = (await page.locator('#board-table tbody tr[data-rank]').evaluateAll(
      (rows) => rows.map((r) => r.getAttribute('data-rank')),
    )).filter((r) => r !== '—').map(Number);
    assert.ok(ranks.length > 1, 'the demo has guides on the board');
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b));

    // The demo's last-month pool: its split appears once the analytics have caught up.
    const pool = page.locator('#pools-table tr[data-pool]', { hasText: '上月业绩激励' });
    assert.equal(await pool.getAttribute('data-state'), 'draft');
    await Promise.all([page.waitForURL(/\/console\/incentive-pools\/\d+$/), pool.locator('a').click()]);
    const poolUrl = page.url();
    await reloadUntil(page, poolUrl, async (p) => {
      const totals = await p.locator('#payouts-table tr[data-total]').evaluateAll(
        (rows) => rows.map((r) => Number(r.getAttribute('data-total'))),
      );
      return totals.some((t) => t > 0);
    }, 'the pool\'s split');
    const totals = await page.locator('#payouts-table tr[data-total]').evaluateAll(
      (rows) => rows.map((r) => Number(r.getAttribute('data-total'))),
    );
    assert.ok(totals.length > 1);

    // 结算: settled; the export buttons replace the form and the settle button.
    await Promise.all([page.waitForURL(poolUrl), page.click('#do-settle')]);
    assert.equal(await page.locator('#pool-title').getAttribute('data-state'), 'settled');
    assert.equal(await page.locator('#pool-form').count(), 0);
    const settledTotals = await page.locator('#payouts-table tr[data-total]').evaluateAll(
      (rows) => rows.map((r) => Number(r.getAttribute('data-total'))),
    );
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csv = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '');
    const lines = csv.trim().split('\n');
    assert.equal(lines.length, settledTotals.length + 1);
    assert.match(lines[0], /^pool_id,pool,period_from,period_to,staff_id,username/);
    const paid = lines.slice(1).map((l) => Math.round(Number(l.split(',').at(-1)) * 100));
    assert.deepEqual(paid, settledTotals);
    await page.screenshot({ path: join(SHOTS, 'incentive-pool.png'), fullPage: true });

    // A guide: their rank on their store's board, and only their own row of the pool.
    const gctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const gpage = await gctx.newPage();
    gpage.on('pageerror', (e) => errors.push(e.message));
    await signIn(gpage, demo.base, 'sh-001.guide1');
    await gpage.goto(`${demo.base}/console/leaderboards?period=month`);
    assert.match(await gpage.locator('#my-rank').textContent(), /我的名次：/);
    assert.equal(await gpage.locator('#board-table tr.me').count(), 1);
    assert.equal(await gpage.locator('#new-pool').count(), 0);
    await gpage.goto(poolUrl);
    assert.ok(await gpage.locator('#payouts-table tr[data-staff]').count() <= 1);
    assert.equal(await gpage.locator('#do-settle').count(), 0);
    await gctx.close();

    // In English.
    await page.goto(`${demo.base}/console/lang?to=en&back=/console/leaderboards`);
    await page.goto(`${demo.base}/console/leaderboards`);
    assert.equal((await page.locator('h1').textContent()).trim(), 'Leaderboards');
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await demo.stop();
  }
});
