// The points ledger (issue #22): an operator grants points on a customer's points page —
// a double click on the button posts once — and the customer sees the new balance and the
// grant in the H5 member centre (loaded by the page script from the public API).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '300']); });
after(async () => { await demo?.stop(); });

const CUSTOMER = 7;

test('an admin grants points once on a double click; the member centre shows them', async () => {
  const ctx = await demo.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  try {
    await signIn(page, demo.base, 'admin');
    // From the customer's 360° page to their points.
    await page.goto(`${demo.base}/console/customers/${CUSTOMER}`);
    await Promise.all([page.waitForURL(/\/points$/), page.click('#points-line a')]);
    const before = Number(await page.locator('#points-balance').getAttribute('data-balance'));
    const rows = await page.locator('#ledger-table tr[data-kind="grant"]').count();

    await page.selectOption('#kind', 'grant');
    await page.fill('#points', '50');
    await page.fill('#reason', '门店活动补发');
    await Promise.all([page.waitForURL(/ok=saved/), page.dblclick('#adjust-submit')]);
    await page.waitForLoadState('load');
    assert.equal(Number(await page.locator('#points-balance').getAttribute('data-balance')), before + 50);
    assert.equal(await page.locator('#ledger-table tr[data-kind="grant"]').count(), rows + 1);
    const top = page.locator('#ledger-table tbody tr').first();
    assert.match(await top.textContent(), /手动发放[\s\S]*\+50[\s\S]*门店活动补发/);
    assert.equal(Number(await top.locator('[data-balance-after]').getAttribute('data-balance-after')), before + 50);
    await page.screenshot({ path: join(SHOTS, 'console-customer-points.png'), fullPage: true });
  } finally {
    await ctx.close();
  }

  // The customer's member centre, signed in the demo way (no ?token=: the script loads it).
  const h5 = await demo.browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const m = await h5.newPage();
  try {
    await m.goto(`${demo.base}/h5/member`);
    await m.waitForSelector('#login-customer');
    await m.fill('#login-customer', String(CUSTOMER));
    await Promise.all([m.waitForEvent('load'), m.click('#login-btn')]);
    await m.waitForFunction(() => document.querySelector('#points-balance')?.dataset.loaded === '1');
    const balance = Number(await m.locator('#points-balance').textContent());
    assert.ok(balance >= 50, `balance ${balance}`);
    assert.match(await m.locator('#points-worth').textContent(), /^可抵 ¥\d+\.\d\d$/);
    await m.locator('#points-history .history-line').first().waitFor();
    assert.match(await m.locator('#points-history .history-line').first().textContent(), /手动发放[\s\S]*手动调整[\s\S]*\+50/);
    // The demo brand runs a tier programme: the tier block shows the tier or the way in.
    await m.waitForFunction(() => document.querySelector('#member-tier')?.dataset.loaded === '1');
    assert.equal(await m.locator('#member-tier').isVisible(), true);
    assert.match(await m.locator('#tier-next').textContent(), /升级为|最高等级|即成为/);
    await m.screenshot({ path: join(SHOTS, 'h5-member.png'), fullPage: true });
  } finally {
    await h5.close();
  }
});
