// Customer journeys in the console (自动化旅程, issue #21 item 5): an operator opens 自动化旅程
// from the menu right after 素材库 (the demo's journeys listed), builds a journey in the editor
// — the trigger's fields follow the trigger kind, each step row shows its kind's fields, 添加步骤
// adds a row — saves it as a draft, starts it and finds it running in the list; the pages
// scroll only downwards on a phone and read in English.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

test('an operator builds a journey step by step, starts it and finds it in the list', async () => {
  const demo = await startDemo(['--customers', '150']);
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page, demo.base, 'ops.chen');

    // 自动化旅程 in the menu, right after 素材库; the demo's journeys are running.
    const items = (await page.locator('nav.side > a').allTextContents()).map((t) => t.trim());
    assert.equal(items[items.indexOf('素材库') + 1], '自动化旅程');
    const nav = page.locator('#side-nav a[href="/console/journeys"]');
    await Promise.all([page.waitForURL(/\/console\/journeys$/), nav.click()]);
    assert.equal(await nav.getAttribute('class'), 'on');
    assert.equal((await page.locator('h1').textContent()).trim(), '自动化旅程');
    assert.ok((await page.locator('#journeys-table tr[data-status="active"]').count()) > 0, 'the demo runs journeys');
    assert.ok((await page.locator('#journeys-table td[data-trigger="event"]', { hasText: '事件：添加好友' }).count()) > 0);

    // The editor: the trigger's fields follow its kind.
    await Promise.all([page.waitForURL(/\/console\/journeys\/new$/), page.click('#new-journey')]);
    const form = page.locator('#journey-form');
    assert.ok(await form.locator('#f-event').isVisible());
    assert.ok(!(await form.locator('#f-schedule').isVisible()), 'the schedule waits for 定时触发');
    await form.locator('#trigger').selectOption('schedule');
    await form.locator('#f-schedule').waitFor();
    await form.locator('#f-event').waitFor({ state: 'hidden' });
    await form.locator('#schedule-once').check();
    await form.locator('#schedule_at').waitFor();
    await form.locator('#f-weekly').waitFor({ state: 'hidden' });
    await form.locator('#trigger').selectOption('event');
    await form.locator('#f-event').waitFor();
    await form.locator('#event').selectOption('check_in');
    await form.locator('#name').fill('浏览器签到旅程');
    assert.ok(await form.locator('#quiet-on').isChecked(), 'quiet hours on by default');
    assert.equal(await form.locator('#quiet_start').inputValue(), '22:00');

    // Step 1: a tag. The row shows the tag select only once 打标签 is chosen.
    assert.ok(!(await form.locator('#s0-tag').isVisible()));
    await form.locator('#s0-kind').selectOption('tag');
    await form.locator('#s0-tag').waitFor();
    assert.ok(!(await form.locator('#s0-text').isVisible()));
    const tag = await form.locator('#s0-tag option:not([value=""])').first().getAttribute('value');
    await form.locator('#s0-tag').selectOption(tag);

    // 添加步骤 twice: a message, then a wait of two days.
    const addStep = async (n) => {
      await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/console/journeys/new') && r.request().method() === 'POST'),
        form.locator('#add-step').click(),
      ]);
      await page.locator(`#step-${n}`).waitFor();
    };
    await addStep(2);
    assert.equal(await form.locator('#name').inputValue(), '浏览器签到旅程', 'what was typed is kept');
    assert.equal(await form.locator('#s0-tag').inputValue(), tag);
    await form.locator('#s1-kind').selectOption('message');
    await form.locator('#s1-text').waitFor();
    await form.locator('#s1-text').fill('欢迎来店签到！本周会员日满 59 减 10。');
    await addStep(3);
    await form.locator('#s2-kind').selectOption('wait');
    await form.locator('#s2-amount').waitFor();
    assert.ok(!(await form.locator('#s2-text').isVisible()), 'a wait has no text');
    await form.locator('#s2-amount').fill('2');
    await form.locator('#s2-unit').selectOption('day');
    await page.screenshot({ path: join(SHOTS, 'journeys-new.png'), fullPage: true });

    // 保存: a draft with its three steps in words.
    await Promise.all([page.waitForURL(/\/console\/journeys\/\d+\?done=created$/), form.locator('#do-save').click()]);
    assert.match(await page.locator('#notice').textContent(), /旅程已保存为草稿/);
    assert.equal((await page.locator('#journey-name').textContent()).trim(), '浏览器签到旅程');
    assert.equal(await page.locator('#journey-status').getAttribute('data-status'), 'draft');
    assert.equal((await page.locator('#journey-trigger').textContent()).trim(), '事件：签到');
    assert.equal(await page.locator('#steps-table tbody tr').count(), 4, 'three steps and the end');
    assert.equal(await page.locator('#steps-table tr[data-step="1"]').getAttribute('data-kind'), 'tag');
    assert.match(await page.locator('#steps-table tr[data-step="2"]').textContent(), /欢迎来店签到/);
    assert.match(await page.locator('#steps-table tr[data-step="3"]').textContent(), /等待 2 天/);
    const url = page.url().split('?')[0];
    const id = url.split('/').pop();

    // 启用.
    await Promise.all([page.waitForURL(`${url}?done=activated`), page.click('#journey-activate')]);
    assert.equal(await page.locator('#journey-status').getAttribute('data-status'), 'active');
    assert.equal((await page.locator('#journey-status').textContent()).trim(), '进行中');
    await page.locator('#journey-pause').waitFor();
    await page.screenshot({ path: join(SHOTS, 'journeys-detail.png'), fullPage: true });

    // Running in the list.
    await Promise.all([page.waitForURL(/\/console\/journeys$/), page.locator('a[href="/console/journeys"]', { hasText: '返回自动化旅程' }).click()]);
    const row = page.locator(`#journeys-table tr[data-journey="${id}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'active');
    assert.match(await row.textContent(), /浏览器签到旅程/);
    assert.equal((await row.locator('td[data-trigger]').textContent()).trim(), '事件：签到');

    // On a phone the pages scroll only downwards.
    await page.setViewportSize({ width: 390, height: 800 });
    for (const path of ['/console/journeys', '/console/journeys/new', new URL(url).pathname]) {
      await page.goto(`${demo.base}${path}`);
      const [scroll, viewport] = await page.evaluate(() => [document.scrollingElement.scrollWidth, window.innerWidth]);
      assert.ok(scroll <= viewport + 1, `${path} scrolls sideways at 390px: ${scroll}px`);
    }
    await page.setViewportSize({ width: 1440, height: 900 });

    // In English.
    await page.goto(`${demo.base}/console/lang?to=en&back=/console/journeys`);
    await page.goto(`${demo.base}/console/journeys`);
    assert.equal((await page.locator('h1').textContent()).trim(), 'Customer journeys');
    assert.equal((await page.locator('#side-nav a[href="/console/journeys"]').textContent()).trim(), 'Journeys');
    assert.equal((await page.locator(`#journeys-table tr[data-journey="${id}"] td[data-trigger]`).textContent()).trim(), 'Event: Checked in');
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await demo.stop();
  }
});
