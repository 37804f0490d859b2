// Moments tasks in the console (客户朋友圈, issue #21 item 3): an admin opens 朋友圈 from the menu
// right after 群发, the composer lists the demo's guides linked to the fake WeCom and its
// WeCom corp tags (the guides' checkboxes hidden while 全部导购 is chosen), a text-only post to
// all guides is sent and lands on its page, the list shows it and opens it again; the list
// reads in English.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

const STATUSES = /^(待发送|创建中|已下发导购|发送失败|已取消)$/;

test('an admin sends a text-only moments post to all guides and finds it in the list', async () => {
  const demo = await startDemo(['--customers', '150']);
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page, demo.base, 'admin');

    // 朋友圈 in the menu, right after 群发.
    const items = (await page.locator('nav.side > a').allTextContents()).map((t) => t.trim());
    assert.equal(items[items.indexOf('群发') + 1], '朋友圈');
    const nav = page.locator('#side-nav a[href="/console/moments"]');
    await Promise.all([page.waitForURL(/\/console\/moments$/), nav.click()]);
    assert.equal(await nav.getAttribute('class'), 'on');
    assert.equal((await page.locator('h1').textContent()).trim(), '客户朋友圈');

    // The composer: the linked guides and the WeCom corp tags to choose from.
    await Promise.all([page.waitForURL(/\/console\/moments\/new$/), page.click('#compose')]);
    const form = page.locator('#moment-form');
    assert.ok((await form.locator('input[name=sender_ids]').count()) > 0, 'the demo links guides to WeCom');
    assert.ok((await form.locator('input[name=tag_ids]').count()) > 0, 'the demo syncs WeCom corp tags');
    assert.ok(await form.locator('#attach-images').isChecked());
    assert.ok(await form.locator('#images').isVisible());
    assert.ok(!(await form.locator('#link_url').isVisible()), 'the link fields wait for 链接卡片');
    await form.locator('#name').fill('春季上新');
    await form.locator('#text').fill('春季新品到店\n欢迎来看');
    await form.locator('#senders-all').check();
    assert.ok(!(await form.locator('#f-guides').isVisible()), 'no list of guides for 全部导购');
    await page.screenshot({ path: join(SHOTS, 'moments-new.png'), fullPage: true });

    // 发送: the task's page.
    await Promise.all([page.waitForURL(/\/console\/moments\/\d+\?done=created$/), form.locator('#do-send').click()]);
    assert.match(await page.locator('#notice').textContent(), /朋友圈任务已创建/);
    assert.equal((await page.locator('#moment-name').textContent()).trim(), '春季上新');
    assert.equal((await page.locator('#moment-text').textContent()).trim(), '春季新品到店\n欢迎来看');
    assert.equal((await page.locator('#moment-senders').textContent()).trim(), '全部导购');
    assert.equal((await page.locator('#moment-tags').textContent()).trim(), '导购的全部客户');
    assert.match((await page.locator('#moment-status').textContent()).trim(), STATUSES);
    const url = page.url().split('?')[0];
    const id = url.split('/').pop();

    // Listed, and opened from the list.
    await Promise.all([page.waitForURL(/\/console\/moments$/), page.locator('a[href="/console/moments"]', { hasText: '返回朋友圈' }).click()]);
    const row = page.locator(`#moments-table tr[data-moment="${id}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /春季上新/);
    assert.match((await row.locator('td:nth-child(2)').textContent()).trim(), STATUSES);
    await Promise.all([page.waitForURL(url), row.locator('a').click()]);
    assert.equal((await page.locator('#moment-name').textContent()).trim(), '春季上新');
    // Every guide's state in words (none yet while it is being created).
    for (const cell of await page.locator('#senders-table tr[data-staff] td:nth-child(2)').allTextContents()) {
      assert.match(cell.trim(), /^(待发表|已发表|无法发表)$/);
    }
    await page.screenshot({ path: join(SHOTS, 'moments-detail.png'), fullPage: true });

    // On a phone the pages scroll only downwards.
    await page.setViewportSize({ width: 390, height: 800 });
    for (const path of ['/console/moments', '/console/moments/new', new URL(url).pathname]) {
      await page.goto(`${demo.base}${path}`);
      const [scroll, viewport] = await page.evaluate(() => [document.scrollingElement.scrollWidth, window.innerWidth]);
      assert.ok(scroll <= viewport + 1, `${path} scrolls sideways at 390px: ${scroll}px`);
    }
    await page.setViewportSize({ width: 1440, height: 900 });

    // In English.
    await page.goto(`${demo.base}/console/lang?to=en&back=/console/moments`);
    await page.goto(`${demo.base}/console/moments`);
    assert.equal((await page.locator('h1').textContent()).trim(), 'Customer moments');
    assert.equal((await page.locator('#side-nav a[href="/console/moments"]').textContent()).trim(), 'Moments');
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await demo.stop();
  }
});
