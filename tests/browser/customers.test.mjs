// The customer list an operations team works in (issue #18), in Chinese and in English:
// sorting by a column header (the header flips the direction and keeps the filters), saving
// the current filter and opening it again from its chip, ticking rows and sending them to bulk
// tagging with their ids filled in, paging by position (下一页 / 上一页 carry the page's
// keyset position, issue #17), and the audited CSV export of the list as filtered.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '300']); });
after(async () => { await demo?.stop(); });

const LANGS = [
  { lang: 'zh', spend: '累计消费', save: '保存当前筛选', tag: '打标签', exp: '导出 CSV', filter: '上海高消费', next: '下一页', prev: '上一页' },
  { lang: 'en', spend: 'Total spend', save: 'Save this filter', tag: 'Tag', exp: 'Export CSV', filter: 'Shanghai big spenders', next: 'Next', prev: 'Previous' },
];

/** The spend column (yuan) of the rows on the page, in order, read in one evaluation. */
async function spends(page) {
  return page.evaluate(() => [...document.querySelectorAll('#customers-table tbody tr[data-customer]')]
    .map((tr) => Number(tr.children[8].textContent.replace(/[¥,]/g, ''))));
}

/** The customer ids of the rows on the page, in order. */
async function rowIds(page) {
  return page.evaluate(() => [...document.querySelectorAll('#customers-table tbody tr[data-customer]')]
    .map((tr) => tr.dataset.customer));
}

for (const L of LANGS) {
  test(`[${L.lang}] the customer list sorts, keeps saved filters, acts on ticked rows and exports`, async () => {
    const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', acceptDownloads: true });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await signIn(page, demo.base, 'admin');
      if (L.lang === 'en') await page.goto(`${demo.base}/console/lang?to=en&back=/console`);
      await page.goto(`${demo.base}/console/customers?city=${encodeURIComponent('上海')}`);

      // Sort by spend: most first, then flipped to least first; the city filter stays.
      const header = page.locator('a[data-sort="total_spend"]');
      assert.match(await header.textContent(), new RegExp(L.spend));
      await Promise.all([page.waitForURL(/sort=-total_spend/), header.click()]);
      assert.match(page.url(), /city=/);
      let s = await spends(page);
      assert.ok(s.length > 1, 'rows on the page');
      assert.deepEqual(s, [...s].sort((a, b) => b - a), 'most spend first');
      assert.match(await page.locator('a[data-sort="total_spend"]').textContent(), /▼/);
      await Promise.all([page.waitForURL(/sort=total_spend/), page.locator('a[data-sort="total_spend"]').click()]);
      s = await spends(page);
      assert.deepEqual(s, [...s].sort((a, b) => a - b), 'least spend first');

      // Save the filter; open it again from its chip on the bare list.
      await page.fill('#save-filter input[name="name"]', L.filter);
      await Promise.all([page.waitForURL(/ok=saved/), page.getByRole('button', { name: L.save }).click()]);
      await page.goto(`${demo.base}/console/customers`);
      const chip = page.locator('.saved-filter a', { hasText: L.filter });
      await Promise.all([page.waitForURL(/city=.*sort=total_spend/), chip.click()]);
      assert.equal(await page.locator('form.toolbar input[name="city"]:not([type=hidden])').inputValue(), '上海');

      // Tick two rows → bulk tagging with their ids.
      const boxes = page.locator('input[name="ids"][form="bulk"]');
      const first = await boxes.nth(0).getAttribute('value');
      const second = await boxes.nth(1).getAttribute('value');
      await boxes.nth(0).check();
      await boxes.nth(1).check();
      await Promise.all([page.waitForURL(/\/console\/tags\/bulk\?ids=/), page.getByRole('button', { name: L.tag, exact: true }).click()]);
      assert.equal(await page.locator('textarea[name="ids"]').inputValue(), `${first},${second}`);

      // Page by position: 下一页 reads on after the page's last row, 上一页 back before its
      // first, showing the same rows again.
      await page.goto(`${demo.base}/console/customers?sort=-total_spend`);
      const p1 = await rowIds(page);
      const next = () => page.locator('.pager a', { hasText: L.next }).click();
      const prev = () => page.locator('.pager a', { hasText: L.prev }).click();
      await Promise.all([page.waitForURL(/after=.*page=2/), next()]);
      const p2 = await rowIds(page);
      assert.equal(p2.length, 50);
      assert.deepEqual(p2.filter((id) => p1.includes(id)), [], 'page 2 repeats no row of page 1');
      s = await spends(page);
      assert.deepEqual(s, [...s].sort((a, b) => b - a), 'still most spend first');
      await Promise.all([page.waitForURL(/after=.*page=3/), next()]);
      await Promise.all([page.waitForURL(/before=.*page=2/), prev()]);
      assert.deepEqual(await rowIds(page), p2, 'back on page 2');
      await Promise.all([page.waitForURL((u) => !u.search.includes('before=') && !u.search.includes('page=')), prev()]);
      assert.deepEqual(await rowIds(page), p1, 'back on page 1');

      // Export the filtered list: a CSV of the 上海 customers.
      await page.goto(`${demo.base}/console/customers?city=${encodeURIComponent('上海')}&sort=-total_spend`);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: L.exp }).click()]);
      const path = await download.path();
      const { readFileSync } = await import('node:fs');
      const lines = readFileSync(path, 'utf8').replace(/^\uFEFF/, '').trim().split(/\r?\n/);
      assert.match(lines[0], /^customer_id,name,phone,city/);
      assert.ok(lines.length > 1);
      assert.ok(lines.slice(1).every((l) => l.includes(',上海,')), 'only the filtered city');
      await page.screenshot({ path: join(SHOTS, `customers-list-${L.lang}.png`), fullPage: false });
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  });
}

// Notes (跟进记录, issue #23 item 2) on the customer page: the section shows, a note written in
// its form comes back first in the list with its author, line break kept.
test('[zh] the customer page lists notes and adds one', async () => {
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page, demo.base, 'admin');
    await page.goto(`${demo.base}/console/customers`);
    const [id] = await rowIds(page);
    await page.goto(`${demo.base}/console/customers/${id}`);
    const section = page.locator('#customer-notes');
    assert.match(await section.locator('h2').textContent(), /跟进记录/);
    const text = `浏览器写的跟进 ${Date.now()}`;
    await page.fill('#add-note-form textarea[name="body"]', `${text}\n下周回访`);
    await Promise.all([page.waitForURL(/ok=saved/), page.getByRole('button', { name: '添加跟进记录' }).click()]);
    const first = page.locator('#notes-list li[data-note]').first();
    assert.match(await first.locator('.note-body').textContent(), new RegExp(`^${text}\\n下周回访$`));
    assert.ok((await first.locator('.note-author').textContent()).length > 0, 'the author shows');
    await section.screenshot({ path: join(SHOTS, 'customer-notes-zh.png') });
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});
