// The loyalty pages' main flows in the console (issue #22 item 7): a paid member card, a
// points-mall item, a stored-value top-up gift rule (refused, corrected, archived after the
// confirmation page) and a member gift rule, each created through its form and then listed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

let demo;
let ctx;
let page;
before(async () => {
  demo = await startDemo(['--customers', '300']);
  ctx = await demo.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  page = await ctx.newPage();
  await signIn(page, demo.base, 'admin');
});
after(async () => {
  await ctx?.close();
  await demo?.stop();
});

/** Submit `form` and wait for the page it redirects to (`?ok=…`). */
async function submit(form, ok = 'saved') {
  await Promise.all([
    page.waitForURL(new RegExp(`[?&]ok=${ok}`)),
    page.click(`${form} button[type=submit]`),
  ]);
  await page.waitForLoadState('load');
}

test('付费会员卡: a card product created through the form is listed', async () => {
  await page.goto(`${demo.base}/console/loyalty/cards`);
  await page.fill('#card-form #name', '浏览器月卡');
  await page.fill('#card-form #key', 'browser_monthly');
  await page.fill('#card-form #period_days', '30');
  await page.fill('#card-form #price_fen', '1800');
  await page.fill('#card-form #points_multiplier', '2000');
  await page.check('#card-form input[name=savings_guarantee]');
  await submit('#card-form');
  const row = page.locator('#cards tr[data-card="browser_monthly"]');
  assert.equal(await row.count(), 1);
  const text = await row.textContent();
  assert.match(text, /浏览器月卡[\s\S]*30[\s\S]*¥18\.00[\s\S]*×2/);
  assert.match(text, /不省退差价/);
  assert.match(text, /在售/);
});

test('积分商城: a mall item created through the form is listed', async () => {
  await page.goto(`${demo.base}/console/loyalty/mall`);
  await Promise.all([page.waitForURL(/\/console\/loyalty\/mall\/new$/), page.click('#mall-new')]);
  await page.selectOption('#mall-item-form #kind', 'gift');
  await page.fill('#mall-item-form #name', '浏览器保温杯');
  await page.fill('#mall-item-form #points_price', '500');
  await page.fill('#mall-item-form #stock', '20');
  await page.fill('#mall-item-form #per_customer_limit', '1');
  await submit('#mall-item-form');
  const row = page.locator('#mall-items tbody tr', { hasText: '浏览器保温杯' });
  assert.equal(await row.count(), 1);
  assert.equal(await row.getAttribute('data-stock'), '20');
  assert.match(await row.textContent(), /500/);
});

test('储值: a top-up gift rule is refused, corrected, listed, then archived', async () => {
  await page.goto(`${demo.base}/console/loyalty/stored-value`);
  await page.fill('#sv-rule-form #name', '浏览器充300送30');
  await page.fill('#sv-rule-form #min_top_up_fen', '0');
  await page.fill('#sv-rule-form #gift_fen', '3000');
  await page.fill('#sv-rule-form #points', '30');
  await page.click('#sv-rule-form button[type=submit]');
  // Refused on the page: the field named, what was typed kept.
  await page.locator('#sv-rule-form .field-error[data-field="min_top_up_fen"]').waitFor();
  assert.equal(await page.inputValue('#sv-rule-form #name'), '浏览器充300送30');
  assert.equal(await page.inputValue('#sv-rule-form #gift_fen'), '3000');
  assert.equal(await page.locator('#sv-rules tbody tr', { hasText: '浏览器充300送30' }).count(), 0);

  await page.fill('#sv-rule-form #min_top_up_fen', '30000');
  await submit('#sv-rule-form');
  const row = page.locator('#sv-rules tbody tr', { hasText: '浏览器充300送30' });
  assert.equal(await row.count(), 1);
  assert.equal(await row.getAttribute('data-status'), 'active');
  assert.match(await row.textContent(), /¥300\.00[\s\S]*¥30\.00[\s\S]*30/);
  await page.screenshot({ path: join(SHOTS, 'console-stored-value-rules.png'), fullPage: true });

  // Archived after the confirmation page.
  const id = await row.getAttribute('data-rule');
  await Promise.all([page.waitForURL(/\/archive$/), page.click(`#sv-rules a[data-archive="${id}"]`)]);
  assert.equal(await page.locator('#confirm').getAttribute('data-outcome'), 'archive');
  assert.match(await page.locator('#confirm-subject').textContent(), /浏览器充300送30/);
  await Promise.all([page.waitForURL(/ok=archived/), page.click('#confirm-button')]);
  await page.waitForLoadState('load');
  assert.equal(await page.locator(`#sv-rules tr[data-rule="${id}"]`).getAttribute('data-status'), 'archived');
});

test('会员礼: a member gift rule created through the form is listed', async () => {
  await page.goto(`${demo.base}/console/loyalty/gifts`);
  await page.fill('#gift-rule-form #name', '浏览器周年礼');
  await page.selectOption('#gift-rule-form #kind', 'anniversary');
  await page.selectOption('#gift-rule-form #mode', 'day');
  await page.fill('#gift-rule-form #points', '88');
  await submit('#gift-rule-form');
  const row = page.locator('#gift-rules tbody tr', { hasText: '浏览器周年礼' });
  assert.equal(await row.count(), 1);
  assert.equal(await row.getAttribute('data-kind'), 'anniversary');
  assert.equal(await row.getAttribute('data-status'), 'active');
  assert.match(await row.textContent(), /入会周年礼[\s\S]*当天[\s\S]*88/);
  await page.screenshot({ path: join(SHOTS, 'console-member-gifts.png'), fullPage: true });
});
