// The console's import page in a real browser: upload a CSV with a bad row, dry run (the bad
// row is listed, nothing is written), then the real import with its summary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startDemo, signIn, SHOTS } from './harness.mjs';

let base, browser, stop;

before(async () => {
  ({ base, browser, stop } = await startDemo(['--customers', '200']));
});

after(async () => {
  await stop?.();
});

const CSV = '手机号,姓名,城市,备注\n'
  + '199 0000 1111,浏览器测试甲,上海,\n'
  + '12345,坏号码,北京,\n'
  + '+86 199-0000-2222,浏览器测试乙,杭州,\n';

test('an operator uploads customers, sees the bad row in a dry run, then imports', async () => {
  const page = await browser.newPage();
  await signIn(page, base, 'admin');
  await page.click('nav >> text=导入');
  await page.waitForURL(`${base}/console/import`);
  await page.selectOption('#kind', 'customers');
  await page.setInputFiles('#file', { name: '客户.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
  await page.click('#upload-form button[type=submit]');
  await page.waitForURL(/\/console\/import\/\d+$/);

  // Detected headers, mapped by their Chinese names; 备注 is ignored.
  assert.equal(await page.inputValue('select[data-header="手机号"]'), 'phone');
  assert.equal(await page.inputValue('select[data-header="城市"]'), 'city');
  assert.equal(await page.inputValue('select[data-header="备注"]'), '');

  // Dry run: the page refreshes itself until the check is done.
  await page.click('#dry-run');
  await page.waitForSelector('#run-state[data-state="checked"]', { timeout: 30000 });
  const bad = page.locator('#errors-table tbody tr');
  assert.equal(await bad.count(), 1);
  const cells = await bad.first().locator('td').allTextContents();
  assert.equal(cells[0], '3');
  assert.equal(cells[1], '手机号');
  assert.match(cells[2], /手机号格式不正确/);
  assert.match(await page.textContent('#dry-run-summary'), /未写入任何数据/);
  await page.screenshot({ path: join(SHOTS, 'import-dry-run.png'), fullPage: true });

  // Nothing was written by the dry run.
  await page.goto(`${base}/console/customers?q=19900001111`);
  assert.doesNotMatch(await page.textContent('main'), /浏览器测试甲/);
  await page.goBack();

  // The real import, with its summary.
  await page.click('#run-import');
  await page.waitForSelector('#run-state[data-state="done"]', { timeout: 30000 });
  assert.equal(await page.textContent('#summary-table td[data-k="inserted"]'), '2');
  assert.equal(await page.textContent('#summary-table td[data-k="failed"]'), '1');
  assert.equal(await page.locator('#mapping-form').count(), 0);
  await page.screenshot({ path: join(SHOTS, 'import-done.png'), fullPage: true });

  await page.goto(`${base}/console/customers?q=19900001111`);
  assert.match(await page.textContent('main'), /浏览器测试甲/);
  await page.close();
});
