// Invite-a-friend (邀请有礼, issue #19 item 5) in the console and on the friend's H5 page, on
// the demo with its fake WeCom: from the nav, a program is made through its form (a hold of 31
// days refused under its input first), it is listed, a guide's link is got with its QR code,
// and the link's invite page shows the inviter, the rule and the way to add the guide; a
// signed-in customer accepts and reads the outcome in Chinese, which the program's page then
// lists. At 390 px the invite page does not scroll sideways.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '300']); });
after(async () => { await demo?.stop(); });

/** What the invite page says for each outcome (the refusal reasons as the console names them). */
const OUTCOMES = {
  bound: '已接受邀请，按活动规则达标后即可获得奖励',
  self_invite: '无法接受邀请：自己邀请自己',
  already_in_pool: '无法接受邀请：已是老客户',
  already_invited: '无法接受邀请：已被邀请过',
  identity_reused: '无法接受邀请：同一手机号/unionid 对应多位好友',
  program_not_running: '无法接受邀请：活动未进行',
};

test('a referral program made in the console gives a guide a link whose invite page a friend accepts', async () => {
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page, demo.base, 'admin');

    // The nav entry after 渠道活码 and 群活码, then 新建活动.
    const nav = page.locator('nav.side a[href="/console/referrals"]');
    assert.equal((await nav.textContent()).trim(), '邀请有礼');
    assert.equal(
      await page.evaluate(() => document.querySelector('nav.side a[href="/console/referrals"]').previousElementSibling.getAttribute('href')),
      '/console/group-codes',
    );
    await nav.click();
    await page.waitForURL(`${demo.base}/console/referrals`);
    await page.click('#new-program');
    await page.waitForURL(/\/console\/referrals\/new$/);
    const name = `浏览器测试 邀好友 ${Date.now() % 100000}`;
    await page.fill('#name', name);
    // An acquisition-link live code (the demo's official-account channel has one).
    const code = await page.$eval('#live_code_id', (s) => [...s.options].find((o) => o.text.includes('获客链接'))?.value ?? '');
    assert.ok(code, 'the demo has an acquisition-link live code');
    await page.selectOption('#live_code_id', code);
    await page.fill('#description', '好友首单满49.9元，双方各得一张券');
    await page.check('#kind-first_order');
    await page.fill('#min_order_yuan', '49.90');
    await page.fill('#hold_days', '31');
    const coupon = await page.$eval('#invitee_reward_template_id', (s) => s.options[1]?.value ?? '');
    assert.ok(coupon, 'the demo has a coupon to give');
    await page.selectOption('#invitee_reward_template_id', coupon);
    await page.click('#save-program');
    // Refused under 等待期, what was typed kept.
    const err = page.locator('.field-error[data-field="hold_days"]');
    await err.waitFor();
    assert.equal((await err.textContent()).trim(), '数量超出范围');
    assert.equal(await page.getAttribute('#hold_days', 'aria-invalid'), 'true');
    assert.equal(await page.inputValue('#name'), name);
    assert.equal(await page.inputValue('#live_code_id'), code);
    assert.equal(await page.inputValue('#min_order_yuan'), '49.90');
    await page.screenshot({ path: join(SHOTS, 'referral-form-refused.png'), fullPage: true });
    await page.fill('#hold_days', '7');
    await page.click('#save-program');
    await page.waitForURL(/\/console\/referrals\/\d+\?ok=created$/);
    const programUrl = page.url().split('?')[0];
    assert.equal((await page.textContent('.flash.ok')).trim(), '已创建');
    assert.equal((await page.textContent('#program-name')).trim(), name);
    assert.equal((await page.textContent('#program-rule')).trim(), '好友首单实付满 ¥49.90，7 天内未退款即达标');

    // Listed.
    await page.click('nav.side a[href="/console/referrals"]');
    await page.waitForURL(`${demo.base}/console/referrals`);
    const row = page.locator('#programs tbody tr', { hasText: name });
    assert.equal(await row.count(), 1);
    await row.locator('a', { hasText: name }).click();
    await page.waitForURL(programUrl);

    // A guide's link: the URL, its QR code (drawn here) and the downloads.
    const guide = await page.$eval('#link-staff', (s) => [...s.options].find((o) => o.value && o.text.includes('店'))?.value ?? '');
    assert.ok(guide, 'a store guide to choose');
    const guideName = (await page.$eval('#link-staff', (s, v) => [...s.options].find((o) => o.value === v).text, guide)).split('（')[0];
    await page.selectOption('#link-staff', guide);
    await page.click('#staff-link');
    await page.waitForURL(/\/console\/referrals\/\d+\/link\?staff_id=\d+&ok=created$/);
    assert.equal((await page.textContent('#link-title')).trim(), `${guideName}的邀请链接`);
    const url = await page.inputValue('#link-url');
    const m = url.match(/\/h5\/invite\/([a-z0-9]{12})$/);
    assert.ok(m, url);
    const linkCode = m[1];
    assert.equal((await page.textContent('#link-state')).trim(), `rf-${linkCode}`);
    await page.waitForFunction(() => document.getElementById('qr-image').naturalWidth > 0);
    assert.match(await page.getAttribute('#download-qr-png', 'href'), /\/link\/qr\.png\?staff_id=\d+$/);
    await page.screenshot({ path: join(SHOTS, 'referral-link.png'), fullPage: true });

    // The invite page, as a friend opens it on a phone.
    const phone = await demo.browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const h5 = await phone.newPage();
    h5.on('pageerror', (e) => errors.push(e.message));
    try {
      await h5.goto(url);
      assert.equal((await h5.textContent('#invite-name')).trim(), name);
      assert.equal((await h5.textContent('#invite-inviter')).trim(), `${guideName} 邀请你`);
      assert.equal((await h5.textContent('#invite-state')).trim(), '活动进行中');
      assert.equal((await h5.textContent('#invite-rule')).trim(), '添加导购后，首单实付满 ¥49.90，7 天内未退款，即可获得好友专享优惠券。');
      const add = await h5.getAttribute('#add-guide', 'href');
      assert.ok(add.endsWith(`customer_channel=rf-${linkCode}`), add);
      assert.ok(await h5.locator('#add-qr svg').isVisible());
      // No token: no 接受邀请; the demo offers its sign-in.
      assert.ok(await h5.locator('#accept-box').isHidden());
      await h5.locator('#login').waitFor({ state: 'visible' });
      assert.equal(await h5.textContent('#login-reason'), '登录后可接受邀请');
      const widths = await h5.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(widths[0] <= widths[1], `no sideways scroll (${widths})`);
      await h5.screenshot({ path: join(SHOTS, 'h5-invite.png'), fullPage: true });
      // Signed in: accept, and read the outcome in Chinese.
      await h5.fill('#login-customer', '120');
      await Promise.all([h5.waitForURL(url), h5.click('#login-btn')]);
      await h5.locator('#accept-box').waitFor({ state: 'visible' });
      await h5.click('#accept');
      const result = h5.locator('#accept-result[data-status]');
      await result.waitFor();
      const status = await result.getAttribute('data-status');
      const reason = await result.getAttribute('data-reason');
      assert.equal((await result.textContent()).trim(), OUTCOMES[reason || status], `${status} ${reason}`);
      await h5.screenshot({ path: join(SHOTS, 'h5-invite-accepted.png'), fullPage: true });
    } finally {
      await phone.close();
    }

    // The program's page lists the attempt and the guide on the leaderboard, with the visit.
    await page.goto(programUrl);
    const attempt = page.locator('#attempts tbody tr[data-referral]');
    assert.equal(await attempt.count(), 1);
    assert.equal((await attempt.locator('td.status').textContent()).trim() !== '', true);
    assert.equal((await attempt.locator('td').nth(3).textContent()).trim(), '邀请页接受');
    const leader = page.locator(`#inviters tbody tr[data-link="${linkCode}"]`);
    assert.equal((await leader.locator('.inviter-name').textContent()).trim(), guideName);
    assert.equal((await page.textContent('#program-totals [data-total="visits"]')).trim(), '2');
    await page.screenshot({ path: join(SHOTS, 'referral-program.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
  }
});
