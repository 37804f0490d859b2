// Group live codes (群活码, issue #20 item 1) in the console, on the demo with its fake WeCom:
// an operator opens 群活码 from the menu right after 渠道活码, creates a code over two of the
// groups the demo synced, lands on its page (state, settings and the groups table in filling
// order), edits the cap (a cap of 501 is refused under its input first) and archives the code
// through the confirm page. The demo's fake WeCom makes the join way, so the code is synced and
// its page shows the QR image Yutang downloaded and keeps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

test('an operator creates a group code over two groups, edits its cap and archives it', async () => {
  const demo = await startDemo(['--customers', '300']);
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page, demo.base, 'ops.chen');

    // In the menu right after 渠道活码.
    const items = (await page.locator('nav.side > a').allTextContents()).map((t) => t.trim());
    assert.equal(items[items.indexOf('渠道活码') + 1], '群活码');
    const nav = page.locator('nav.side a[href="/console/group-codes"]');
    await Promise.all([page.waitForURL(/\/console\/group-codes$/), nav.click()]);
    assert.equal(await nav.getAttribute('class'), 'on');
    // The demo's own code, synced with its join way in the fake WeCom.
    const demoRow = page.locator('tr', { hasText: '会员福利群活码' });
    await demoRow.first().waitFor();

    // 新建群活码: the demo's groups are synced in the background; wait for them.
    await Promise.all([page.waitForURL(/\/console\/group-codes\/new$/), page.click('#new-group-code')]);
    let options = 0;
    for (let i = 0; i < 120; i += 1) {
      options = await page.locator('#group_0 option').count();
      if (options >= 3) break;
      await page.waitForTimeout(500);
      await page.reload();
    }
    assert.ok(options >= 3, 'the demo synced at least two groups');
    assert.equal(await page.inputValue('#member_cap'), '200');
    assert.ok(await page.isChecked('#auto_create'));
    assert.equal(await page.locator('#f-group_ids select').count(), 5);
    const first = await page.$eval('#group_0', (s) => s.options[1].value);
    const second = await page.$eval('#group_0', (s) => s.options[2].value);
    const name = '浏览器测试群活码';
    await page.fill('#name', name);
    await page.fill('#room_base_name', '浏览器福利群');
    await page.selectOption('#group_0', second);
    await page.selectOption('#group_1', first);
    await page.screenshot({ path: join(SHOTS, 'group-code-form.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/console\/group-codes\/\d+\?ok=created$/), page.click('#save-group-code')]);
    const codeUrl = page.url().replace(/\?.*$/, '');

    // Its page: the name, a state, the settings and the groups in filling order.
    assert.match(await page.locator('#code-name').textContent(), new RegExp(name));
    assert.match(await page.locator('#code-state').textContent(), /^gc/);
    assert.equal((await page.locator('#code-cap').textContent()).trim(), '200');
    assert.equal((await page.locator('#code-store').textContent()).trim(), '全品牌');
    // The demo's fake WeCom makes the join way: synced, with the QR image Yutang keeps.
    assert.equal(await page.getAttribute('#sync-status', 'data-sync'), 'synced');
    const qr = page.locator('#qr-image');
    await qr.waitFor();
    assert.ok(
      await qr.evaluate((img) => img.complete && img.naturalWidth > 0),
      'the QR image loads from Yutang',
    );
    const rows = await page.locator('#code-groups tbody tr[data-group]').evaluateAll(
      (trs) => trs.map((r) => r.getAttribute('data-group')),
    );
    assert.deepEqual(rows, [second, first]);
    await page.screenshot({ path: join(SHOTS, 'group-code-view.png'), fullPage: true });

    // On the list.
    await page.goto(`${demo.base}/console/group-codes`);
    const row = page.locator('#group-codes tr[data-code]', { hasText: name });
    assert.equal(await row.locator('td[data-groups]').getAttribute('data-groups'), '2');
    await page.screenshot({ path: join(SHOTS, 'group-codes.png'), fullPage: true });
    await Promise.all([page.waitForURL(codeUrl), row.locator('a').first().click()]);

    // Edit the cap: 501 is refused under its input, 150 is saved.
    await Promise.all([page.waitForURL(/\/edit$/), page.click('#edit-group-code')]);
    assert.equal(await page.locator('#scene-qr').count(), 0, 'the scene is shown, not offered');
    await page.fill('#member_cap', '501');
    await Promise.all([page.waitForURL(/\/edit$/), page.click('#save-group-code')]);
    assert.equal(await page.locator('.field-error[data-field="member_cap"]').count(), 1);
    assert.equal(await page.inputValue('#name'), name);
    await page.fill('#member_cap', '150');
    await Promise.all([page.waitForURL(/\?ok=saved$/), page.click('#save-group-code')]);
    assert.equal((await page.locator('#code-cap').textContent()).trim(), '150');
    assert.match(await page.locator('#code-groups').textContent(), /\/ 150/);

    // Archive through the confirm page.
    await Promise.all([page.waitForURL(/\/archive$/), page.click('#archive-group-code')]);
    await Promise.all([
      page.waitForURL(/\/console\/group-codes\?archived=1&ok=archived$/),
      page.click('#confirm-button'),
    ]);
    assert.equal(await page.locator('#group-codes tr[data-code]', { hasText: name }).count(), 1);
    await page.goto(`${demo.base}/console/group-codes`);
    assert.equal(await page.locator('#group-codes tr[data-code]', { hasText: name }).count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await demo.stop();
  }
});
