// H5 pages that need a customer token: without one, or with a refused one, each says so and
// shows the sign-in card (no endless "加载中…"), in Chinese by default and in English with
// ?lang=en; at 390 px the 登录 button and the 可使用 badge keep to one line.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '300']); });
after(async () => { await demo?.stop(); });

const LANGS = [
  { lang: 'zh', q: '', need: '登录后才能查看，请先登录', bad: '登录已失效，请重新登录', button: '登录', usable: '可使用', loading: '加载中…' },
  { lang: 'en', q: '?lang=en', need: 'Sign in to see this', bad: 'Your sign-in is no longer valid; please sign in again', button: 'Sign in', usable: 'Usable', loading: 'Loading…' },
];

/** Whether the element keeps its text to one line: the text's line boxes, counted in one
 *  evaluation of a connected, laid-out element (a list re-render can replace the element
 *  between a locator's wait and a later measurement). */
async function oneLine(page, selector, text) {
  const handle = await page.waitForFunction(([sel, want]) => {
    const e = document.querySelector(sel);
    if (!e || !e.isConnected || e.textContent.trim() !== want) return false;
    if (e.getBoundingClientRect().height === 0) return false;
    const range = document.createRange();
    range.selectNodeContents(e);
    const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    return { lines: tops.size };
  }, [selector, text]);
  return (await handle.jsonValue()).lines === 1;
}

for (const L of LANGS) {
  test(`[${L.lang}] H5 pages ask to sign in without a token and with a bad one`, async () => {
    const ctx = await demo.browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    try {
      for (const path of ['/h5/coupons', '/h5/flash-sales/1', '/h5/group-buys/1']) {
        await page.goto(`${demo.base}${path}${L.q}`);
        await page.locator('#login').waitFor({ state: 'visible' });
        assert.equal(await page.locator('#login-reason').textContent(), L.need, path);
        assert.equal((await page.locator('#login-btn').textContent()).trim(), L.button);
        assert.ok(await oneLine(page, '#login-btn', L.button), `${path}: the sign-in button wraps`);
        assert.equal(await page.locator('.loading').count(), 0, `${path}: still loading`);
      }
      await page.goto(`${demo.base}/h5/coupons${L.q}`);
      assert.equal(await page.locator('#claimable .signin').textContent(), L.need);
      assert.equal(await page.locator('#mine .signin').textContent(), L.need);
      await page.screenshot({ path: join(SHOTS, `h5-signin-${L.lang}.png`), fullPage: true });
      // A refused token: both lists say so (my coupons used to hang).
      await page.goto(`${demo.base}/h5/coupons${L.q ? L.q + '&' : '?'}token=yct_1.forged`);
      await page.locator('#login').waitFor({ state: 'visible' });
      await page.waitForFunction(() => document.querySelectorAll('.loading').length === 0);
      assert.equal(await page.locator('#mine').textContent(), L.bad);
      assert.equal(await page.locator('#login-reason').textContent(), L.bad);
      // Sign in: the lists load, and the 可使用 badge keeps to one line.
      await page.fill('#login-customer', '120');
      await Promise.all([page.waitForURL((u) => !u.search.includes('token=')), page.click('#login-btn')]);
      const card = page.locator('.coupon-template').first();
      await card.waitFor();
      await card.locator('button.claim').click();
      const badge = page.locator('#mine .my-coupon .coupon-state').first();
      await badge.waitFor();
      assert.equal(await badge.textContent(), L.usable);
      assert.ok(await oneLine(page, '#mine .my-coupon .coupon-state', L.usable), 'the badge wraps');
      assert.equal(await page.locator('html').getAttribute('lang'), L.lang === 'en' ? 'en' : 'zh-CN');
      await page.screenshot({ path: join(SHOTS, `h5-coupons-signed-in-${L.lang}.png`), fullPage: true });
    } finally {
      await ctx.close();
    }
  });
}
