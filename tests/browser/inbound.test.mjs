// Order sync in the console (issue #24 item 7): an admin opens 「订单接入」 from the menu;
// a generic source without a channel is refused under its field with what was typed kept;
// the created source's signing secret (whsec_…) is shown once with its receiving URL; a
// shipment for an order not received yet, signed from Node with the secret, shows in the
// message log as failed with its reason; the paid order follows and is applied; 重试 on the
// failed shipment applies it too, and the flash says so.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

/** POST a generic message to `url`, signed with `secret` as the guide says. */
async function send(url, secret, message) {
  const body = JSON.stringify(message);
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-yutang-signature': `t=${t},v1=${v1}` },
    body,
  });
}

const ORDER = 'BROWSER-IN-1';

test('an admin connects a generic order source and follows its messages', async () => {
  const demo = await startDemo(['--customers', '150']);
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page, demo.base, 'admin');

    // 「订单接入」 in the menu, under the settings.
    const nav = page.locator('#side-nav a[href="/console/inbound"]');
    assert.equal((await nav.textContent()).trim(), '订单接入');
    await Promise.all([page.waitForURL(/\/console\/inbound$/), nav.click()]);
    assert.equal(await nav.getAttribute('class'), 'on');
    const form = page.locator('#source-form');

    // A generic source needs a channel: refused under the field, the name kept.
    await form.locator('#name').fill('小程序商城');
    await form.locator('#format').selectOption('generic');
    await form.locator('button[type=submit]').click();
    const channelError = form.locator('.field-error[data-field="channel"]');
    await channelError.waitFor();
    assert.match((await channelError.textContent()).trim(), /渠道/);
    assert.equal(await form.locator('#name').inputValue(), '小程序商城');
    assert.equal(await page.locator('#new-secret').count(), 0);

    // Created: the signing secret once, with the receiving URL.
    await form.locator('#channel').fill('mini_program');
    await form.locator('button[type=submit]').click();
    const secretBox = page.locator('#new-secret');
    await secretBox.waitFor();
    const secret = (await secretBox.textContent()).trim();
    assert.match(secret, /^whsec_\S{20,}$/);
    assert.match(await page.textContent('#created-source'), /只显示这一次/);
    const url = (await page.textContent('#created-url')).trim();
    assert.ok(url.startsWith(`${demo.base}/api/v1/inbound/generic/in_`), url);
    const row = page.locator('#sources-table tr[data-source]', { hasText: '小程序商城' });
    assert.equal(await row.count(), 1);
    assert.match(await row.textContent(), /通用签名[\s\S]*小程序[\s\S]*启用/);
    await page.screenshot({ path: join(SHOTS, 'inbound-created.png'), fullPage: true });

    // Its page: the receiving URL and the guide; the secret is not shown again.
    await Promise.all([page.waitForURL(/\/console\/inbound\/\d+$/), page.click('#open-created')]);
    const detail = page.url();
    assert.equal((await page.textContent('#source-name')).trim(), '小程序商城');
    assert.equal((await page.textContent('#source-url')).trim(), url);
    assert.match(await page.textContent('#integration-guide'), /X-Yutang-Signature/);
    assert.equal(await page.locator('#new-secret').count(), 0);
    assert.doesNotMatch(await page.content(), /whsec_/);

    // A shipment before its order: 409, logged as failed with the reason.
    let r = await send(url, secret, { id: 'ship-1', type: 'order.shipped', data: { external_id: ORDER } });
    assert.equal(r.status, 409);
    assert.equal((await r.json()).error.code, 'order_not_yet_received');
    // A wrong signature is refused and not logged.
    r = await send(url, 'whsec_wrong', { id: 'ship-2', type: 'order.shipped', data: { external_id: ORDER } });
    assert.equal(r.status, 401);
    // The paid order: applied.
    r = await send(url, secret, {
      id: 'paid-1',
      type: 'order.paid',
      data: {
        external_id: ORDER,
        buyer: { identities: [{ kind: 'phone', value: '13800138000' }], name: '王芳' },
        lines: [{ sku: 'A', name: '苹果', quantity: 2, unit_price_fen: 1500 }],
        discount_fen: 0,
      },
    });
    assert.equal(r.status, 200);
    const receipt = await r.json();
    assert.equal(receipt.status, 'applied');

    await page.goto(detail);
    const rows = page.locator(`#messages-table tr[data-external="${ORDER}"]`);
    assert.equal(await rows.count(), 2);
    const failed = page.locator(`#messages-table tr[data-external="${ORDER}"][data-status="failed"]`);
    assert.match(await failed.textContent(), /订单发货[\s\S]*失败[\s\S]*尚未收到该订单/);
    const paid = page.locator(`#messages-table tr[data-external="${ORDER}"][data-status="applied"]`);
    assert.match(await paid.textContent(), /订单支付[\s\S]*已处理/);
    assert.equal(await paid.locator('a.customer-link').count(), 1);
    assert.equal((await page.textContent('#source-received')).trim(), '2');
    assert.equal((await page.textContent('#source-failed')).trim(), '1');
    await page.screenshot({ path: join(SHOTS, 'inbound-log.png'), fullPage: true });

    // 重试 on the failed shipment: now its order is here, it applies.
    await Promise.all([
      page.waitForURL(/\?retried=\d+&outcome=applied#messages$/),
      failed.locator('button.retry').click(),
    ]);
    assert.match(await page.textContent('#retry-note'), /已重新处理：已处理/);
    assert.equal(await page.locator(`#messages-table tr[data-external="${ORDER}"][data-status="applied"]`).count(), 2);
    assert.equal(await page.locator('#messages-table button.retry').count(), 0);
    assert.equal((await page.textContent('#source-failed')).trim(), '0');
    // The failed filter is empty now.
    await Promise.all([page.waitForURL(/status=failed/), page.click('#message-filters a[data-status="failed"]')]);
    assert.equal(await page.locator('#messages-table tr[data-message]').count(), 0);
    await page.screenshot({ path: join(SHOTS, 'inbound-retried.png'), fullPage: true });

    // On a phone the pages never scroll sideways (the URL wraps, the log scrolls in its box).
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of [detail, `${demo.base}/console/inbound`]) {
      await page.goto(path);
      const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(scroll <= inner, `${path}: ${scroll} > ${inner}`);
    }
    await page.goto(detail);
    await page.screenshot({ path: join(SHOTS, 'inbound-phone.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await demo.stop();
  }
});
