// The material library in the console (素材库, issue #21 item 4): an admin opens 素材库 from the
// menu right after 朋友圈, makes a folder, adds a text material filed in it (the image input
// hidden for a text), finds it by a title search, opens it and gets a tracked link for one of
// the demo's guides; the list reads in English.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

test('an admin adds a text material in a new folder, finds it and gets its link', async () => {
  const demo = await startDemo(['--customers', '150']);
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page, demo.base, 'admin');

    // 素材库 in the menu, right after 朋友圈.
    const items = (await page.locator('nav.side > a').allTextContents()).map((t) => t.trim());
    assert.equal(items[items.indexOf('朋友圈') + 1], '素材库');
    const nav = page.locator('#side-nav a[href="/console/materials"]');
    await Promise.all([page.waitForURL(/\/console\/materials$/), nav.click()]);
    assert.equal(await nav.getAttribute('class'), 'on');
    assert.equal((await page.locator('h1').textContent()).trim(), '素材库');

    // A new folder.
    await page.locator('#folder-name').fill('浏览器测试');
    await Promise.all([page.waitForURL(/\/console\/materials\?ok=created$/), page.click('#do-folder-create')]);
    const folderRow = page.locator('#folders-table tr[data-folder]', { has: page.locator('input[value="浏览器测试"]') });
    await folderRow.waitFor();
    const folderId = await folderRow.getAttribute('data-folder');

    // The form: a text needs no image, so its input hides.
    await Promise.all([page.waitForURL(/\/console\/materials\/new$/), page.click('#new-material')]);
    const form = page.locator('#material-form');
    assert.ok(await form.locator('#f-image').isVisible(), 'a poster shows its image input');
    await form.locator('#kind').selectOption('text');
    await form.locator('#f-image').waitFor({ state: 'hidden' });
    assert.ok(!(await form.locator('#f-url').isVisible()), 'the URL waits for 链接');
    await form.locator('#title').fill('浏览器早安文案');
    await form.locator('#body').fill('早安！\n今天到店有惊喜');
    await form.locator('#tags').fill('早安，浏览器');
    await form.locator('#folder_id').selectOption(folderId);
    await page.screenshot({ path: join(SHOTS, 'materials-new.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/console\/materials\/\d+\?done=created$/), form.locator('#do-save').click()]);
    assert.match(await page.locator('#notice').textContent(), /素材已创建/);
    assert.equal((await page.locator('#material-title').textContent()).trim(), '浏览器早安文案');
    assert.equal((await page.locator('#material-folder').textContent()).trim(), '浏览器测试');
    assert.equal((await page.locator('#preview-body').textContent()).trim(), '早安！\n今天到店有惊喜');
    const url = page.url().split('?')[0];
    const id = url.split('/').pop();

    // Found by a title search, opened from the list.
    await Promise.all([page.waitForURL(/\/console\/materials$/), page.locator('a[href="/console/materials"]', { hasText: '返回素材库' }).click()]);
    await page.locator('#filter-q').fill('浏览器早安');
    await Promise.all([page.waitForURL(/\/console\/materials\?.*q=/), page.click('#do-filter')]);
    const rows = page.locator('#materials-table tr[data-material]');
    assert.equal(await rows.count(), 1);
    const row = page.locator(`#materials-table tr[data-material="${id}"]`);
    assert.match(await row.textContent(), /浏览器早安文案/);
    assert.match(await row.textContent(), /浏览器测试/);
    assert.equal((await row.locator('td:nth-child(3)').textContent()).trim(), '文字');
    await Promise.all([page.waitForURL(url), row.locator('a').click()]);

    // 获取我的链接 for one of the demo's guides: the link to copy.
    const guide = page.locator('#staff_id');
    assert.ok((await guide.locator('option').count()) > 0, 'the demo links guides to WeCom');
    const staffId = await guide.inputValue();
    await Promise.all([page.waitForURL(`${url}/link`), page.click('#do-link')]);
    const made = page.locator('#link-made');
    await made.waitFor();
    assert.equal(await made.getAttribute('data-staff'), staffId);
    assert.match(await page.locator('#link-url').inputValue(), /\/h5\/r\/[A-Za-z0-9_-]{22}$/);
    await page.screenshot({ path: join(SHOTS, 'materials-detail.png'), fullPage: true });

    // On a phone the pages scroll only downwards.
    await page.setViewportSize({ width: 390, height: 800 });
    for (const path of ['/console/materials', '/console/materials/new', new URL(url).pathname]) {
      await page.goto(`${demo.base}${path}`);
      const [scroll, viewport] = await page.evaluate(() => [document.scrollingElement.scrollWidth, window.innerWidth]);
      assert.ok(scroll <= viewport + 1, `${path} scrolls sideways at 390px: ${scroll}px`);
    }
    await page.setViewportSize({ width: 1440, height: 900 });

    // In English.
    await page.goto(`${demo.base}/console/lang?to=en&back=/console/materials`);
    await page.goto(`${demo.base}/console/materials`);
    assert.equal((await page.locator('h1').textContent()).trim(), 'Material library');
    assert.equal((await page.locator('#side-nav a[href="/console/materials"]').textContent()).trim(), 'Materials');
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await demo.stop();
  }
});
