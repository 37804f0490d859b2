// Console forms (issue #18), in Chinese and English: the coupon-template form is one column
// (label above input) and shows only the chosen coupon type's fields; a refused save (满99减120)
// comes back with what was typed and the error under the field it is about; the audience is
// picked from the saved segments by typing part of a name; the saved template is listed. At 390
// and 1440 px no field overlaps another and nothing scrolls sideways. The auto-tag rule form
// shows only its kind's fields and names the refused field too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

const LANGS = [
  { lang: 'zh', offErr: '减免金额须低于使用门槛（如 满99减20）', countRe: /（[\d,]+ 人）$/, numberErr: '须为整数' },
  { lang: 'en', offErr: 'The amount off must be below the threshold (e.g. 20 off 99)', countRe: /\([\d,]+ customers\)$/, numberErr: 'A whole number is required' },
];

// The coupon fields that depend on the type, and which of them each type shows.
const KIND_FIELDS = ['f-off_yuan', 'f-more_steps', 'f-rate_permille', 'f-cap_yuan', 'f-threshold_yuan', 'f-sku', 'f-item_name'];
const KINDS = {
  amount_off: ['f-off_yuan', 'f-more_steps', 'f-threshold_yuan'],
  discount: ['f-rate_permille', 'f-cap_yuan', 'f-threshold_yuan'],
  free_shipping: ['f-threshold_yuan'],
  exchange: ['f-sku', 'f-item_name'],
};
const RULE_FIELDS = ['f-new_days', 'f-active_days', 'f-dormant_days', 'f-recency_days', 'f-attribute', 'f-buckets', 'f-tag', 'f-expression'];
const RULE_KINDS = {
  lifecycle: ['f-new_days', 'f-active_days', 'f-dormant_days'],
  rfm: ['f-recency_days'],
  age_months: ['f-attribute', 'f-buckets'],
  birthday_month: ['f-tag'],
  expression: ['f-tag', 'f-expression'],
};
const SEGMENT = '上海车厘子爱好者';

/** The ids of the form's shown field groups, in one evaluation. */
function shownFields(page, form) {
  return page.$eval(form, (f) => [...f.querySelectorAll('.field')]
    .filter((el) => !el.hidden && el.getClientRects().length > 0)
    .map((el) => el.id));
}

/** In one evaluation: every shown field group, its label and its controls, and the form's
 *  buttons; no two groups (or a group and a button) overlap, a label never overlaps its own
 *  controls, and the page does not scroll sideways. */
async function assertLaidOut(page, form, what) {
  const r = await page.$eval(form, (f) => {
    const box = (el) => { const b = el.getBoundingClientRect(); return { l: b.left, t: b.top, r: b.right, b: b.bottom }; };
    const hit = (a, b) => a.l < b.r - 0.5 && b.l < a.r - 0.5 && a.t < b.b - 0.5 && b.t < a.b - 0.5;
    const groups = [...f.querySelectorAll('.field, .actions')]
      .filter((el) => !el.hidden && el.getClientRects().length > 0)
      .map((el) => ({ id: el.id || el.className, box: box(el), el }));
    const problems = [];
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        if (hit(groups[i].box, groups[j].box)) problems.push(`${groups[i].id} overlaps ${groups[j].id}`);
      }
      const label = groups[i].el.querySelector(':scope > label');
      if (label && !groups[i].el.classList.contains('check')) {
        for (const c of groups[i].el.querySelectorAll('input, select, textarea')) {
          if (hit(box(label), box(c))) problems.push(`${groups[i].id}: label overlaps ${c.name || c.id}`);
          if (box(c).t < box(label).b - 0.5) problems.push(`${groups[i].id}: ${c.name || c.id} is not below its label`);
        }
      }
      const fb = box(f);
      if (groups[i].box.r > fb.r + 0.5 || groups[i].box.l < fb.l - 0.5) problems.push(`${groups[i].id} sticks out of the form`);
    }
    return {
      problems,
      groups: groups.length,
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
    };
  });
  assert.ok(r.groups > 3, `${what}: fields measured (${r.groups})`);
  assert.deepEqual(r.problems, [], what);
  assert.ok(r.scrollWidth <= r.innerWidth, `${what}: no sideways scroll (${r.scrollWidth} > ${r.innerWidth})`);
}

