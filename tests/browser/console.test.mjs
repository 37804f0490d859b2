// Console main flows in a real browser: Debian's Chromium driven by playwright-core.
// Starts `yutang demo` on a free port with a throwaway SQLite database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo, signIn as signInAt, SHOTS } from './harness.mjs';

let base, browser, stop;

before(async () => {
  ({ base, browser, stop } = await startDemo());
});

after(async () => {
  await stop?.();
});

const signIn = (page, username, password) => signInAt(page, base, username, password);

test('admin signs in, sees the demo brand, creates a store and a guide, switches to English', async () => {
  const page = await browser.newPage();
  await signIn(page, 'admin');
  assert.equal(await page.textContent('#count-stores'), '20');
  assert.equal(await page.textContent('#count-staff'), '105');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  await page.screenshot({ path: join(SHOTS, 'home.png'), fullPage: true });

  // New store through the form.
  await page.click('nav >> text=门店');
  await page.click('text=新建门店');
  await page.fill('#code', 'xa-001');
  await page.fill('#name', '鲜果时光·西安钟楼店');
  await page.selectOption('#region_id', { label: '西南大区' });
  await page.fill('#city', '西安');
  await page.click('#store-form button[type=submit]');
  await page.waitForURL(/\/console\/stores\/\d+\?ok=created/);
  assert.equal(await page.inputValue('#code'), 'XA-001');

  // New guide in that store; a bad username is explained first.
  await page.goto(`${base}/console/staff/new`);
  await page.fill('#username', 'Bad Name');
  await page.fill('#display_name', '马小跳');
  await page.selectOption('#role', 'guide');
  await page.selectOption('#store_id', { label: 'XA-001 鲜果时光·西安钟楼店' });
  await page.fill('#password', 'guide-pass-123');
  await page.click('#staff-form button[type=submit]');
  assert.match(await page.textContent('[role=alert]'), /用户名需为/);
  assert.equal(await page.inputValue('#display_name'), '马小跳');
  await page.fill('#username', 'xa-001.guide1');
  await page.fill('#password', 'guide-pass-123');
  await page.click('#staff-form button[type=submit]');
  await page.waitForURL(/\/console\/staff\/\d+\?ok=created/);
  assert.match(await page.textContent('[role=status]'), /已创建/);

  await page.goto(`${base}/console/staff?q=xa-001`);
  assert.match(await page.textContent('#staff-table'), /马小跳/);
  await page.screenshot({ path: join(SHOTS, 'staff.png'), fullPage: true });

  // English.
  await page.click('a.lang');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.match(page.url(), /\/console\/staff\?q=xa-001/);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('nav'), /Staff/);
  await page.screenshot({ path: join(SHOTS, 'staff-en.png'), fullPage: true });

  // Audit log shows the sign-in.
  await page.goto(`${base}/console/audit?action=login`);
  assert.match(await page.textContent('#audit-table'), /admin/);
  // 导出 CSV downloads the filtered log in the page's language.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-audit')]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.ok(csv.startsWith('\uFEFFTime,Actor,Action,Target,Detail,IP\r\n'), csv.slice(0, 80));
  const rows = csv.trim().split('\r\n').slice(1);
  assert.ok(rows.length > 0 && rows.every((r) => r.includes(',Signed in,')), csv);

  // Sign out.
  await page.click('text=Sign out');
  await page.waitForURL(/\/console\/login/);
  await page.close();
});

test('a guide sees only their own store and no admin pages', async () => {
  const page = await browser.newPage();
  await signIn(page, 'sh-001.guide1');
  assert.equal(await page.textContent('#count-stores'), '1');
  await page.goto(`${base}/console/staff`);
  const table = await page.textContent('#staff-table');
  assert.match(table, /sh-001\.manager/);
  assert.doesNotMatch(table, /sh-002|bj-001|admin/);
  assert.equal(await page.locator('nav a[href="/console/tokens"]').count(), 0);
  const r = await page.goto(`${base}/console/tokens`);
  assert.equal(r.status(), 403);
  await page.close();
});

