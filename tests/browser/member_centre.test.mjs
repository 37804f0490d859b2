// The H5 member centre (issue #22 item 6): after a normal sign-in (no ?token=) the page
// script shows the paid member card with its savings, the stored-value balance with its
// latest entries, the member gifts received, and the points mall — an exchange spends the
// points and appears in my exchanges, and cancelling it gives the points back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '300']); });
after(async () => { await demo?.stop(); });

const CUSTOMER = 11;

/** The staff API as the demo's admin. */
async function staffApi(base) {
  const r = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'yutang-demo' }),
  });
  assert.equal(r.status, 200);
  const { token } = await r.json();
  let n = 0;
  return async (method, path, body) => {
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Idempotency-Key'] = `member-centre-test-${++n}`;
    }
    const res = await fetch(`${base}/api/v1${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

async function signInAsCustomer(page, base, query = '') {
  await page.goto(`${base}/h5/member${query}`);
  await page.waitForSelector('#login-customer');
  await page.fill('#login-customer', String(CUSTOMER));
  await Promise.all([page.waitForEvent('load'), page.click('#login-btn')]);
}

const loaded = (page, sel) =>
  page.waitForFunction((s) => document.querySelector(s)?.dataset.loaded === '1', sel);
const balance = async (page) => Number(await page.locator('#points-balance').textContent());

test('the member centre shows the card, stored value and gifts, and exchanges in the mall', async () => {
  const api = await staffApi(demo.base);
  // A card bought now, with the savings guarantee.
  await api('POST', '/loyalty/cards', {
    key: 'h5_month', name: '浏览器月卡', period_days: 30, price_fen: 1990, savings_guarantee: true,
  });
  await api('POST', '/member-cards/purchases', { order_no: 'H5-CARD-1', customer_id: CUSTOMER, card_key: 'h5_month' });
  // Points to spend, a top-up, and a gift item in the mall.
  await api('POST', `/customers/${CUSTOMER}/points/adjustments`, { kind: 'grant', points: 500, reason: '浏览器测试' });
  await api('POST', `/customers/${CUSTOMER}/stored-value/top-ups`, { order_no: 'H5-TOPUP-1', amount_fen: 12345 });
  const item = await api('POST', '/mall/items', {
    kind: 'gift', name: '浏览器保温杯', points_price: 120, stock: 5, per_customer_limit: 2,
  });
  // A birthday gift this month, given by a run.
  const month = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', month: '2-digit' }).format(new Date());
  await api('PATCH', `/customers/${CUSTOMER}`, { birthday: `1990-${month}-01` });
  await api('POST', '/loyalty/gifts', { name: '浏览器生日礼', kind: 'birthday', mode: 'month', points: 20, gift_fen: 300 });
  const job = await api('POST', '/loyalty/gifts/runs', {});
  for (let s = job.status; s !== 'done';) {
    assert.notEqual(s, 'failed');
    s = (await api('GET', `/jobs/${job.id}`)).status;
  }
  const sv = await api('GET', `/customers/${CUSTOMER}/stored-value`);
  assert.ok(sv.balance_fen >= 12345 + 300, JSON.stringify(sv));

  const ctx = await demo.browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  try {
    await signInAsCustomer(page, demo.base);

    // The card: active, its name, until when (Shanghai date), the savings against the price.
    await loaded(page, '#member-card');
    assert.equal(await page.locator('#member-card').getAttribute('data-status'), 'active');
    assert.equal(await page.locator('#card-status').textContent(), '生效中');
    assert.match(await page.locator('#card-body').textContent(), /浏览器月卡/);
    assert.match(await page.locator('#card-until').textContent(), /^有效期至 \d{4}-\d\d-\d\d$/);
    assert.equal(await page.locator('#card-savings').textContent(), '本期已省 ¥0.00，卡费 ¥19.90');
    assert.match(await page.locator('#card-guarantee').textContent(), /省钱保障/);

    // Stored value: the balance and its split, the latest entries (the gift is the newest).
    await loaded(page, '#member-stored-value');
    assert.equal(await page.locator('#sv-balance').textContent(), `¥${(sv.balance_fen / 100).toFixed(2)}`);
    assert.equal(await page.locator('#sv-split').textContent(),
      `本金 ¥${(sv.principal_fen / 100).toFixed(2)} · 赠送金 ¥${(sv.gift_fen / 100).toFixed(2)}`);
    await loaded(page, '#sv-entries');
    const kinds = await page.locator('#sv-entries .sv-entry').evaluateAll((rows) => rows.map((r) => r.dataset.kind));
    assert.deepEqual(kinds.slice(0, 2), ['gift', 'top_up']);
    assert.match(await page.locator('#sv-entries .sv-entry').nth(1).textContent(), /充值[\s\S]*\+¥123\.45/);

    // The gift received: its kind and name, what it gave, the year.
    await loaded(page, '#member-gifts');
    const gift = page.locator('#member-gifts .gift-line[data-kind="birthday"]').first();
    assert.match(await gift.textContent(), /生日礼 · 浏览器生日礼[\s\S]*20 积分 · 储值赠送金 ¥3\.00[\s\S]*\d{4} 年/);

    // The mall: the item with its price, stock and limit; exchange it.
    await loaded(page, '#mall-items');
    await loaded(page, '#mall-exchanges');
    await page.waitForFunction(() => document.querySelector('#points-balance')?.dataset.loaded === '1');
    const card = page.locator(`.mall-item[data-item="${item.id}"]`);
    assert.match(await card.textContent(), /浏览器保温杯[\s\S]*120 积分[\s\S]*剩余 5 · 每人限 2 件/);
    const before = await balance(page);
    assert.ok(before >= 500, `balance ${before}`);
    await card.locator('button.exchange').click();
    await page.waitForFunction((b) => Number(document.querySelector('#points-balance').textContent) === b - 120, before);
    const mine = page.locator('#mall-exchanges .my-exchange').first();
    await page.waitForFunction(() => document.querySelector('#mall-exchanges .my-exchange')?.dataset.state === 'pending');
    assert.match(await mine.textContent(), /浏览器保温杯[\s\S]*-120[\s\S]*待发货[\s\S]*取消兑换/);
    await page.waitForFunction((id) => document.querySelector(`.mall-item[data-item="${id}"]`)?.dataset.stock === '4', item.id);
    // The history shows the redemption.
    await page.waitForFunction(() => document.querySelector('#points-history .history-line')?.dataset.kind === 'redeem');
    assert.match(await page.locator('#points-history .history-line').first().textContent(), /积分商城[\s\S]*-120/);
    await page.screenshot({ path: join(SHOTS, 'h5-member-centre.png'), fullPage: true });

    // Cancel: the points come back, the exchange is cancelled (no cancel button any more).
    await mine.locator('button.cancel-exchange').click();
    await page.waitForFunction((b) => Number(document.querySelector('#points-balance').textContent) === b, before);
    await page.waitForFunction(() => document.querySelector('#mall-exchanges .my-exchange')?.dataset.state === 'cancelled');
    assert.equal(await page.locator('#mall-exchanges .my-exchange').first().locator('button').count(), 0);
    assert.match(await page.locator('#mall-exchanges .my-exchange').first().textContent(), /已取消/);
    await page.waitForFunction((id) => document.querySelector(`.mall-item[data-item="${id}"]`)?.dataset.stock === '5', item.id);

    // Too few points: the refusal is told in the reader's words and nothing is spent.
    const pricey = await api('POST', '/mall/items', { kind: 'gift', name: '浏览器大奖', points_price: 999999, stock: 1 });
    await page.reload();
    await loaded(page, '#mall-items');
    await page.waitForFunction(() => document.querySelector('#points-balance')?.dataset.loaded === '1');
    await page.locator(`.mall-item[data-item="${pricey.id}"] button.exchange`).click();
    await page.waitForFunction(() => document.querySelector('#msg').textContent === '积分不足');
    assert.equal(await balance(page), before);
    assert.equal(await page.locator(`.mall-item[data-item="${pricey.id}"] button.exchange`).isEnabled(), true);
  } finally {
    await ctx.close();
  }

  // In English: the same blocks in the reader's language.
  const en = await demo.browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-GB' });
  const p = await en.newPage();
  try {
    await signInAsCustomer(p, demo.base, '?lang=en');
    await loaded(p, '#member-card');
    assert.equal(await p.locator('#card-status').textContent(), 'Active');
    assert.match(await p.locator('#card-savings').textContent(), /^Saved ¥0\.00 this period; the card cost ¥19\.90$/);
    await loaded(p, '#mall-exchanges');
    assert.match(await p.locator('#mall-exchanges .my-exchange').first().textContent(), /Cancelled/);
    await loaded(p, '#member-gifts');
    assert.match(await p.locator('#member-gifts').textContent(), /Birthday · 浏览器生日礼[\s\S]*20 points/);
  } finally {
    await en.close();
  }
});

test('a customer without a card is told so plainly; a card that ended shows as expired', async () => {
  const ctx = await demo.browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  const other = 12; // the demo sells no cards
  try {
    await page.goto(`${demo.base}/h5/member`);
    await page.waitForSelector('#login-customer');
    await page.fill('#login-customer', String(other));
    await Promise.all([page.waitForEvent('load'), page.click('#login-btn')]);
    await loaded(page, '#member-card');
    assert.equal(await page.locator('#member-card').getAttribute('data-status'), 'none');
    assert.equal(await page.locator('#card-status').textContent(), '未开通');
    assert.equal(await page.locator('#card-body').textContent(), '你还没有付费会员卡');

    // Bought and refunded: the card has ended.
    const api = await staffApi(demo.base);
    await api('POST', '/member-cards/purchases', { order_no: 'H5-CARD-2', customer_id: other, card_key: 'h5_month' });
    await api('POST', '/member-cards/purchases/H5-CARD-2/refund', { reason: '浏览器测试退卡' });
    await page.reload();
    await loaded(page, '#member-card');
    assert.equal(await page.locator('#member-card').getAttribute('data-status'), 'expired');
    assert.equal(await page.locator('#card-status').textContent(), '已过期');
    assert.match(await page.locator('#card-until').textContent(), /^\d{4}-\d\d-\d\d 已到期$/);
    assert.equal(await page.locator('#card-savings').count(), 0);
  } finally {
    await ctx.close();
  }
});