for (const L of LANGS) {
  test(`[${L.lang}] coupon and rule forms: only the chosen type's fields, field-named errors, segment picker, no overlap`, async () => {
    const demo = await startDemo(['--customers', '300']);
    const errors = [];
    try {
      for (const width of [1440, 390]) {
        const ctx = await demo.browser.newContext({ viewport: { width, height: 900 }, locale: 'zh-CN' });
        const page = await ctx.newPage();
        page.on('pageerror', (e) => errors.push(e.message));
        await signIn(page, demo.base, 'ops.chen');
        if (L.lang === 'en') await page.goto(`${demo.base}/console/lang?to=en&back=/console`);

        await page.goto(`${demo.base}/console/promotions/coupons/new`);
        for (const [kind, fields] of Object.entries(KINDS)) {
          await page.selectOption('#kind', kind);
          const shown = (await shownFields(page, '#promo-form')).filter((id) => KIND_FIELDS.includes(id));
          assert.deepEqual(shown.sort(), [...fields].sort(), `${width}px ${kind}`);
          await assertLaidOut(page, '#promo-form', `${width}px ${kind}`);
        }
        // The audience: the segment picker shows only when a segment is the audience.
        assert.ok(!(await shownFields(page, '#promo-form')).includes('f-segment_id'));
        await page.selectOption('#audience', 'segment');
        assert.ok((await shownFields(page, '#promo-form')).includes('f-segment_id'));
        await assertLaidOut(page, '#promo-form', `${width}px segment audience`);
        await page.screenshot({ path: join(SHOTS, `form-coupon-${L.lang}-${width}.png`), fullPage: true });

        // 满99减120: refused, the error under 减免金额, and everything typed is kept.
        const name = `表单测试 ${L.lang} ${width}`;
        await page.selectOption('#kind', 'amount_off');
        await page.fill('#name', name);
        await page.fill('#off_yuan', '120');
        await page.fill('#threshold_yuan', '99');
        await page.fill('#segment_filter', '车厘子');
        const picked = await page.$eval('#segment_id', (s) => ({
          value: s.value,
          name: s.selectedOptions[0]?.dataset.name,
          label: s.selectedOptions[0]?.textContent.trim(),
          shown: [...s.options].filter((o) => !o.hidden).length,
        }));
        assert.equal(picked.name, SEGMENT, JSON.stringify(picked));
        assert.equal(picked.shown, 1, 'the filter leaves the one match');
        assert.match(picked.label, L.countRe, 'the option shows the member count');
        await page.click('#promo-form button[type=submit]');
        const err = page.locator('#f-off_yuan .field-error');
        await err.waitFor();
        assert.equal((await err.textContent()).trim(), L.offErr);
        assert.equal(await page.getAttribute('#off_yuan', 'aria-invalid'), 'true');
        assert.equal(await page.inputValue('#name'), name);
        assert.equal(await page.inputValue('#off_yuan'), '120');
        assert.equal(await page.inputValue('#threshold_yuan'), '99');
        assert.equal(await page.inputValue('#audience'), 'segment');
        assert.equal(await page.inputValue('#segment_id'), picked.value);
        assert.deepEqual(
          (await shownFields(page, '#promo-form')).filter((id) => KIND_FIELDS.includes(id)).sort(),
          [...KINDS.amount_off].sort(),
          'the refused form still shows only the amount-off fields',
        );
        await assertLaidOut(page, '#promo-form', `${width}px refused`);
        await page.screenshot({ path: join(SHOTS, `form-coupon-error-${L.lang}-${width}.png`), fullPage: true });

        // Fixed: 满99减20 is saved and listed.
        await page.fill('#off_yuan', '20');
        await page.click('#promo-form button[type=submit]');
        await page.waitForURL(/\/console\/promotions\?ok=saved/);
        const row = page.locator('#coupon-templates tr[data-template]', { hasText: name });
        assert.equal(await row.count(), 1, 'the new template is listed');
        // Its edit form has the segment chosen.
        await row.locator(`a[href^="/console/promotions/coupons/"]`).first().click();
        await page.waitForURL(/\/console\/promotions\/coupons\/\d+$/);
        assert.equal(await page.inputValue('#segment_id'), picked.value);

        // The flash-sale and group-buy forms share the layout and the segment picker.
        for (const what of ['flash-sales', 'group-buys']) {
          await page.goto(`${demo.base}/console/promotions/${what}/new`);
          await assertLaidOut(page, '#promo-form', `${width}px ${what}`);
          await page.selectOption('#audience', 'segment');
          await page.fill('#segment_filter', '车厘子');
          assert.equal(await page.$eval('#segment_id', (s) => s.selectedOptions[0]?.dataset.name), SEGMENT, what);
          await assertLaidOut(page, '#promo-form', `${width}px ${what} segment`);
        }

        // The auto-tag rule form: only the kind's fields; a bad day count is named.
        await page.goto(`${demo.base}/console/tags`);
        for (const [kind, fields] of Object.entries(RULE_KINDS)) {
          await page.selectOption('#rule-form #kind', kind);
          const shown = (await shownFields(page, '#rule-form')).filter((id) => RULE_FIELDS.includes(id));
          assert.deepEqual(shown.sort(), [...fields].sort(), `${width}px rule ${kind}`);
          await assertLaidOut(page, '#rule-form', `${width}px rule ${kind}`);
        }
        await page.selectOption('#rule-form #kind', 'lifecycle');
        await page.fill('#rule-form #name', `规则 ${L.lang} ${width}`);
        await page.fill('#rule-form #active_days', 'abc');
        await page.click('#rule-form button[type=submit]');
        const ruleErr = page.locator('#rule-form #f-active_days .field-error');
        await ruleErr.waitFor();
        assert.equal((await ruleErr.textContent()).trim(), L.numberErr);
        assert.equal(await page.inputValue('#rule-form #active_days'), 'abc');
        assert.equal(await page.inputValue('#rule-form #name'), `规则 ${L.lang} ${width}`);
        await assertLaidOut(page, '#rule-form', `${width}px rule refused`);
        await page.screenshot({ path: join(SHOTS, `form-rule-error-${L.lang}-${width}.png`), fullPage: true });
        await ctx.close();
      }
      assert.deepEqual(errors, []);
    } finally {
      await demo.stop();
    }
  });
}
