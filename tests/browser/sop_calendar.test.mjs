// Group SOPs (群SOP) and the SOP calendar in the console: an operator opens 群SOP日历 from the
// journeys list (the demo's daily group rhythm on it), builds a group SOP in the journey editor
// — 群SOP定时 shows the weekdays, the time and the groups instead of an audience, and one group
// message with its delivery instead of the step list — saves and starts it, and finds it on
// every day of the calendar's week; the week moves back and forth, a phone scrolls only
// downwards, and the page reads in English.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

test('an operator builds a group SOP in the editor, starts it and finds it in the calendar', async () => {
  const demo = await startDemo(['--customers', '150']);
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page, demo.base, 'ops.chen');

    // 群SOP日历 from the journeys list: seven days, Monday first, this week.
    await page.goto(`${demo.base}/console/journeys`);
    await Promise.all([page.waitForURL(/\/console\/journeys\/calendar$/), page.click('#journeys-calendar')]);
    assert.equal((await page.locator('h1').textContent()).trim(), '群SOP日历');
    const days = page.locator('#calendar section.day');
    assert.equal(await days.count(), 7);
    assert.equal(await days.first().getAttribute('data-weekday'), '1');
    assert.match(await days.first().textContent(), /周一/);
    assert.equal(await page.locator('#calendar section.day.today').count(), 1, 'today is marked');
    const thisWeek = await page.locator('#week-range').getAttribute('data-week');

    // The editor: 群SOP定时 swaps the audience for the groups, the steps for one group message.
    await page.goto(`${demo.base}/console/journeys/new`);
    const form = page.locator('#journey-form');
    assert.ok(!(await form.locator('#f-group-message').isVisible()), 'the group message waits for 群SOP定时');
    await form.locator('#trigger').selectOption('group_schedule');
    await form.locator('#f-groups').waitFor();
    await form.locator('#f-group-message').waitFor();
    await form.locator('#f-steps').waitFor({ state: 'hidden' });
    await form.locator('#f-entry').waitFor({ state: 'hidden' });
    assert.ok(!(await form.locator('#f-audience').isVisible()), 'no segment audience for groups');
    assert.ok(await form.locator('#schedule_time').isVisible(), 'the weekly time is shared with 定时触发');
    await form.locator('#name').fill('浏览器群SOP');
    for (let d = 1; d <= 7; d++) await form.locator(`#weekday-${d}`).check();
    await form.locator('#schedule_time').fill('10:30');
    // Every group, or the groups ticked.
    await form.locator('#groups-all').check();
    await form.locator('#f-group-pick').waitFor({ state: 'hidden' });
    await form.locator('#groups-some').check();
    await form.locator('#f-group-pick').waitFor();
    await form.locator('#groups-all').check();
    // The material goes with an owner task only.
    assert.ok(await form.locator('#delivery-owner_task').isChecked(), '群主待办 by default');
    assert.ok(await form.locator('#group_material').isVisible());
    await form.locator('#delivery-mass_message').check();
    await form.locator('#f-group-material').waitFor({ state: 'hidden' });
    assert.match(await form.locator('#f-delivery').textContent(), /计入企业微信每群接收上限/);
    await form.locator('#delivery-owner_task').check();
    await form.locator('#group_material').waitFor();
    await form.locator('#group_text').fill('上午好！今日鲜果已到店，欢迎来选～');
    await page.screenshot({ path: join(SHOTS, 'sop-new.png'), fullPage: true });

    // 保存, then 启用.
    await Promise.all([page.waitForURL(/\/console\/journeys\/\d+\?done=created$/), form.locator('#do-save').click()]);
    assert.equal((await page.locator('#journey-trigger').textContent()).trim(), '每天 10:30，全部客户群');
    assert.equal(await page.locator('#journey-trigger').getAttribute('data-trigger'), 'group_schedule');
    assert.equal((await page.locator('#journey-delivery').textContent()).trim(), '群主待办');
    assert.match(await page.locator('#group-message-text').textContent(), /今日鲜果已到店/);
    assert.equal(await page.locator('#no-sends').count(), 1);
    assert.equal(await page.locator('#trace-form').count(), 0, 'a group SOP has no customer trace');
    const url = page.url().split('?')[0];
    const id = url.split('/').pop();
    await Promise.all([page.waitForURL(`${url}?done=activated`), page.click('#journey-activate')]);
    assert.equal(await page.locator('#journey-status').getAttribute('data-status'), 'active');

    // On the calendar, every day of this week at 10:30, linking back to it.
    await Promise.all([page.waitForURL(/\/console\/journeys\/calendar$/), page.click('#to-calendar')]);
    assert.equal(await page.locator('#week-range').getAttribute('data-week'), thisWeek);
    const mine = page.locator(`#calendar .entry[data-journey="${id}"]`);
    assert.equal(await mine.count(), 7, 'one entry a day');
    for (let d = 1; d <= 7; d++) {
      const entry = page.locator(`#calendar section[data-weekday="${d}"] .entry[data-journey="${id}"]`);
      assert.equal(await entry.count(), 1, `weekday ${d}`);
      assert.equal(await entry.getAttribute('data-time'), '10:30');
      assert.equal(await entry.getAttribute('data-kind'), 'group_schedule');
    }
    const today = page.locator(`#calendar section.day.today .entry[data-journey="${id}"]`);
    assert.match(await today.textContent(), /浏览器群SOP/);
    assert.match(await today.textContent(), /群SOP/);
    assert.match(await today.textContent(), /群主待办/);
    assert.match(await today.textContent(), /今日鲜果已到店/);
    // The demo's group rhythm is there too.
    assert.ok((await page.locator('#calendar .entry[data-kind="group_schedule"]').count()) > 7, 'the demo SOPs');
    await page.screenshot({ path: join(SHOTS, 'sop-calendar.png'), fullPage: true });

    // A week on, and back with 本周.
    await Promise.all([page.waitForURL(/\?week=\d{4}-\d{2}-\d{2}$/), page.click('#next-week')]);
    assert.notEqual(await page.locator('#week-range').getAttribute('data-week'), thisWeek);
    assert.equal(await page.locator('#calendar section.day.today').count(), 0);
    assert.equal(await page.locator(`#calendar .entry[data-journey="${id}"]`).count(), 7);
    await Promise.all([page.waitForURL(/\?week=\d{4}-\d{2}-\d{2}$/), page.click('#this-week')]);
    assert.equal(await page.locator('#week-range').getAttribute('data-week'), thisWeek);
    // A date typed in the box: that date's week.
    await page.locator('#week').fill('2027-03-03');
    await Promise.all([page.waitForURL(/\?week=2027-03-03$/), page.click('#go-week')]);
    assert.equal(await page.locator('#week-range').getAttribute('data-week'), '2027-03-01');
    // The entry links to the journey.
    await Promise.all([
      page.waitForURL(url),
      page.locator(`#calendar section[data-weekday="3"] .entry[data-journey="${id}"] a.name`).click(),
    ]);
    assert.equal((await page.locator('#journey-name').textContent()).trim(), '浏览器群SOP');

    // On a phone the calendar is one column and scrolls only downwards.
    await page.setViewportSize({ width: 390, height: 800 });
    for (const path of ['/console/journeys/calendar', '/console/journeys/new', new URL(url).pathname]) {
      await page.goto(`${demo.base}${path}`);
      const [scroll, viewport] = await page.evaluate(() => [document.scrollingElement.scrollWidth, window.innerWidth]);
      assert.ok(scroll <= viewport + 1, `${path} scrolls sideways at 390px: ${scroll}px`);
    }
    await page.setViewportSize({ width: 1440, height: 900 });

    // In English.
    await page.goto(`${demo.base}/console/lang?to=en&back=/console/journeys/calendar`);
    await page.goto(`${demo.base}/console/journeys/calendar`);
    assert.equal((await page.locator('h1').textContent()).trim(), 'SOP calendar');
    assert.match(await page.locator('#calendar section.day').first().textContent(), /Mon/);
    assert.match(await page.locator(`#calendar section.day.today .entry[data-journey="${id}"]`).textContent(), /Owner task/);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await demo.stop();
  }
});
