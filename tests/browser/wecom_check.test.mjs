// The WeCom setup checker (接入检查) on 系统设置 → 企业微信, in Chinese and in English: an
// admin enters the demo's own callback URL as the public URL, runs the checker and sees the
// five steps pass, each with its words and the measured time; then enters a URL nobody
// listens on and sees the URL step fail with what to change, while the API steps still pass.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, freePort, signIn, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '150']); });
after(async () => { await demo?.stop(); });

const LANGS = [
  {
    lang: 'zh', run: '保存并检查', allOk: '全部通过', passed: '通过', failed: '未通过',
    titles: ['Token 与 EncodingAESKey', '公网回调地址', 'API 凭证与可信 IP', '读取客户', '创建「联系我」'],
    urlOk: '公网回调地址可用', took: '用时', cannotConnect: '无法连接', fix: '怎么改：', oneFailed: '1 项未通过',
  },
  {
    lang: 'en', run: 'Save and check', allOk: 'Every step passed', passed: 'Passed', failed: 'Failed',
    titles: ['Token and EncodingAESKey', 'Public callback URL', 'API credentials and trusted IP', 'Reading customers', 'Creating contact ways'],
    urlOk: 'The public callback URL works', took: 'took', cannotConnect: 'Cannot connect', fix: 'How to fix:', oneFailed: '1 failed',
  },
];

for (const L of LANGS) {
  test(`[${L.lang}] an admin enters the public callback URL and reads each step`, async () => {
    const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await signIn(page, demo.base, 'admin');
      if (L.lang === 'en') await page.goto(`${demo.base}/console/lang?to=en&back=/console`);
      await page.goto(`${demo.base}/console/settings/wecom`);
      const form = page.locator('#wecom-check-form');
      await form.locator('#callback_public_url').fill(`${demo.base}/wecom/callback`);
      await Promise.all([
        page.waitForURL(/\/console\/settings\/wecom\/check$/),
        form.getByRole('button', { name: L.run }).click(),
      ]);
      const steps = page.locator('#check-steps > li');
      assert.equal(await steps.count(), 5);
      assert.match(await page.locator('#check-summary').textContent(), new RegExp(L.allOk));
      for (let i = 0; i < 5; i++) {
        const step = steps.nth(i);
        assert.equal(await step.getAttribute('data-status'), 'ok', await step.textContent());
        assert.equal(await step.locator('.check-title').textContent(), L.titles[i]);
        assert.equal(await step.locator('.pill').textContent(), L.passed);
        const text = await step.textContent();
        assert.ok(!/[{}]|\?\?/.test(text), `unfilled text: ${text}`);
      }
      const url = page.locator('#check-steps > li[data-step="callback_url"]');
      assert.match(await url.locator('.check-message').textContent(), new RegExp(L.urlOk));
      assert.match(await url.locator('.check-latency').textContent(), new RegExp(`${L.took} \\d+ ms`));
      // The field keeps the saved URL.
      assert.equal(await page.locator('#callback_public_url').inputValue(), `${demo.base}/wecom/callback`);
      await page.screenshot({ path: join(SHOTS, `wecom-check-ok-${L.lang}.png`), fullPage: true });

      // A URL nothing answers: only the URL step fails, and says what to change.
      const wrong = `http://127.0.0.1:${await freePort()}/wecom/callback`;
      await page.locator('#callback_public_url').fill(wrong);
      // The new page has its own summary: drop the old one, then wait for it to come back.
      await page.evaluate(() => document.querySelector('#check-summary')?.remove());
      await page.locator('#wecom-check-form').getByRole('button', { name: L.run }).click();
      await page.locator('#check-summary').waitFor();
      assert.match(await page.locator('#check-summary').textContent(), new RegExp(L.oneFailed));
      const failed = page.locator('#check-steps > li[data-status="failed"]');
      assert.equal(await failed.count(), 1);
      assert.equal(await failed.getAttribute('data-step'), 'callback_url');
      assert.equal(await failed.locator('.pill').textContent(), L.failed);
      assert.match(await failed.locator('.check-message').textContent(), new RegExp(L.cannotConnect));
      assert.match(await failed.locator('.check-fix').textContent(), new RegExp(L.fix));
      assert.equal(await page.locator('#check-steps > li[data-status="ok"]').count(), 4);
      await page.screenshot({ path: join(SHOTS, `wecom-check-failed-${L.lang}.png`), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  });
}
