// Mass messages in the console (群发, issue #21 item 1): an admin opens 群发 from the menu right
// after 营销活动, composes a message to the demo's largest saved segment, 预览触达 shows the
// reach and every reason a customer would not be reached (in Chinese), 发送 lands on the
// message's page, which follows the message to its end state (the demo's fake WeCom makes the
// guides' tasks, or a task fails: whatever it is, the page shows it in words), and the list
// shows the message; a message to customer groups (客户群群发) picks the demo's synced groups and
// lists them on its page; the page reads in English.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

const REASONS = ['没有可发送的导购', '客户已删除导购', '客户已退订', '超出企业微信接收上限', '超出频次上限'];

test('an admin previews and sends a mass message to a segment and follows it', async () => {
  const demo = await startDemo(['--customers', '150']);
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page, demo.base, 'admin');

    // 群发 in the menu, right after 营销活动.
    const items = (await page.locator('nav.side > a').allTextContents()).map((t) => t.trim());
    assert.equal(items[items.indexOf('营销活动') + 1], '群发');
    const nav = page.locator('#side-nav a[href="/console/messages"]');
    await Promise.all([page.waitForURL(/\/console\/messages$/), nav.click()]);
    assert.equal(await nav.getAttribute('class'), 'on');
    assert.equal((await page.locator('h1').textContent()).trim(), '群发');
    // The rules at their defaults, with their form.
    assert.equal((await page.locator('[data-rule="daily_cap"]').textContent()).trim(), '1');
    assert.equal((await page.locator('[data-rule="weekly_cap"]').textContent()).trim(), '3');
    assert.equal(await page.locator('#rules-form').count(), 1);

    await Promise.all([page.waitForURL(/\/console\/messages\/new$/), page.click('#compose')]);
    const form = page.locator('#message-form');
    await form.locator('#name').fill('周末会员日');
    await form.locator('#text').fill('本周末会员日\n全场 8 折');
    await form.locator('input[name=link_title]').first().fill('会员日');
    await form.locator('input[name=link_url]').first().fill('https://shop.example.com/day');

    // A saved segment: the default audience; its options say how many customers each has.
    // The tag and customer fields are hidden while it is chosen.
    assert.ok(await form.locator('#audience-segment').isChecked());
    assert.ok(await form.locator('#f-segment').isVisible());
    assert.ok(!(await form.locator('#f-tags').isVisible()));
    assert.ok(!(await form.locator('#f-customers').isVisible()));
    const options = await form.locator('#segment_id option').evaluateAll((os) =>
      os.filter((o) => o.value).map((o) => ({ value: o.value, n: Number((o.textContent.match(/（(\d+) 人）/) || [0, -1])[1]) })));
    assert.ok(options.length > 0, 'the demo has saved segments');
    const biggest = options.reduce((a, b) => (b.n > a.n ? b : a));
    await form.locator('#segment_id').selectOption(biggest.value);

    // 预览触达: the reach, every reason in words, the sending guides; the form kept.
    await form.locator('#do-preview').click();
    const preview = page.locator('#preview');
    await preview.waitFor();
    const n = async (key) => Number((await preview.locator(`[data-preview="${key}"]`).textContent()).trim());
    const audience = await n('audience');
    assert.equal(audience, biggest.n, 'the preview counts the segment as the select did');
    assert.equal((await n('send')) + (await n('holdout')) + (await n('excluded')), audience);
    const reasons = (await preview.locator('#preview-reasons tbody td:first-child').allTextContents()).map((t) => t.trim());
    assert.deepEqual(reasons, REASONS);
    if ((await n('send')) > 0) {
      assert.ok((await preview.locator('#preview-guides tr[data-staff]').count()) > 0);
    }
    assert.equal(await form.locator('#name').inputValue(), '周末会员日');
    assert.equal(await form.locator('#segment_id').inputValue(), biggest.value);
    await page.screenshot({ path: join(SHOTS, 'messaging-preview.png'), fullPage: true });

    // A holdout over 50%: refused under its field, in Chinese.
    await form.locator('#holdout').fill('60');
    await form.locator('#do-send').click();
    const err = form.locator('.field-error[data-field="holdout_bp"]');
    await err.waitFor();
    assert.equal((await err.textContent()).trim(), '对照组比例须在 0–50% 之间');
    assert.equal(await form.locator('#text').inputValue(), '本周末会员日\n全场 8 折');

    // 发送: the message's page.
    await form.locator('#holdout').fill('10');
    await Promise.all([page.waitForURL(/\/console\/messages\/\d+\?done=created$/), form.locator('#do-send').click()]);
    assert.match(await page.locator('#notice').textContent(), /群发已创建/);
    assert.equal((await page.locator('#message-name').textContent()).trim(), '周末会员日');
    assert.match(await page.locator('#message-text').textContent(), /全场 8 折/);
    const url = page.url().split('?')[0];

    // Follow it to where it ends up (sent, its guides' tasks made or failed): reload until
    // the audience has been decided and the tasks are made.
    const deadline = Date.now() + 120000;
    let status = '';
    for (;;) {
      await page.goto(url);
      status = await page.locator('#message-status').getAttribute('data-status');
      const pending = await page.locator('#tasks-table tr[data-state="pending"], #tasks-table tr[data-state="sending"]').count();
      if (status === 'sent' && pending === 0) break;
      assert.ok(Date.now() < deadline, `still ${status} with ${pending} tasks waiting`);
      await page.waitForTimeout(500);
    }
    assert.equal((await page.locator('#message-status').textContent()).trim(), '已发出');
    const count = async (key) => Number((await page.locator(`#message-counts [data-count="${key}"]`).textContent()).trim());
    assert.ok((await count('audience')) > 0);
    assert.equal(
      (await count('excluded')) + (await count('holdout')) + (await count('queued')) + (await count('task_created')) +
        (await count('delivered')) + (await count('failed')),
      await count('audience'),
    );
    // Every task and recipient in words: no raw state shows.
    for (const cell of await page.locator('#tasks-table tr[data-task] td:nth-child(2)').allTextContents()) {
      assert.match(cell.trim(), /^(待创建|创建中|待导购确认|导购已发送|创建失败)$/);
    }
    const rows = page.locator('#recipients-table tr[data-customer]');
    assert.ok((await rows.count()) > 0);
    for (const cell of await rows.locator('td:nth-child(2)').allTextContents()) {
      assert.match(cell.trim(), /^(已排除|对照组|排队中|待导购发送|已送达|发送失败)$/);
    }
    // The buttons of a sent message.
    assert.equal(await page.locator('#message-remind').count(), 1);
    assert.equal(await page.locator('#message-cancel').count(), 0);
    // 刷新结果 reads WeCom's results and comes back here.
    await Promise.all([page.waitForURL(/done=refreshed/), page.click('#message-refresh')]);
    assert.match(await page.locator('#notice').textContent(), /已读取最新发送结果/);
    // The recipients by state: the holdout filter shows only the holdout.
    await page.click('#recipient-filters a[data-state="holdout"]');
    await page.waitForURL(/state=holdout/);
    for (const s of await page.locator('#recipients-table tr[data-customer]').evaluateAll((rs) => rs.map((r) => r.dataset.state))) {
      assert.equal(s, 'holdout');
    }
    await page.goto(url);
    await page.screenshot({ path: join(SHOTS, 'messaging-detail.png'), fullPage: true });

    // Listed.
    await page.goto(`${demo.base}/console/messages`);
    const row = page.locator('#messages-table tr[data-message]');
    assert.equal(await row.count(), 1);
    assert.equal(await row.getAttribute('data-kind'), 'segment');
    assert.match(await row.textContent(), /周末会员日/);
    assert.match(await row.textContent(), /已发出/);

    // 客户群群发: the groups the demo synced from WeCom, picked by name; the preview counts
    // groups with the group reasons; the message's page lists its groups.
    const groupDeadline = Date.now() + 120000;
    for (;;) {
      await page.goto(`${demo.base}/console/messages/new`);
      if ((await page.locator('input[name=group_ids]').count()) > 0) break;
      assert.ok(Date.now() < groupDeadline, 'the demo never synced its customer groups');
      await page.waitForTimeout(500);
    }
    const gform = page.locator('#message-form');
    await gform.locator('#name').fill('晚安群');
    await gform.locator('#text').fill('晚安，明早 8 点鲜果到店');
    await gform.locator('#audience-groups').check();
    assert.ok(await gform.locator('#f-groups').isVisible());
    assert.ok(!(await gform.locator('#f-segment').isVisible()));
    await gform.locator('input[name=group_ids]').first().check();
    await gform.locator('#do-preview').click();
    await page.locator('#preview').waitFor();
    const greasons = (await page.locator('#preview-reasons tbody td:first-child').allTextContents()).map((t) => t.trim());
    assert.deepEqual(greasons, ['客户群已解散', '群主不可发送（未绑定或已离职）', '超出企业微信接收上限']);
    assert.equal(Number((await page.locator('[data-preview="audience"]').textContent()).trim()), 1);
    assert.ok(await gform.locator('input[name=group_ids]').first().isChecked(), 'the pick is kept');
    await Promise.all([page.waitForURL(/\/console\/messages\/\d+\?done=created$/), gform.locator('#do-send').click()]);
    const gurl = page.url().split('?')[0];
    const gdeadline = Date.now() + 120000;
    for (;;) {
      await page.goto(gurl);
      if ((await page.locator('#recipients-table tr[data-group]').count()) === 1) break;
      assert.ok(Date.now() < gdeadline, 'the group message was never prepared');
      await page.waitForTimeout(500);
    }
    assert.equal(await page.locator('#recipients-table tr[data-customer]').count(), 0);
    assert.match(await page.locator('#recipients-table thead').textContent(), /群主/);
    await page.goto(`${demo.base}/console/messages`);
    assert.equal(await page.locator('#messages-table tr[data-message][data-kind="groups"]').count(), 1);

    // On a phone the pages scroll only downwards.
    await page.setViewportSize({ width: 390, height: 800 });
    for (const path of ['/console/messages', '/console/messages/new', new URL(url).pathname]) {
      await page.goto(`${demo.base}${path}`);
      const [scroll, viewport] = await page.evaluate(() => [document.scrollingElement.scrollWidth, window.innerWidth]);
      assert.ok(scroll <= viewport + 1, `${path} scrolls sideways at 390px: ${scroll}px`);
    }
    await page.setViewportSize({ width: 1440, height: 900 });

    // In English.
    await page.goto(`${demo.base}/console/lang?to=en&back=/console/messages`);
    await page.goto(`${demo.base}/console/messages`);
    assert.equal((await page.locator('h1').textContent()).trim(), 'Mass messages');
    assert.match(await page.locator('#messages-table tr[data-message][data-kind="segment"]').textContent(), /Sent/);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await demo.stop();
  }
});
