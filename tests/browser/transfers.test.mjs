// The transfer job page (/console/wecom/transfers/{id}): an operator starts the demo's first
// 在职继承 (all of a guide's customers), nothing fails (the demo's fake WeCom knows them), the
// page names the staff, says states in words and pages the rows 50 at a time; in zh and en.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { SHOTS, signIn, startDemo } from './harness.mjs';

let demo;
before(async () => { demo = await startDemo(['--customers', '10000']); });
after(async () => { await demo?.stop(); });

// A signed-in operator's page in `lang`.
async function operator(lang) {
  const ctx = await demo.browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  await signIn(page, demo.base, 'ops.chen');
  if (lang === 'en') {
    await page.goto(`${demo.base}/console/lang?to=en&back=/console`);
  }
  return { ctx, page };
}

const LANGS = [
  { lang: 'zh', from: 'zhangwei', to: 'wangfang', running: '进行中', waiting: '等待接替', failed: '失败', all: '全部', next: '下一页' },
  { lang: 'en', from: 'lina', to: 'liuyang', running: 'In progress', waiting: 'Waiting', failed: 'Failed', all: 'All', next: 'Next' },
];

for (const L of LANGS) {
  test(`[${L.lang}] an operator transfers a guide's customers and reads the job page`, async () => {
    const { ctx, page } = await operator(L.lang);
    try {
      await page.goto(`${demo.base}/console/wecom/transfers`);
      // What the form offers: hand the i-th guide's customers (all of them) to the next one.
      const options = await page.locator('#handover_staff_id option').evaluateAll((os) => os.map((o) => [o.value, o.textContent.replace(/（.*$/, ''), o.textContent]));
      assert.ok(options.length > 50, `every guide is linked: ${options.length}`);
      const [from, fromName] = options.find((o) => o[2].includes(`（${L.from}）`));
      const [to, toName] = options.find((o) => o[2].includes(`（${L.to}）`));
      await page.selectOption('#handover_staff_id', from);
      await page.selectOption('#takeover_staff_id', to);
      await Promise.all([page.waitForURL(/\/console\/wecom\/transfers\/\d+$/), page.click('#transfer-form button[type=submit]')]);
      assert.equal(await page.locator('#transfer-handover').textContent(), fromName);
      assert.equal(await page.locator('#transfer-takeover').textContent(), toName);
      const status = page.locator('#transfer-status');
      assert.ok([L.running, L.lang === 'zh' ? '已结束' : 'Finished'].includes(await status.textContent()));
      // The job sends the batches; wait until nothing is pending, then check the counts.
      const url = page.url();
      for (let n = 0; ; n++) {
        const html = await (await ctx.request.get(`${url}?state=pending`)).text();
        if (!html.includes('<tr data-status=')) break;
        assert.ok(n < 240, 'the job never sent the batches');
        await page.waitForTimeout(250); // poll the state again
      }
      await page.goto(url);
      const summary = page.locator('#transfer-summary');
      assert.match(await summary.textContent(), new RegExp(`${L.failed}\\s*0`));
      const total = Number(await summary.locator('a').first().locator('b').textContent());
      assert.ok(total > 50, `a big transfer: ${total}`);
      assert.equal(await page.locator('#transfer-customers tbody tr').count(), 50);
      const body = await page.locator('main').textContent();
      for (const raw of ['running', 'waiting', 'pending', 'success']) {
        assert.ok(!new RegExp(`\\b${raw}\\b`).test(body.replace(/wm\S+/g, '')), `raw ${raw}`);
      }
      assert.match(await page.locator('#transfer-customers tbody tr').first().textContent(), new RegExp(L.waiting));
      await page.screenshot({ path: join(SHOTS, `transfer-${L.lang}.png`), fullPage: true });
      await page.click(`.pager a:has-text("${L.next}")`);
      await page.waitForURL(/page=2/);
      assert.equal(await page.locator('#transfer-customers tbody tr').count(), Math.min(50, total - 50));
      // Filter by result: nothing failed.
      await page.goto(`${url}?state=failed`);
      assert.match(await page.locator('#transfer-customers tbody').textContent(), L.lang === 'zh' ? /暂无数据/ : /Nothing here yet/);
    } finally {
      await ctx.close();
    }
  });
}

// 转接 on the customer list: filtered by one guide, ticked rows open the transfer form with
// that guide and those of them that are the guide's WeCom contacts filled in (the others are
// counted as left out).
const TICK = [
  { lang: 'zh', pick: 10, prefilled: /^已从客户列表带入 (\d+) 位客户/, skipped: /另有 (\d+) 位/ },
  { lang: 'en', pick: 11, prefilled: /^(\d+) customers and their guide came from the customer list/, skipped: /(\d+) other ticked customers/ },
];

for (const L of TICK) {
  test(`[${L.lang}] ticked customers of one guide open the transfer form filled in`, async () => {
    const { ctx, page } = await operator(L.lang);
    try {
      await page.goto(`${demo.base}/console/wecom/transfers`);
      const guides = await page.locator('#handover_staff_id option').evaluateAll((os) => os.map((o) => o.value));
      const guide = guides[L.pick];
      await page.goto(`${demo.base}/console/customers?guide_id=${guide}`);
      const boxes = page.locator('input[name="ids"][form="bulk"]');
      assert.ok(await boxes.count() >= 6, 'the guide has customers');
      const ticked = [];
      for (const i of [0, 1, 2, 3, 4, 5]) {
        await boxes.nth(i).check();
        ticked.push(Number(await boxes.nth(i).getAttribute('value')));
      }
      await Promise.all([
        page.waitForURL(/\/console\/wecom\/transfers\?/),
        page.click('#bulk button[value="transfer"]'),
      ]);
      assert.equal(await page.inputValue('#handover_staff_id'), guide);
      const filled = (await page.inputValue('#customer_ids')).split(',').map(Number);
      assert.ok(filled.length > 0 && filled.every((id) => ticked.includes(id)), `${filled} of ${ticked}`);
      const note = await page.locator('#transfer-prefilled').textContent();
      assert.equal(Number(note.match(L.prefilled)[1]), filled.length);
      const left = note.match(L.skipped);
      assert.equal(left ? Number(left[1]) : 0, ticked.length - filled.length);
      await page.screenshot({ path: join(SHOTS, `transfer-ticked-${L.lang}.png`), fullPage: true });
    } finally {
      await ctx.close();
    }
  });
}
