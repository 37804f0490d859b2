// Outbound webhooks in the console (issue #24 item 6): an admin opens 「Webhook」 from the
// menu; a URL that is not http(s) is refused under its field with what was typed kept; the
// created webhook's signing secret (whsec_…) is shown once; on its page 发送测试 puts a ping_1
// row in the delivery log; it is paused (已暂停) and resumed; a rotated secret is shown once
// after a confirmation; deleting goes through the confirmation page and the list no longer
// shows it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

const URL = 'https://hooks.example.com/yutang';

test('an admin creates, tests, pauses, resumes and deletes a webhook', async () => {
  const demo = await startDemo(['--customers', '150']);
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await signIn(page, demo.base, 'admin');

    // 「Webhook」 in the menu, next to the API tokens.
    const nav = page.locator('#side-nav a[href="/console/webhooks"]');
    assert.equal((await nav.textContent()).trim(), 'Webhook');
    await Promise.all([page.waitForURL(/\/console\/webhooks$/), nav.click()]);
    assert.equal(await nav.getAttribute('class'), 'on');
    const form = page.locator('#webhook-form');

    // ftp:// is refused under the URL field; the form keeps what was typed.
    await form.locator('#name').fill('会员中台');
    await form.locator('#url').fill('ftp://x');
    await form.locator('input[name=kinds][value=order_paid]').check();
    await form.locator('button[type=submit]').click();
    const urlError = form.locator('.field-error[data-field="url"]');
    await urlError.waitFor();
    assert.equal((await urlError.textContent()).trim(), '链接必须是 http(s) 地址');
    assert.equal(await form.locator('#url').inputValue(), 'ftp://x');
    assert.equal(await form.locator('#name').inputValue(), '会员中台');
    assert.ok(await form.locator('input[name=kinds][value=order_paid]').isChecked());
    assert.equal(await page.locator('#new-secret').count(), 0);
    await page.screenshot({ path: join(SHOTS, 'webhook-refused.png'), fullPage: true });

    // Created: the signing secret once, with the note that it is shown only this once.
    await form.locator('#url').fill(URL);
    await form.locator('button[type=submit]').click();
    const secret = page.locator('#new-secret');
    await secret.waitFor();
    const first = (await secret.textContent()).trim();
    assert.match(first, /^whsec_\S{20,}$/);
    assert.match(await page.textContent('#created-webhook'), /只显示这一次/);
    const row = page.locator('#webhooks-table tr[data-webhook]', { hasText: URL });
    assert.equal(await row.count(), 1);
    assert.match(await row.textContent(), /会员中台[\s\S]*order_paid[\s\S]*启用/);
    await page.screenshot({ path: join(SHOTS, 'webhook-created.png'), fullPage: true });

    // Its page: the secret is not shown again.
    await Promise.all([page.waitForURL(/\/console\/webhooks\/\d+$/), page.click('#open-created')]);
    const detail = page.url();
    assert.equal((await page.textContent('#webhook-name')).trim(), '会员中台');
    assert.equal(await page.locator('#new-secret').count(), 0);
    assert.doesNotMatch(await page.content(), /whsec_/);
    assert.ok(await page.locator('#webhook-form input[name=kinds][value=order_paid]').isChecked());

    // 发送测试: a ping_1 row in the delivery log.
    await Promise.all([page.waitForURL(/\?ok=tested/), page.click('#webhook-test')]);
    const ping = page.locator('#deliveries-table tr[data-event="ping_1"]');
    await ping.waitFor();
    assert.match(await ping.textContent(), /测试推送/);
    await ping.locator('details.payload summary').click();
    await ping.locator('details.payload pre').waitFor();
    assert.match(await ping.locator('details.payload pre').textContent(), /"kind": "ping"/);
    await page.screenshot({ path: join(SHOTS, 'webhook-test.png'), fullPage: true });

    // Pause, then resume.
    await Promise.all([page.waitForURL(/\?ok=paused/), page.click('#webhook-pause')]);
    assert.equal((await page.textContent('#webhook-status')).trim(), '已暂停');
    assert.equal((await page.textContent('.flash.ok')).trim(), '已暂停');
    await Promise.all([page.waitForURL(/\?ok=resumed/), page.click('#webhook-resume')]);
    assert.equal((await page.textContent('#webhook-status')).trim(), '启用');
    await page.locator('#webhook-pause').waitFor();

    // Rotating the secret asks first; the new secret is shown once.
    await Promise.all([page.waitForURL(/\/rotate$/), page.click('#webhook-rotate')]);
    assert.equal(await page.getAttribute('#confirm', 'data-outcome'), 'rotate');
    assert.match(await page.textContent('#confirm-impact'), /旧密钥立即失效/);
    await page.click('#confirm-button');
    await secret.waitFor();
    const rotated = (await secret.textContent()).trim();
    assert.match(rotated, /^whsec_\S{20,}$/);
    assert.notEqual(rotated, first);

    // Deleting goes through the confirmation page; the list no longer shows it.
    await page.goto(detail);
    await Promise.all([page.waitForURL(/\/delete$/), page.click('#webhook-delete')]);
    assert.equal((await page.textContent('#confirm-title')).trim(), '确认删除');
    assert.match(await page.textContent('#confirm-subject'), /会员中台/);
    assert.match(await page.textContent('#confirm-impact'), new RegExp(URL.replaceAll('.', '\\.')));
    await page.screenshot({ path: join(SHOTS, 'webhook-delete.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/console\/webhooks\?ok=deleted$/), page.click('#confirm-button')]);
    assert.equal((await page.textContent('.flash.ok')).trim(), '已删除');
    assert.equal(await row.count(), 0, 'the webhook is gone from the list');
    assert.doesNotMatch(await page.textContent('#webhooks-table'), /hooks\.example\.com/);
    assert.deepEqual(errors, []);
  } finally {
    await ctx.close();
    await demo.stop();
  }
});
