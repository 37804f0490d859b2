// QR codes and posters for the H5 links (issue #18), in Chinese and in English: from the
// promotions list, each kind of campaign's 分享 page shows its QR code (an image that loaded),
// the poster with the campaign's name, and its three downloads answer 200 with their content
// types; the demo has no h5.public_url, so the page warns that links follow its own address.
// A coupon's link opens the H5 coupon page with that coupon first, outlined.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '300']); });
after(async () => { await demo?.stop(); });

const LANGS = [
  { lang: 'zh', scan: '微信扫码参与', customer: 261 },
  { lang: 'en', scan: 'Scan with WeChat to join', customer: 262 },
];
const CAMPAIGNS = [
  { kind: 'flash-sales', table: '#flash-sales', name: '周五秒杀 · 金枕榴莲' },
  { kind: 'group-buys', table: '#group-buys', name: '三人团 · 阳光玫瑰' },
  // Third in the H5 list by default: its link puts it first.
  { kind: 'coupons', table: '#coupon-templates', name: '月度礼包 70元（三张）' },
];

/** In one evaluation, once the QR image has loaded: what the share page shows, and how its
 *  three downloads answer. */
function sharePage() {
  const img = document.querySelector('#qr-image');
  const files = ['#download-qr-svg', '#download-qr-png', '#download-poster']
    .map((sel) => document.querySelector(sel).getAttribute('href'));
  return Promise.all(files.map((href) => fetch(href).then((r) => r.arrayBuffer().then((b) => ({
    href,
    status: r.status,
    type: r.headers.get('content-type'),
    disposition: r.headers.get('content-disposition'),
    bytes: b.byteLength,
  }))))).then((downloads) => ({
    qrWidth: img.naturalWidth,
    posterName: [...document.querySelectorAll('#poster svg text.name')].map((t) => t.textContent).join(''),
    posterText: document.querySelector('#poster svg').textContent,
    posterWidth: document.querySelector('#poster svg').getBoundingClientRect().width,
    url: document.querySelector('#share-url').value,
    notice: document.querySelector('#host-notice')?.textContent ?? '',
    downloads,
  }));
}

for (const L of LANGS) {
  test(`[${L.lang}] every campaign's share page shows its QR code and poster and serves the files`, async () => {
    const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await signIn(page, demo.base, 'admin');
      if (L.lang === 'en') await page.goto(`${demo.base}/console/lang?to=en&back=/console`);
      const links = {};
      for (const c of CAMPAIGNS) {
        await page.goto(`${demo.base}/console/promotions`);
        const row = page.locator(`${c.table} tbody tr`, { hasText: c.name });
        await Promise.all([
          page.waitForURL(new RegExp(`/console/promotions/${c.kind}/\\d+/share$`)),
          row.locator('a.share-link').click(),
        ]);
        await page.waitForFunction(() => {
          const img = document.querySelector('#qr-image');
          return img && img.complete && img.naturalWidth > 0;
        });
        const s = await page.evaluate(sharePage);
        assert.ok(s.qrWidth > 0, `QR image not shown: ${JSON.stringify(s)}`);
        assert.equal(s.posterName, c.name);
        assert.ok(s.posterText.includes(L.scan) && s.posterText.includes(s.url), s.posterText);
        assert.ok(s.posterWidth > 200, `poster preview ${s.posterWidth}px wide`);
        assert.ok(s.url.startsWith(demo.base + '/h5/'), s.url);
        assert.ok(s.notice.includes('h5.public_url') && s.notice.includes(demo.base.replace('http://', '')), s.notice);
        const types = ['image/svg+xml; charset=utf-8', 'image/png', 'image/svg+xml; charset=utf-8'];
        s.downloads.forEach((d, i) => {
          assert.equal(d.status, 200, d.href);
          assert.equal(d.type, types[i], d.href);
          assert.match(d.disposition, /^attachment; filename="[a-z-]+-\d+-(qr|poster)\.(svg|png)"$/, d.href);
          assert.ok(d.bytes > 100, d.href);
        });
        links[c.kind] = s.url;
        await page.screenshot({ path: join(SHOTS, `share-${c.kind}-${L.lang}.png`), fullPage: true });
      }
      // The coupon's link: that coupon first on the H5 page, outlined — for a customer who may
      // still claim it (the demo gives some customers this monthly pack with their member
      // card, which depends on the day it is seeded: the first from L.customer on who has not
      // got it; one who has sees the "no longer available" line instead, also checked).
      const template = new URL(links.coupons).searchParams.get('template');
      let phone;
      let first;
      for (let k = 0; k < 20 && !first; k++) {
        phone = await ctx.newPage();
        await phone.setViewportSize({ width: 390, height: 844 });
        phone.on('pageerror', (e) => errors.push(e.message));
        await phone.goto(links.coupons);
        await phone.waitForSelector('#login-customer');
        await phone.fill('#login-customer', String(L.customer + 2 * k));
        await Promise.all([phone.waitForEvent('load'), phone.click('#login-btn')]);
        await phone.waitForFunction(() => document.querySelector('#claimable .coupon-template'));
        const got = await phone.evaluate(() => {
          const card = document.querySelector('#claimable .coupon-template');
          return { id: card.getAttribute('data-template'), featured: card.classList.contains('featured'),
            lang: document.documentElement.lang, search: location.search,
            gone: !!document.querySelector('#claimable .template-gone') };
        });
        if (got.id === template) {
          first = got;
        } else {
          assert.ok(got.gone, JSON.stringify(got));
          await phone.evaluate(() => localStorage.clear());
          await phone.close();
        }
      }
      assert.ok(first, 'no demo customer may claim the featured coupon');
      assert.equal(first.id, template, JSON.stringify(first));
      assert.ok(first.featured, JSON.stringify(first));
      assert.match(first.search, new RegExp(`template=${template}`));
      assert.equal(first.lang.startsWith('en'), L.lang === 'en', first.lang);
      await phone.screenshot({ path: join(SHOTS, `share-h5-coupon-${L.lang}.png`), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  });
}