test('an operator builds a segment visually, saves it, and tags a customer by hand', async () => {
  const page = await browser.newPage();
  await signIn(page, 'admin');
  // The tag catalogue shows the demo's groups and the rule-kept groups with counts.
  await page.goto(`${base}/console/tags`);
  assert.match(await page.textContent('#tags-table'), /车厘子/);
  assert.match(await page.textContent('#tags-table'), /生命周期/);
  assert.match(await page.textContent('#rules-table'), /RFM/);
  // A new group and tag through the forms.
  await page.fill('#group-form input[name=name]', '测试');
  await page.click('#group-form button[type=submit]');
  await page.waitForURL(/\/console\/tags\?ok=saved/);
  await page.selectOption('#tag-form select[name=group_id]', { label: '测试' });
  await page.fill('#tag-form input[name=name]', '浏览器');
  await page.click('#tag-form button[type=submit]');
  await page.waitForURL(/\/console\/tags\?ok=saved/);
  assert.match(await page.textContent('tr[data-group="测试"]'), /浏览器/);
  await page.screenshot({ path: join(SHOTS, 'tags.png'), fullPage: true });

  // The builder writes the expression and shows a live count.
  await page.goto(`${base}/console/segments/new`);
  await page.waitForSelector('#builder:not([hidden])');
  await page.click('#builder-add');
  await page.selectOption('.b-row .b-field', 'tag:兴趣/车厘子');
  await page.click('#builder-add');
  await page.selectOption('.b-row:nth-child(2) .b-field', 'city');
  await page.fill('.b-row:nth-child(2) .b-value', '上海');
  await page.waitForFunction(() => document.getElementById('expression').value.includes('city = "上海"'));
  assert.equal(await page.inputValue('#expression'), 'tag("兴趣/车厘子") and city = "上海"');
  await page.waitForFunction(() => /^\d+$/.test(document.getElementById('live-count').textContent.trim()));
  const n = Number(await page.textContent('#live-count'));
  assert.ok(n > 0, `live count ${n}`);
  // A mistake typed by hand is pointed at.
  await page.fill('#expression', 'city >= 3');
  await page.waitForFunction(() => document.getElementById('live-error').textContent.includes('第 1 行第 6 列'));
  await page.fill('#expression', 'tag("兴趣/车厘子") and city = "上海"');
  await page.waitForFunction((want) => document.getElementById('live-count').textContent.trim() === String(want), n);
  await page.fill('#save-form input[name=name]', '上海车厘子（浏览器测试）');
  await page.click('#save-segment');
  await page.waitForURL(/\/console\/segments\/\d+\?ok=created/);
  await page.screenshot({ path: join(SHOTS, 'segment.png'), fullPage: true });
  await page.goto(`${base}/console/segments`);
  const row = page.locator('#segments-table tr', { hasText: '上海车厘子（浏览器测试）' });
  assert.equal((await row.locator('.seg-count').textContent()).trim(), String(n));
  await row.locator('a', { hasText: '查看成员' }).click();
  assert.match(await page.textContent('#members-table'), /\*\*\*\*/);
  const membersUrl = page.url();

  // Tag the first member by hand on the 360 page.
  await page.locator('#members-table tbody tr a').first().click();
  await page.waitForSelector('#customer-tags');
  const before = await page.locator('#customer-tags .chip').count();
  await page.selectOption('#add-tag-form select', { label: '测试/浏览器' });
  await page.click('#add-tag-form button[type=submit]');
  await page.waitForURL(/\?ok=saved/);
  assert.equal(await page.locator('#customer-tags .chip').count(), before + 1);
  assert.match(await page.textContent('#customer-tags'), /测试\/浏览器/);

  // Then tag the whole segment in bulk: a job whose page shows progress and the outcome
  // (the member tagged by hand already has the tag).
  await page.goto(membersUrl);
  await page.click('#bulk-segment');
  await page.waitForSelector('#bulk-form');
  await page.selectOption('#bulk-form select[name=tag_id]', { label: '测试/浏览器' });
  await page.click('#bulk-form button[type=submit]');
  await page.waitForURL(/\/console\/jobs\/\d+/);
  await page.waitForSelector('#job-state[data-state="done"]', { timeout: 30000 });
  assert.equal((await page.textContent('#job-result [data-k="customers"]')).trim(), String(n));
  assert.equal((await page.textContent('#job-result [data-k="added"]')).trim(), String(n - 1));
  await page.screenshot({ path: join(SHOTS, 'bulk-tag-job.png'), fullPage: true });
  await page.close();
});

