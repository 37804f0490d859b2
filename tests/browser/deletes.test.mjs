// Deletes ask first and say what they will affect (issue #18), in Chinese by default and in
// English: deleting a tag names how many customers hold it, and nothing is deleted until the
// confirmation is posted; removing a coupon template that has claims archives it — the
// statistics stay, listed under 已归档 — and the flash says 已删除 / 已归档, never 已保存.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

const LANGS = [
  {
    lang: 'zh', holders: /^([\d,]+) 位客户将失去此标签$/, deleted: '已删除', archived: '已归档',
    archive: '归档', remove: '删除', claims: /已领取 ([\d,]+) 次/, willArchive: /将归档而不是删除/, title: '确认删除',
  },
  {
    lang: 'en', holders: /^([\d,]+) customers will lose this tag$/, deleted: 'Deleted', archived: 'Archived',
    archive: 'Archive', remove: 'Delete', claims: /Claimed ([\d,]+) times/, willArchive: /archived rather than deleted/, title: 'Confirm delete',
  },
];

const TAG_GROUP = '兴趣';
const TAG = '车厘子';
const COUPON = '周二会员日 满59减10';

for (const L of LANGS) {
  test(`[${L.lang}] a tag delete and a coupon-template archive are confirmed with their impact`, async () => {
    const demo = await startDemo(['--customers', '300']);
    const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await signIn(page, demo.base, 'ops.chen');
      if (L.lang === 'en') await page.goto(`${demo.base}/console/lang?to=en&back=/console`);

      // The tag: × opens a confirmation naming how many customers hold it.
      await page.goto(`${demo.base}/console/tags`);
      const chip = page.locator(`tr[data-group="${TAG_GROUP}"] .chip[data-tag="${TAG}"]`);
      const holders = Number((await chip.locator('.count').textContent()).trim());
      assert.ok(holders > 0, `the demo tag has holders (${holders})`);
      await chip.locator('a.tag-delete').click();
      await page.waitForURL(/\/console\/tags\/\d+\/delete$/);
      assert.equal((await page.textContent('#confirm-title')).trim(), L.title);
      assert.match(await page.textContent('#confirm-subject'), new RegExp(`${TAG_GROUP}/${TAG}`));
      const line = (await page.locator('#confirm-impact li').first().textContent()).trim();
      const m = line.match(L.holders);
      assert.ok(m, `impact line: ${line}`);
      assert.equal(Number(m[1].replaceAll(',', '')), holders);
      await page.screenshot({ path: join(SHOTS, `confirm-tag-${L.lang}.png`), fullPage: true });
      // Cancel: nothing is deleted.
      await page.click('#confirm-cancel');
      await page.waitForURL(/\/console\/tags$/);
      assert.equal(await chip.count(), 1, 'cancel kept the tag');
      // Confirm: deleted, and the flash says so.
      await chip.locator('a.tag-delete').click();
      await page.waitForURL(/\/delete$/);
      assert.equal((await page.textContent('#confirm-button')).trim(), L.remove);
      await page.click('#confirm-button');
      await page.waitForURL(/\/console\/tags\?ok=deleted/);
      assert.equal((await page.textContent('.flash.ok')).trim(), L.deleted);
      assert.equal(await chip.count(), 0, 'the tag is gone');

      // The coupon template with claims: the confirmation says it will be archived.
      await page.goto(`${demo.base}/console/promotions`);
      const row = page.locator('#coupon-templates tr[data-template]', { hasText: COUPON });
      // Columns: name, phase, claim window, claimed / stock, claims …
      const claims = (await row.locator('td').nth(4).textContent()).trim();
      assert.ok(Number(claims) > 0, `the demo template has claims (${claims})`);
      await row.locator('a', { hasText: L.remove }).click();
      await page.waitForURL(/\/console\/promotions\/coupons\/\d+\/delete$/);
      assert.equal(await page.getAttribute('#confirm', 'data-outcome'), 'archive');
      const impact = await page.textContent('#confirm-impact');
      assert.equal(impact.match(L.claims)?.[1].replaceAll(',', ''), claims, impact);
      assert.match(impact, L.willArchive);
      assert.equal((await page.textContent('#confirm-button')).trim(), L.archive);
      await page.screenshot({ path: join(SHOTS, `confirm-coupon-${L.lang}.png`), fullPage: true });
      await page.click('#confirm-button');
      await page.waitForURL(/\/console\/promotions\?ok=archived/);
      assert.equal((await page.textContent('.flash.ok')).trim(), L.archived);
      assert.equal(await row.count(), 0, 'no longer among the active templates');
      const archived = page.locator('#archived-coupon-templates tr[data-template]', { hasText: COUPON });
      assert.equal(await archived.count(), 1, 'listed under archived');
      assert.equal((await archived.locator('td').nth(3).textContent()).trim(), claims, 'statistics kept');
      await page.screenshot({ path: join(SHOTS, `archived-${L.lang}.png`), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
      await demo.stop();
    }
  });
}
