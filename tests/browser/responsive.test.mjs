// The console on a phone, a tablet and a desktop (issue #18): at 390, 768 and 1440 px wide the
// main pages never scroll sideways (wide tables scroll inside their own box), the menu is
// reachable (folded into a top-bar toggle on narrow screens), and every button and action link
// stays on one line. Both languages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, signIn, SHOTS } from './harness.mjs';

let base, browser, stop;

before(async () => {
  ({ base, browser, stop } = await startDemo());
});

after(async () => {
  await stop?.();
});

const WIDTHS = [390, 768, 1440];
const PAGES = [
  ['home', '/console'],
  ['customers', '/console/customers'],
  ['customer', null], // the first customer of the list
  ['tags', '/console/tags'],
  ['segments', '/console/segments'],
  ['promotions', '/console/promotions'],
  ['channels', '/console/channels'],
  ['channel-form', '/console/channels/new'],
  ['audit', '/console/audit'],
  ['staff', '/console/staff'],
  ['import', '/console/import'],
  ['wecom', '/console/settings/wecom'],
  ['webhooks', '/console/webhooks'],
];

/** In one evaluation (a re-render cannot detach what is measured): the page's width against
 *  the viewport, and every visible button or action link that takes more than one line (its
 *  text's line boxes counted with Range.getClientRects). */
function measure() {
  return document.fonts.ready.then(() => {
    const lines = (el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0)
        .sort((a, b) => a.top - b.top);
      let count = 0;
      let bottom = -Infinity;
      for (const r of rects) {
        if (r.top >= bottom - 1) {
          count += 1;
          bottom = r.bottom;
        } else {
          bottom = Math.max(bottom, r.bottom);
        }
      }
      return count;
    };
    const wrapped = [...document.querySelectorAll('button, a.button, .btn, .actions a')]
      .filter((el) => el.getClientRects().length > 0 && el.textContent.trim() !== '')
      .map((el) => ({ text: el.textContent.trim(), lines: lines(el) }))
      .filter((b) => b.lines > 1);
    return {
      scrollWidth: document.scrollingElement.scrollWidth,
      viewport: window.innerWidth,
      checked: document.querySelectorAll('button, a.button, .btn, .actions a').length,
      wrapped,
    };
  });
}

for (const lang of ['zh', 'en']) {
  test(`[${lang}] the console fits phones, tablets and desktops`, async () => {
    const page = await browser.newPage();
    if (lang === 'en') await page.context().addCookies([{ name: 'yutang_lang', value: 'en', url: base }]);
    await signIn(page, base, 'admin');
    await page.goto(`${base}/console/customers`);
    const customer = await page.getAttribute('#customers-table a[href^="/console/customers/"], table a[href^="/console/customers/"]', 'href');
    assert.match(customer, /^\/console\/customers\/\d+$/);

    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 800 });
      for (const [name, path] of PAGES) {
        const r = await page.goto(`${base}${path ?? customer}`);
        assert.equal(r.status(), 200, `${name} at ${width}`);
        assert.equal(await page.getAttribute('html', 'lang'), lang === 'en' ? 'en' : 'zh-CN');
        const m = await page.evaluate(measure);
        if (m.scrollWidth > m.viewport + 1 || m.wrapped.length > 0) {
          await page.screenshot({ path: join(SHOTS, `responsive-${lang}-${name}-${width}.png`), fullPage: true });
        }
        assert.ok(m.scrollWidth <= m.viewport + 1,
          `${lang} ${name} at ${width}px scrolls sideways: ${m.scrollWidth}px wide`);
        assert.ok(m.checked > 0, `${name}: no button to check`);
        assert.deepEqual(m.wrapped, [], `${lang} ${name} at ${width}px: buttons on more than one line`);
      }

      // The menu: folded behind the top-bar toggle on narrow screens, open on a desktop.
      await page.goto(`${base}/console`);
      const nav = page.locator('nav.side');
      if (width < 900) {
        assert.equal(await nav.isVisible(), false, `the menu is folded at ${width}px`);
        await page.click('#nav-button');
        await nav.waitFor({ state: 'visible' });
        if (width === 390) await page.screenshot({ path: join(SHOTS, `responsive-${lang}-menu-390.png`) });
      } else {
        assert.equal(await page.locator('#nav-button').isVisible(), false);
      }
      await nav.locator('a[href="/console/tags"]').click();
      await page.waitForURL(`${base}/console/tags`);
      assert.equal(await page.getAttribute('nav.side a.on', 'href'), '/console/tags');
      if (width === 390) await page.screenshot({ path: join(SHOTS, `responsive-${lang}-tags-390.png`) });
    }
    await page.close();
  });
}
