// Scheduled reports in the console (定时报表, issue #24 item 5): an admin opens 定时报表 from the
// menu next to 指标; a schedule without recipients is refused under that field with what was
// typed kept; a weekly schedule with a recipient linked to WeCom is created and listed; on its
// page 立即发送最近一期 puts one row for last week in the delivery log, and asking again adds
// none; the page reads in English.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

test('an admin creates a weekly report, sees it listed and sends it once', async () => {
  const demo = await startDemo(['--customers', '150']);
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page, demo.base, 'admin');

    // 定时报表 in the menu, right after 指标.
    const items = (await page.locator('nav.side > a').allTextContents()).map((t) => t.trim());
    assert.equal(items[items.indexOf('指标') + 1], '定时报表');
    const nav = page.locator('#side-nav a[href="/console/reports"]');
    await Promise.all([page.waitForURL(/\/console\/reports$/), nav.click()]);
    assert.equal(await nav.getAttribute('class'), 'on');
    const form = page.locator('#report-form');

    // No recipient: refused under the recipients, the name kept.
    await form.locator('#name').fill('门店周报');
    await form.locator('#cadence').selectOption('weekly');
    await form.locator('#hour').selectOption('8');
    await form.locator('button[type=submit]').click();
    const err = form.locator('.field-error[data-field="recipient_ids"]');
    await err.waitFor();
    assert.equal((await err.textContent()).trim(), '请至少选择一位接收人');
    assert.equal(await form.locator('#name').inputValue(), '门店周报');
    assert.equal(await form.locator('#cadence').inputValue(), 'weekly');

    // The demo links its staff to the fake WeCom: tick the first one offered.
    const first = form.locator('input[name=recipient_ids]').first();
    await first.check();
    await Promise.all([page.waitForURL(/\/console\/reports\/\d+/), form.locator('button[type=submit]').click()]);
    assert.equal((await page.locator('#report-name').textContent()).trim(), '门店周报');

    // Listed.
    await page.goto(`${demo.base}/console/reports`);
    const row = page.locator('#reports-table tr[data-report]');
    assert.equal(await row.count(), 1);
    assert.equal(await row.getAttribute('data-cadence'), 'weekly');
    assert.match(await row.textContent(), /门店周报/);
    await Promise.all([page.waitForURL(/\/console\/reports\/\d+$/), row.locator('a').first().click()]);

    // Send now: one delivery of last week, whatever the number of clicks.
    await Promise.all([page.waitForURL(/ok=report_queued/), page.click('#report-send')]);
    const log = page.locator('#deliveries-table tr[data-delivery]');
    assert.equal(await log.count(), 1);
    assert.match(await log.getAttribute('data-period'), /^\d{4}-\d{2}-\d{2}\/\d{4}-\d{2}-\d{2}$/);
    // Again: the same delivery. The job runner may already have sent it through the demo's
    // fake WeCom app, or failed it (a failed delivery is queued again on the same row:
    // report_queued); otherwise it is pending or sent (report_already). Either way there is
    // one row.
    await Promise.all([page.waitForEvent('framenavigated'), page.click('#report-send')]);
    await page.waitForLoadState('load');
    assert.match(page.url(), /ok=report_(already|queued)/);
    assert.equal(await page.locator('#deliveries-table tr[data-delivery]').count(), 1);
    await page.screenshot({ path: join(SHOTS, 'reports.png'), fullPage: true });

    // In English.
    await page.goto(`${demo.base}/console/lang?to=en&back=/console/reports`);
    await page.goto(`${demo.base}/console/reports`);
    assert.equal((await page.locator('h1').textContent()).trim(), 'Scheduled reports');
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await demo.stop();
  }
});