// The builder and the text round-trip (issue #18): a saved segment opens with its rows, text
// the rows cannot show is kept and flagged, and removing every row clears the text.
for (const L of [
  { lang: 'zh', nested: '条件行无法表示的嵌套', unsupported: '条件行无法表示的条件' },
  { lang: 'en', nested: 'nests conditions in a way the rows cannot show', unsupported: 'has a condition the rows cannot show' },
]) {
  test(`[${L.lang}] segment builder and text round-trip`, async () => {
    const page = await browser.newPage();
    await signIn(page, 'admin');
    if (L.lang === 'en') await page.context().addCookies([{ name: 'yutang_lang', value: 'en', url: base }]);
    const expr = () => page.inputValue('#expression');
    const rowsOf = () => page.$$eval('#builder-rows .b-row', (rs) => rs.map((r) => ({
      field: r.querySelector('.b-field').value,
      op: r.querySelector('.b-op').value,
      value: r.querySelector('.b-value') ? r.querySelector('.b-value').value : '',
      not: r.querySelector('.b-not').checked,
    })));
    const want = [
      { field: 'tag:兴趣/车厘子', op: 'has', value: '', not: false },
      { field: 'city', op: '=', value: '上海', not: true },
      { field: 'orders_90d', op: '>=', value: '2', not: false },
    ];

    // Builder → text.
    await page.goto(`${base}/console/segments/new`);
    assert.equal(await page.getAttribute('html', 'lang'), L.lang === 'en' ? 'en' : 'zh-CN');
    await page.waitForSelector('#builder:not([hidden])');
    await page.click('#builder-add');
    await page.selectOption('.b-row:nth-child(1) .b-field', 'tag:兴趣/车厘子');
    await page.click('#builder-add');
    await page.selectOption('.b-row:nth-child(2) .b-field', 'city');
    await page.fill('.b-row:nth-child(2) .b-value', '上海');
    await page.check('.b-row:nth-child(2) .b-not');
    await page.click('#builder-add');
    await page.selectOption('.b-row:nth-child(3) .b-field', 'orders_90d');
    await page.fill('.b-row:nth-child(3) .b-value', '2');
    const written = 'tag("兴趣/车厘子") and not (city = "上海") and orders_90d >= 2';
    await page.waitForFunction((w) => document.getElementById('expression').value === w, written);
    await page.waitForFunction(() => /^\d+$/.test(document.getElementById('live-count').textContent.trim()));

    // Saved, the segment opens with its rows; a reload too.
    await page.fill('#save-form input[name=name]', `往返-${L.lang}`);
    await page.click('#save-segment');
    await page.waitForURL(/\/console\/segments\/\d+\?ok=created/);
    await page.waitForFunction(() => document.querySelectorAll('#builder-rows .b-row').length === 3);
    assert.deepEqual(await rowsOf(), want);
    assert.equal(await expr(), written);
    assert.equal(await page.inputValue('#builder-join'), 'and');
    assert.ok(await page.isHidden('#builder-misfit'));
    const saved = page.url().replace(/\?.*$/, '');
    await page.goto(saved);
    await page.waitForFunction(() => document.querySelectorAll('#builder-rows .b-row').length === 3);
    assert.deepEqual(await rowsOf(), want);

    // "Any condition", then back from the text in the address (a reload of an expression).
    await page.selectOption('#builder-join', 'or');
    const anyOf = '(tag("兴趣/车厘子")) or (not (city = "上海")) or (orders_90d >= 2)';
    await page.waitForFunction((w) => document.getElementById('expression').value === w, anyOf);
    await page.goto(`${base}/console/segments/new?expression=${encodeURIComponent(anyOf)}`);
    await page.waitForFunction(() => document.querySelectorAll('#builder-rows .b-row').length === 3);
    assert.deepEqual(await rowsOf(), want);
    assert.equal(await page.inputValue('#builder-join'), 'or');

    // Typed by hand and fitting: the rows follow the text.
    await page.fill('#expression', 'in_group and city = "北京"');
    await page.waitForFunction(() => document.querySelectorAll('#builder-rows .b-row').length === 2);
    assert.deepEqual(await rowsOf(), [
      { field: 'in_group', op: 'is_true', value: '', not: false },
      { field: 'city', op: '=', value: '北京', not: false },
    ]);
    assert.equal(await page.inputValue('#builder-join'), 'and');

    // Typed by hand and not fitting: kept, flagged in the reader's language; 添加条件 appends.
    const typed = 'city = "上海" and (in_group or orders_90d >= 2)';
    await page.fill('#expression', typed);
    await page.waitForSelector('#builder-misfit:not([hidden])');
    assert.match(await page.textContent('#builder-misfit'), new RegExp(L.nested));
    assert.equal(await page.locator('#builder-rows .b-row').count(), 0);
    assert.equal(await expr(), typed);
    await page.click('#builder-add');
    await page.selectOption('.b-row:nth-child(1) .b-field', 'tag:兴趣/车厘子');
    await page.waitForFunction((w) => document.getElementById('expression').value === w,
      `(${typed}) and tag("兴趣/车厘子")`);
    await page.waitForFunction(() => /^\d+$/.test(document.getElementById('live-count').textContent.trim()));
    await page.screenshot({ path: join(SHOTS, `segment-misfit-${L.lang}.png`), fullPage: true });
    await page.click('.b-row:nth-child(1) .b-del');
    assert.equal(await expr(), typed);
    await page.fill('#expression', 'city in ("上海", "北京")');
    await page.waitForFunction((t) => document.getElementById('builder-misfit').textContent.includes(t), L.unsupported);

    // Removing every row clears the text and the live count.
    await page.fill('#expression', 'tag("兴趣/车厘子") and city = "上海"');
    await page.waitForFunction(() => document.querySelectorAll('#builder-rows .b-row').length === 2);
    assert.ok(await page.isHidden('#builder-misfit'));
    await page.waitForFunction(() => /^\d+$/.test(document.getElementById('live-count').textContent.trim()));
    await page.click('.b-row:nth-child(2) .b-del');
    assert.equal(await expr(), 'tag("兴趣/车厘子")');
    await page.click('.b-row:nth-child(1) .b-del');
    assert.equal(await expr(), '');
    await page.waitForFunction(() => document.getElementById('live-count').textContent.trim() === '-');
    await page.close();
  });
}
