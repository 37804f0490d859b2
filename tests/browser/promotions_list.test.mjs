// The promotions list (issue #18), in Chinese and in English: every campaign shows its phase
// (未开始 / 进行中 / 已结束 / 已归档), the list searches by name and filters by phase, and a
// coupon template's page issues it to a saved segment from the console, ending on the job's
// page once it is done.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '300']); });
after(async () => { await demo?.stop(); });

const LANGS = [
  { lang: 'zh', running: '进行中', search: '搜索', issue: '立即发放', done: /完成/ },
  { lang: 'en', running: 'Running', search: 'Search', issue: 'Issue now', done: /Done/i },
];
const COUPON = '周二会员日 满59减10';
const SEGMENT = '上海车厘子爱好者';

for (const L of LANGS) {
  test(`[${L.lang}] promotions show their phase, search and filter, and issue to a segment`, async () => {
    const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await signIn(page, demo.base, 'admin');
      if (L.lang === 'en') await page.goto(`${demo.base}/console/lang?to=en&back=/console`);
      await page.goto(`${demo.base}/console/promotions`);
      const phases = await page.locator('#coupon-templates .phase').allTextContents();
      assert.ok(phases.length > 0 && phases.includes(L.running), `phases: ${phases}`);

      // Filter by phase: every campaign left is running.
      await page.selectOption('#promo-filter select[name="phase"]', 'running');
      await Promise.all([page.waitForURL(/phase=running/), page.getByRole('button', { name: L.search, exact: true }).click()]);
      const left = await page.locator('.phase').evaluateAll((els) => els.map((e) => e.getAttribute('data-phase')));
      assert.ok(left.length > 0 && left.every((p) => p === 'running'), `phases left: ${left}`);
      assert.ok(await page.locator('#promo-shown').isVisible());

      // Search by a part of the name.
      await page.fill('#promo-filter input[name="q"]', '会员日');
      await page.selectOption('#promo-filter select[name="phase"]', '');
      await Promise.all([page.waitForURL(/q=/), page.getByRole('button', { name: L.search, exact: true }).click()]);
      const names = await page.locator('#coupon-templates tbody tr[data-template] td:first-child').allTextContents();
      assert.deepEqual(names.map((n) => n.trim()), [COUPON]);
      await page.screenshot({ path: join(SHOTS, `promotions-filter-${L.lang}.png`) });

      // Issue it to a segment: the job runs to the end.
      await page.click(`#coupon-templates a:text-is("${COUPON}")`);
      await page.locator('#issue-segment').waitFor();
      await page.fill('#issue-segment input.filter', '车厘子');
      assert.match(await page.locator('#issue_segment_id option:checked').textContent(), new RegExp(SEGMENT));
      await Promise.all([page.waitForURL(/\/console\/jobs\/\d+/), page.getByRole('button', { name: L.issue }).click()]);
      // The job page reloads itself while the job runs; a locator waits across the reloads.
      await page.locator('#job-state[data-state="done"]').waitFor({ timeout: 60000 });
      assert.match(await page.locator('#job-state .pill').textContent(), L.done);
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  });
}

// 保存为草稿 keeps a new coupon a draft (草稿, no H5 link), its page offers 发布, and publishing
// opens it.
const DRAFTS = [
  { lang: 'zh', draft: '草稿', publish: '发布', published: '已发布' },
  { lang: 'en', draft: 'Draft', publish: 'Publish', published: 'Published' },
];

for (const L of DRAFTS) {
  test(`[${L.lang}] a coupon saved as a draft stays hidden until published`, async () => {
    const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const name = `草稿券 ${L.lang}`;
    try {
      await signIn(page, demo.base, 'admin');
      if (L.lang === 'en') await page.goto(`${demo.base}/console/lang?to=en&back=/console`);
      await page.goto(`${demo.base}/console/promotions/coupons/new`);
      await page.selectOption('#kind', 'amount_off');
      await page.fill('#name', name);
      await page.fill('#off_yuan', '10');
      await page.fill('#threshold_yuan', '59');
      await Promise.all([page.waitForURL(/\/console\/promotions\?ok=saved/), page.click('#save-draft')]);
      const row = page.locator(`#coupon-templates tr[data-template]:has(td:first-child a:text-is("${name}"))`);
      assert.equal(await row.locator('.phase').getAttribute('data-phase'), 'draft');
      assert.equal((await row.locator('.phase').textContent()).trim(), L.draft);
      assert.equal(await row.locator('a.share-link').count(), 0, 'a draft has no share link');
      await page.click(`#coupon-templates a:text-is("${name}")`);
      await page.locator('#publish-form').waitFor();
      await page.screenshot({ path: join(SHOTS, `promotion-draft-${L.lang}.png`), fullPage: true });
      await Promise.all([
        page.waitForURL(/ok=published/),
        page.locator('#publish-form').getByRole('button', { name: L.publish, exact: true }).click(),
      ]);
      assert.match(await page.locator('main').textContent(), new RegExp(L.published));
      assert.notEqual(await row.locator('.phase').getAttribute('data-phase'), 'draft');
      assert.equal(await row.locator('a.share-link').count(), 1);
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  });
}
