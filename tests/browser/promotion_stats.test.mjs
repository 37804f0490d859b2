// A campaign's statistics page (issue #18), in Chinese and in English: from the promotions
// list the 数据 link of a coupon template opens its page; the headline figures, the inline
// SVG chart (a bar per day whose value and height follow the numbers, the GMV line, the
// legend, an accessible name) and the table under it tell the same numbers; at 390 px the
// chart scales down without the page scrolling sideways and its labels stay readable.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '150']); });
after(async () => { await demo?.stop(); });

const LANGS = [
  { lang: 'zh', link: '数据', claims: '领取（套）', uses: '核销（张）', gmv: '带动 GMV' },
  { lang: 'en', link: 'Stats', claims: 'Sets claimed', uses: 'Coupons used', gmv: 'GMV driven' },
];
const COUPON = '周二会员日 满59减10';

for (const L of LANGS) {
  test(`[${L.lang}] a coupon template's statistics: figures, chart and table agree`, async () => {
    const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    const errors = [];
    const outside = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => { if (!r.url().startsWith(demo.base)) outside.push(r.url()); });
    try {
      await signIn(page, demo.base, 'admin');
      if (L.lang === 'en') await page.goto(`${demo.base}/console/lang?to=en&back=/console`);
      await page.goto(`${demo.base}/console/promotions`);
      const row = page.locator('#coupon-templates tbody tr[data-template]', { hasText: COUPON });
      await Promise.all([
        page.waitForURL(/\/console\/promotions\/coupons\/\d+\/stats$/),
        row.getByRole('link', { name: L.link, exact: true }).click(),
      ]);
      const chart = page.getByRole('img', { name: new RegExp(COUPON) });
      await chart.waitFor();

      // Everything measured at once: figures, bars, line, legend, table.
      const m = await page.evaluate(() => {
        const svg = document.querySelector('#stats-chart');
        const bars = (cls) => [...svg.querySelectorAll(`rect.${cls}[data-day]`)].map((r) => ({
          day: r.dataset.day, value: Number(r.dataset.value), h: Number(r.getAttribute('height')),
        }));
        const rows = [...document.querySelectorAll('#stats-days tbody tr')].map((tr) => ({
          day: tr.dataset.day,
          claims: Number(tr.querySelector('[data-col="claims"]').textContent),
          uses: Number(tr.querySelector('[data-col="uses"]').textContent),
        }));
        return {
          figure: Number(document.querySelector('[data-figure="claims"]').textContent),
          uses: Number(document.querySelector('[data-figure="uses"]').textContent),
          claims: bars('bar-claims'),
          usesBars: bars('bar-uses'),
          points: svg.querySelectorAll('circle.gmv-point').length,
          line: svg.querySelector('polyline.gmv-line').getAttribute('points').split(' ').length,
          legend: svg.querySelector('.legend').textContent,
          role: svg.getAttribute('role'),
          rows,
        };
      });
      assert.equal(m.role, 'img');
      // The demo's member-day coupon ran for 30 days before today: 31 days, zero days too.
      assert.equal(m.claims.length, 31);
      assert.equal(m.rows.length, 31);
      assert.equal(m.usesBars.length, 31);
      assert.equal(m.points, 31);
      assert.equal(m.line, 31);
      assert.deepEqual(m.claims.map((b) => [b.day, b.value]), m.rows.map((r) => [r.day, r.claims]));
      assert.deepEqual(m.usesBars.map((b) => b.value), m.rows.map((r) => r.uses));
      const total = m.claims.reduce((s, b) => s + b.value, 0);
      assert.ok(m.figure > 0, 'the demo issued coupons');
      assert.equal(total, m.figure, 'the bars add up to the headline figure');
      assert.equal(m.usesBars.reduce((s, b) => s + b.value, 0), m.uses);
      // Heights follow values: the largest bar is the tallest, an empty day has none.
      const top = m.claims.reduce((a, b) => (b.value > a.value ? b : a));
      assert.ok(m.claims.every((b) => b.h <= top.h && (b.value > 0) === (b.h > 0)), JSON.stringify(m.claims));
      assert.ok(m.legend.includes(L.claims) && m.legend.includes(L.uses) && m.legend.includes(L.gmv), m.legend);
      // The days are Asia/Shanghai dates, the last one today.
      const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
      assert.equal(m.rows.at(-1).day, today);
      await page.screenshot({ path: join(SHOTS, `promotion-stats-${L.lang}.png`), fullPage: true });

      // At 390 px: the chart fits, the page does not scroll sideways, labels stay readable.
      await page.setViewportSize({ width: 390, height: 844 });
      const small = await page.evaluate(() => {
        const svg = document.querySelector('#stats-chart').getBoundingClientRect();
        const label = document.querySelector('#stats-chart text.tick-day').getBoundingClientRect();
        return {
          left: svg.left, right: svg.right, width: svg.width,
          scroll: document.documentElement.scrollWidth, view: window.innerWidth,
          labelHeight: label.height,
        };
      });
      assert.ok(small.left >= 0 && small.right <= small.view, JSON.stringify(small));
      assert.ok(small.scroll <= small.view, JSON.stringify(small));
      assert.ok(small.labelHeight >= 8, `day labels ${small.labelHeight}px tall`);
      await page.screenshot({ path: join(SHOTS, `promotion-stats-390-${L.lang}.png`), fullPage: true });
      assert.deepEqual(errors, []);
      assert.deepEqual(outside, [], 'no request leaves the server');
    } finally {
      await ctx.close();
    }
  });
}
