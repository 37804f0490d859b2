// The customer-facing H5 pages against a running demo: claim a coupon, and complete a
// two-person group-buy from a share link with two customers in two browser contexts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, startDemo } from './harness.mjs';

let demo;
// The brand's order page a flash-sale winner pays on (h5.order_url).
process.env.YUTANG_H5__ORDER_URL = 'https://shop.example.com/pay?flash_claim={claim_id}&sku={sku}';
before(async () => { demo = await startDemo(['--customers', '300']); });
after(async () => { await demo?.stop(); });

async function customerPage(customer) {
  const ctx = await demo.browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  return { ctx, page, login: async () => {
    await page.waitForSelector('#login-customer');
    await page.fill('#login-customer', String(customer));
    await Promise.all([page.waitForEvent('load'), page.click('#login-btn')]);
  } };
}

test('a customer claims the Tuesday member-day coupon and sees it in my coupons', async () => {
  const { ctx, page, login } = await customerPage(250);
  try {
    await page.goto(`${demo.base}/h5/coupons`);
    await login();
    const card = page.locator('.coupon-template', { hasText: '周二会员日' });
    await card.waitFor();
    await card.locator('button.claim').click();
    const mine = page.locator('#mine .my-coupon', { hasText: '周二会员日' });
    await mine.first().waitFor();
    assert.equal(await mine.first().locator('.coupon-state').textContent(), '可使用');
    assert.match(await mine.first().textContent(), /满59\.00减10\.00/);
    await page.screenshot({ path: join(SHOTS, 'h5-coupons.png'), fullPage: true });
  } finally {
    await ctx.close();
  }
});

test('two customers complete a group-buy from a share link', async () => {
  const a = await customerPage(251);
  const b = await customerPage(252);
  try {
    // Group-buy 2 in a fresh demo is the two-person cherry team.
    await a.page.goto(`${demo.base}/h5/group-buys/2`);
    await a.login();
    assert.match(await a.page.locator('h1').textContent(), /两人团/);
    await Promise.all([a.page.waitForURL(/\/h5\/teams\/\d+$/), a.page.click('#open')]);
    await a.page.waitForFunction(() => document.querySelector('#team-state')?.dataset.state === 'open');
    assert.match(await a.page.locator('#team-state').textContent(), /还差 1 人成团/);
    // The leader is not "invited" to their own team.
    assert.equal(await a.page.locator('#team-lead').textContent(), '你发起的拼团，邀请好友来参团');
    assert.match(await a.page.locator('#countdown').textContent(), /^(0\d|1[0-2]):\d\d:\d\d$/);
    const share = (await a.page.locator('#share').textContent()).replace(/^.*?(http\S+)$/, '$1');
    assert.match(share, /\/h5\/teams\/\d+\?inviter=251$/);

    await b.page.goto(share);
    await b.login();
    await b.page.waitForFunction(() => document.querySelector('#team-state')?.dataset.state === 'open');
    assert.equal(await b.page.locator('#team-lead').textContent(), '好友邀请你一起拼团');
    await b.page.click('#join');
    await b.page.waitForFunction(() => document.querySelector('#team-state')?.dataset.state === 'filled');
    assert.equal(await b.page.locator('#team-lead').textContent(), '你已在这个团里');
    assert.equal(await b.page.locator('#team-state').textContent(), '拼团成功');
    assert.equal(await b.page.locator('#join').isDisabled(), true);
    await b.page.screenshot({ path: join(SHOTS, 'h5-team-filled.png'), fullPage: true });

    // The leader's page catches up (it polls) and shows the success too.
    await a.page.waitForFunction(() => document.querySelector('#team-state')?.dataset.state === 'filled',
      null, { timeout: 15000 });
  } finally {
    await a.ctx.close();
    await b.ctx.close();
  }
});

test('a flash-sale winner sees the sale clock, then the hold countdown and the pay link', async () => {
  const { ctx, page, login } = await customerPage(253);
  try {
    await page.goto(`${demo.base}/h5/flash-sales/1`);
    await login();
    await page.waitForFunction(() => document.querySelector('#clock')?.dataset.phase === 'open');
    // Days, then the hours of the last day, when the sale ends days away (the demo's ends next
    // Friday at 22:00).
    const clock = await page.locator('#clock').textContent();
    assert.match(clock, /^距结束 (\d+天 )?([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/);
    assert.equal(await page.locator('#pay').isHidden(), true);
    await page.click('#claim');
    await page.locator('#pay').waitFor({ state: 'visible' });
    assert.match(await page.locator('#pay').getAttribute('href'),
      /^https:\/\/shop\.example\.com\/pay\?flash_claim=\d+&sku=DURIAN/);
    assert.match(await page.locator('#hold').textContent(), /^已为你保留，请在 00:1[0-5]:\d\d 内完成支付$/);
    assert.equal(await page.locator('#claim').isDisabled(), true);
    await page.screenshot({ path: join(SHOTS, 'h5-flash-won.png'), fullPage: true });
  } finally {
    await ctx.close();
  }
});
