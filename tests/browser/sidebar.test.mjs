// The chat sidebar (聊天工具栏, issue #23 item 2) on a 390 px phone: a guide of the demo brand
// opens /console/sidebar beside a chat with one of their customers. WeCom's JS-SDK is replaced
// by a stub `ww` (served instead of the vendored @wecom/jssdk) that answers getContext and
// getCurExternalContact like the WeCom client and records what the page registers and sends.
// The demo corp's self-built app lets the server sign for real with the fake WeCom's tickets;
// the signatures themselves are checked against those tickets in the API tests
// (crates/yutang-web/tests/api/sidebar.rs). The page shows the customer's card, a note and a
// tag are saved, a coupon is given once, a material goes into the chat through the guide's
// tracked link, and the page reads in English. The time to the card is printed, not asserted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

const GUIDE = 'sh-001.guide1';
const PASSWORD = 'yutang-demo';

// Stands in for @wecom/jssdk inside the WeCom client.
const STUB = `
window.__ww = { registered: null, signatures: [], sent: [] };
window.ww = {
  register: function (o) {
    window.__ww.registered = { corpId: o.corpId, agentId: o.agentId, jsApiList: o.jsApiList };
    Promise.all([o.getConfigSignature(location.href), o.getAgentConfigSignature(location.href)])
      .then(function (s) { window.__ww.signatures = s; });
  },
  getContext: function () { return Promise.resolve({ entry: 'single_chat_tools' }); },
  getCurExternalContact: function () { return Promise.resolve({ userId: window.__EXT }); },
  getCurExternalChat: function () { return Promise.reject({ errMsg: 'getCurExternalChat:fail without context of external contact' }); },
  sendChatMessage: function (m) { window.__ww.sent.push(m); return Promise.resolve({ errMsg: 'sendChatMessage:ok' }); },
};
`;

async function api(base, token, method, path, body) {
  const r = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return JSON.parse(text);
}

test('a guide works a customer chat from the sidebar on a phone', async () => {
  const demo = await startDemo(['--customers', '300']);
  try {
    const { base } = demo;
    // A customer of the guide's with a WeCom identity, found through the guide's own scope.
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: GUIDE, password: PASSWORD }),
    });
    const guideToken = (await login.json()).token;
    const list = await api(base, guideToken, 'GET', '/customers?identity_kind=wecom_external&page_size=5');
    assert.ok(list.items.length > 0, 'the guide has WeCom customers');
    const customer = list.items[0];
    const ids = await api(base, guideToken, 'GET', `/customers/${customer.id}/identities`);
    const ext = ids.find((i) => i.kind === 'wecom_external').value;
    // A text material and a link card to send, and a coupon template to give (admin).
    const admin = await (await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    })).json();
    const text = await api(base, admin.token, 'POST', '/materials',
      { kind: 'text', title: '侧边栏欢迎语', body: '您好，我是您的专属顾问，有需要随时找我' });
    const now = Date.now();
    const tpl = await api(base, admin.token, 'POST', '/coupon-templates', {
      name: '侧边栏专享 满100减20', steps: [{ kind: 'amount_off', off_fen: 2000, threshold_fen: 10000 }],
      validity: { kind: 'days_from_claim', days: 7 },
      claim_window: { starts_at: now - 86400000, ends_at: now + 86400000 },
      stock: 100, per_customer: 1, audience: { kind: 'everyone' },
    });

    const ctx = await demo.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addInitScript((e) => { window.__EXT = e; }, ext);
    await page.route('**/console/assets/wecom-jssdk.js', (route) =>
      route.fulfill({ contentType: 'text/javascript; charset=utf-8', body: STUB }));
    // The demo's fake corp has a self-built app: the server signs with the fake's corp and app
    // jsapi_tickets.
    let signed = 0;
    page.on('request', (r) => { if (r.url().includes('/console/sidebar/jssdk.json')) signed += 1; });
    await signIn(page, base, GUIDE);

    const started = Date.now();
    await page.goto(`${base}/console/sidebar`);
    await page.locator('#contact-name').waitFor();
    const toCard = Date.now() - started;
    console.log(`sidebar: card shown ${toCard} ms after navigation (390 px, debug build)`);
    assert.equal((await page.textContent('#contact-name')).trim(), customer.name || `#${customer.id}`);
    assert.equal(await page.getAttribute('#contact-head', 'data-customer'), String(customer.id));
    const reg = await page.evaluate(() => window.__ww.registered);
    assert.equal(reg.corpId, 'wwfakeyutang0001');
    assert.equal(reg.agentId, 1000002);
    assert.ok(reg.jsApiList.includes('sendChatMessage'));
    await page.waitForFunction(() => window.__ww.signatures.length === 2);
    assert.ok(signed >= 1);
    const sigs = await page.evaluate(() => window.__ww.signatures);
    for (const sig of sigs) assert.match(sig.signature, /^[0-9a-f]{40}$/);
    assert.notEqual(sigs[0].signature, sigs[1].signature, 'the corp and the app tickets differ');
    // Nothing of the page comes from elsewhere, and nothing is wider than the phone.
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `page is ${width} px wide`);
    await page.screenshot({ path: join(SHOTS, 'sidebar-contact.png'), fullPage: true });

    // A note.
    await page.fill('#note-body', '问了儿童安全座椅，周六到店试装');
    await page.click('#add-note');
    await page.locator('#note-list', { hasText: '周六到店试装' }).waitFor();

    // A tag from the catalogue.
    await page.click('#edit-tags');
    const box = page.locator('#tag-editor input[data-tag]:not(:checked)').first();
    await box.waitFor();
    const label = (await box.locator('xpath=..').textContent()).trim();
    await box.check();
    await page.click('#save-tags');
    await page.locator('#tag-chips', { hasText: label }).waitFor();

    // A coupon, given once.
    await page.locator(`#coupon-template option[value="${tpl.id}"]`).waitFor({ state: 'attached' });
    await page.selectOption('#coupon-template', String(tpl.id));
    await page.click('#give-coupon');
    await page.locator('#coupon-list', { hasText: '侧边栏专享' }).waitFor();
    const coupons = await api(base, admin.token, 'GET', `/customers/${customer.id}/coupons`);
    assert.equal(coupons.filter((c) => c.template_id === tpl.id || c.row?.template_id === tpl.id).length, 1);

    // A material into the chat.
    await page.fill('#material-q', '侧边栏欢迎语');
    const send = page.locator(`#material-list button[data-material="${text.id}"]`);
    await send.waitFor();
    await send.click();
    await page.waitForFunction(() => window.__ww.sent.length === 1);
    const sent = await page.evaluate(() => window.__ww.sent[0]);
    assert.deepEqual(sent, { msgtype: 'text', text: { content: '您好，我是您的专属顾问，有需要随时找我' } });
    assert.deepEqual(errors, []);

    // In English.
    await page.goto(`${base}/console/lang?to=en&back=/console/sidebar`);
    await page.locator('#contact-name').waitFor();
    assert.match(await page.textContent('#contact'), /Recent orders/);
    await page.screenshot({ path: join(SHOTS, 'sidebar-contact-en.png'), fullPage: true });

    await ctx.close();
  } finally {
    await demo.stop();
  }
});
