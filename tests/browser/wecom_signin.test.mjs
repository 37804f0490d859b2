// Sign in with WeCom on the demo (issue #23 items 1 and 7): the demo's fake WeCom corp has a
// self-built app and one member who confirms its logins (sh-001.guide1), so 企业微信登录 on the
// login page goes through the fake's QR web login and comes back signed in as that guide, and
// a console page opened inside a (pretend) WeCom client signs in silently through OAuth and
// lands on the page asked for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDemo } from './harness.mjs';

const WXWORK_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 '
  + '(KHTML, like Gecko) Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh';

test('the demo signs a guide in through its fake WeCom, by QR login and inside the client', async () => {
  const demo = await startDemo(['--customers', '1500']);
  const errors = [];
  try {
    // 企业微信登录 on the login page: the fake's QR login confirms at once and WeCom's code
    // comes back to Yutang, which opens the guide's session.
    const ctx = await demo.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${demo.base}/console/login`);
    const button = page.locator('#wecom-login');
    assert.equal(await button.count(), 1, 'the demo offers sign-in with WeCom');
    await Promise.all([page.waitForURL(`${demo.base}/console`), button.click()]);
    assert.match(await page.locator('header .user').textContent(), /导购/);
    await ctx.close();

    // Inside the WeCom client: no password form, straight to the workbench's tasks.
    const phone = await demo.browser.newContext({
      viewport: { width: 390, height: 844 }, userAgent: WXWORK_UA,
    });
    const mobile = await phone.newPage();
    mobile.on('pageerror', (e) => errors.push(e.message));
    await mobile.goto(`${demo.base}/console/workbench?tab=tasks`);
    await mobile.waitForURL(/\/console\/workbench\?tab=tasks/);
    assert.equal(await mobile.locator('#username').count(), 0, 'no password form');
    assert.equal(await mobile.locator('#tasks').count(), 1);
    await phone.close();
    assert.deepEqual(errors, []);
  } finally {
    await demo.stop();
  }
});
