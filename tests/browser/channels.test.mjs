// Channels and live codes (issue #19) in the console, in Chinese and English, on the demo with
// its fake WeCom: from the nav, a channel is created through its form, then a live code whose
// refused daily cap of 0 is named under its input; the saved code is synced to WeCom and shows
// its QR (Yutang's copy of WeCom's image) and store-stand poster (with the title typed in the
// form), the guide behind it, the change log says why the other guide is off (weighted
// spread), a cap is edited, and 立即同步 answers. At 390 px the code form does not scroll
// sideways.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '300']); });
after(async () => { await demo?.stop(); });

const LANGS = [
  {
    lang: 'zh', nav: '渠道活码', kind: '包裹卡', capErr: '数量超出范围', synced: '已同步',
    turn: '按权重轮到其他人', syncedFlash: '已同步到企业微信', created: '已创建',
  },
  {
    lang: 'en', nav: 'Channels', kind: 'Package card', capErr: 'Number out of range', synced: 'Synced',
    turn: "Another guide's turn by weight", syncedFlash: 'Synced to WeCom', created: 'Created',
  },
];

/** The value of the `n`-th option of a select (0 is the empty choice). */
function optionValue(page, select, n) {
  return page.$eval(select, (s, i) => s.options[i]?.value ?? '', n);
}

