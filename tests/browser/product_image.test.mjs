// Product images (issue #18), in Chinese and in English: on the flash-sale form an operator
// chooses an image (previewed before saving), saves, and the sale's H5 page shows it —
// loaded (naturalWidth > 0), at its own size — with every request of the page going to this
// server and no other host.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { SHOTS, signIn, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '300']); });
after(async () => { await demo?.stop(); });

const SALE = '周五秒杀 · 金枕榴莲';
const ITEM = '泰国金枕榴莲 约 5 斤';

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A real PNG of one colour, `w`×`h` (RGB). */
function png(w, h, [r, g, b]) {
  const row = Buffer.alloc(1 + 3 * w);
  for (let x = 0; x < w; x++) row.set([r, g, b], 1 + 3 * x);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

const LANGS = [
  { lang: 'zh', label: '商品图片', save: '保存', size: [96, 64], rgb: [0x2f, 0x80, 0xed] },
  { lang: 'en', label: 'Product image', save: 'Save', size: [72, 90], rgb: [0x6a, 0x3d, 0x9a] },
];

for (const L of LANGS) {
  test(`[${L.lang}] an image uploaded on the flash-sale form shows on its H5 page, from this server only`, async () => {
    const ctx = await demo.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await signIn(page, demo.base, 'admin');
      if (L.lang === 'en') await page.goto(`${demo.base}/console/lang?to=en&back=/console`);
      await page.goto(`${demo.base}/console/promotions`);
      await Promise.all([page.waitForURL(/\/console\/promotions\/flash-sales\/\d+$/), page.click(`#flash-sales a:text-is("${SALE}")`)]);
      const id = page.url().match(/flash-sales\/(\d+)$/)[1];
      // The demo's own picture is shown as the current image.
      const current = await page.evaluate(() => {
        const img = document.getElementById('image-preview');
        return { hidden: img.hidden, src: img.getAttribute('src') || '' };
      });
      assert.equal(current.hidden, false);
      assert.match(current.src, /^\/h5\/media\/\d+$/);
      assert.equal(await page.getByLabel(L.label, { exact: true }).count(), 1);

      // Choose a file: previewed at once, before anything is sent.
      const [w, h] = L.size;
      await page.setInputFiles('#image', { name: `item-${L.lang}.png`, mimeType: 'image/png', buffer: png(w, h, L.rgb) });
      await page.waitForFunction(([w, h]) => {
        const img = document.getElementById('image-preview');
        return img.src.startsWith('data:image/png') && img.complete && img.naturalWidth === w && img.naturalHeight === h;
      }, [w, h]);
      await page.screenshot({ path: join(SHOTS, `product-image-form-${L.lang}.png`) });
      await Promise.all([page.waitForURL(/\/console\/promotions\?ok=saved/), page.getByRole('button', { name: L.save, exact: true }).click()]);

      // The H5 page: the new image, loaded, sized, named; nothing from another host.
      const h5 = await ctx.newPage();
      const hosts = new Set();
      h5.on('request', (r) => {
        const u = new URL(r.url());
        if (u.protocol !== 'data:') hosts.add(u.host);
      });
      h5.on('pageerror', (e) => errors.push(e.message));
      await h5.goto(`${demo.base}/h5/flash-sales/${id}?lang=${L.lang}`);
      const shown = await h5.waitForFunction(() => {
        const img = document.getElementById('product-image');
        if (!img || !img.complete || img.naturalWidth === 0) return null;
        const box = img.getBoundingClientRect();
        return {
          natural: [img.naturalWidth, img.naturalHeight],
          attrs: [img.getAttribute('width'), img.getAttribute('height')],
          alt: img.alt,
          src: img.getAttribute('src'),
          fits: box.width <= document.documentElement.clientWidth,
        };
      });
      const v = await shown.jsonValue();
      assert.deepEqual(v.natural, [w, h]);
      assert.deepEqual(v.attrs, [String(w), String(h)]);
      assert.equal(v.alt, ITEM);
      assert.match(v.src, /^\/h5\/media\/\d+$/);
      assert.notEqual(v.src, current.src, 'the new image replaced the demo one');
      assert.ok(v.fits);
      await h5.screenshot({ path: join(SHOTS, `product-image-h5-${L.lang}.png`) });
      assert.deepEqual([...hosts], [new URL(demo.base).host]);
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  });
}