for (const L of LANGS) {
  test(`[${L.lang}] a channel and a live code made in the console are synced to WeCom with their QR and change log`, async () => {
    const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await signIn(page, demo.base, 'admin');
      if (L.lang === 'en') await page.goto(`${demo.base}/console/lang?to=en&back=/console`);

      // The nav entry, then 新建渠道.
      const nav = page.locator('nav.side a[href="/console/channels"]');
      assert.equal((await nav.textContent()).trim(), L.nav);
      await nav.click();
      await page.waitForURL(`${demo.base}/console/channels`);
      await page.click('#new-channel');
      await page.waitForURL(/\/console\/channels\/new$/);
      const name = `浏览器测试渠道 ${L.lang}`;
      await page.fill('#name', name);
      await page.selectOption('#kind', 'package_card');
      await page.selectOption('#store_id', await optionValue(page, '#store_id', 1));
      const firstTag = page.locator('#f-tag_ids input[type=checkbox]').first();
      if (await firstTag.count()) await firstTag.check();
      await page.fill('#welcome_text', '{customer_name} 你好，我是{guide_name}');
      await page.fill('#link_title_0', '新人礼');
      await page.fill('#link_url_0', 'https://h5.example/gift');
      await page.screenshot({ path: join(SHOTS, `channel-form-${L.lang}.png`), fullPage: true });
      await page.click('#save-channel');
      await page.waitForURL(/\/console\/channels\/\d+\?ok=created$/);
      assert.equal((await page.textContent('.flash.ok')).trim(), L.created);
      assert.equal((await page.textContent('#channel-kind')).trim(), L.kind);
      assert.equal((await page.textContent('#channel-name')).trim(), name);

      // 新建活码: a cap of 0 is refused under its input, what was typed is kept.
      await page.click('#new-code');
      await page.waitForURL(/\/console\/channels\/\d+\/live-codes\/new$/);
      const state = `bt-${L.lang}-${Date.now() % 100000}`;
      await page.fill('#name', '收银台');
      await page.fill('#state', state);
      const g1 = await optionValue(page, '#guide_staff_0', 1);
      const g2 = await optionValue(page, '#guide_staff_1', 2);
      const backup = await optionValue(page, '#backup_staff_id', 3);
      assert.ok(g1 && g2 && backup, 'the demo has WeCom-linked guides to choose');
      await page.selectOption('#guide_staff_0', g1);
      await page.fill('#guide_cap_0', '0');
      await page.selectOption('#guide_staff_1', g2);
      await page.fill('#guide_cap_1', '5');
      await page.selectOption('#backup_staff_id', backup);
      await page.selectOption('#spread', 'weighted');
      await page.fill('#poster_title', '扫码领新人礼');
      await page.click('#save-code');
      const err = page.locator('.field-error[data-field="guide_cap_0"]');
      await err.waitFor();
      assert.equal((await err.textContent()).trim(), L.capErr);
      assert.equal(await page.getAttribute('#guide_cap_0', 'aria-invalid'), 'true');
      assert.equal(await page.inputValue('#state'), state);
      assert.equal(await page.inputValue('#guide_staff_1'), g2);
      assert.equal(await page.inputValue('#spread'), 'weighted');
      await page.fill('#guide_cap_0', '2');
      await page.click('#save-code');
      await page.waitForURL(/\/console\/live-codes\/\d+\?ok=created$/);

      // Synced: WeCom's QR, one guide behind the code (weighted), the other off by weight.
      assert.equal(await page.getAttribute('#sync-status', 'data-sync'), 'synced');
      assert.equal((await page.textContent('#sync-status')).trim(), L.synced);
      // The QR is Yutang's copy of WeCom's image, and the poster is drawn around it.
      const qr = await page.getAttribute('#qr-image', 'src');
      assert.match(qr, /^\/console\/live-codes\/\d+\/qr\.png$/);
      assert.equal(await page.getAttribute('#download-qr', 'href'), `${qr}?download=1`);
      await page.waitForFunction(() => {
        const img = document.querySelector('#qr-image');
        return img.complete && img.naturalWidth > 0;
      });
      await page.locator('#poster-image').scrollIntoViewIfNeeded();
      await page.waitForFunction(() => {
        const img = document.querySelector('#poster-image');
        return img.complete && img.naturalWidth === 1080;
      });
      assert.match(await page.getAttribute('#download-poster', 'href'), /\/poster\.png\?download=1$/);
      assert.equal((await page.textContent('#code-state')).trim(), state);
      assert.ok((await page.textContent('#current-guides')).trim().length > 0);
      assert.equal(await page.locator('#code-guides tbody tr').count(), 2);
      const log = page.locator('#code-changes tbody tr');
      assert.ok(await log.count() >= 1, 'the first pointing is logged');
      assert.ok((await log.first().textContent()).includes(L.turn), await log.first().textContent());
      await page.screenshot({ path: join(SHOTS, `live-code-${L.lang}.png`), fullPage: true });

      // Edit a cap.
      await page.click('#edit-code');
      await page.waitForURL(/\/console\/live-codes\/\d+\/edit$/);
      assert.equal(await page.inputValue('#guide_cap_0'), '2');
      assert.equal(await page.inputValue('#poster_title'), '扫码领新人礼');
      await page.fill('#guide_cap_0', '3');
      await page.click('#save-code');
      await page.waitForURL(/\/console\/live-codes\/\d+\?ok=saved$/);
      assert.equal((await page.locator('#code-guides tbody tr').first().locator('td.adds').textContent()).trim(), '0/3');

      // 立即同步.
      await page.click('#resync-code');
      await page.waitForURL(/\/console\/live-codes\/\d+\?ok=synced$/);
      assert.equal((await page.textContent('.flash.ok')).trim(), L.syncedFlash);
      assert.equal(await page.getAttribute('#sync-status', 'data-sync'), 'synced');

      // The channel page lists the code with its sync status.
      await page.click(`main a[href^="/console/channels/"]`);
      await page.waitForURL(/\/console\/channels\/\d+$/);
      const row = page.locator('#live-codes tbody tr[data-code]');
      assert.equal(await row.count(), 1);
      assert.equal(await row.locator('[data-sync]').getAttribute('data-sync'), 'synced');

      // The code form at 390 px: nothing scrolls sideways.
      await page.setViewportSize({ width: 390, height: 900 });
      await page.goto(`${demo.base}/console/channels`);
      await page.locator('#channels a', { hasText: name }).click();
      await page.click('#new-code');
      const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(widths[0] <= widths[1], `no sideways scroll (${widths})`);
      await page.screenshot({ path: join(SHOTS, `live-code-form-${L.lang}-390.png`), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  });
}
