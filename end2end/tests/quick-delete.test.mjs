// Amy's story in Debian Chromium: she pastes the digest of a leaked layer, switches on quick
// delete, selects every hit, chooses to delete whole images, confirms the list, watches the
// progress, reads the summary, and the same search then finds nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchChromium, hydrated, ARTIFACTS, ADMIN_PASSWORD } from './stack.mjs';

let stack;
let browser;

before(async () => {
  stack = await startStack({ repos: 0, everyoneReads: false });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.close();
});

test('Amy deletes every image containing a leaked layer with quick delete', async () => {
  const page = await browser.newPage();
  await page.goto(`${stack.baseURL}/login?next=/images`);
  await hydrated(page);
  await page.fill('input[name="username"]', 'admin');
  await page.fill('input[name="password"]', ADMIN_PASSWORD);
  await page.click('form.login button[type="submit"]');
  await page.waitForURL((url) => url.pathname === '/images');
  await hydrated(page);

  const search = `${stack.baseURL}/images?q=${stack.sharedLayer}&per_page=100`;
  await page.goto(search);
  await hydrated(page);
  const hits = await page.locator('table.tags tbody tr').count();
  assert.ok(hits >= 5, `the shared layer is in many tags (${hits})`);

  await page.check('input[data-action="quick-delete"]');
  await page.click('button[data-action="select-all"]');
  assert.equal(await page.locator('td.select input:checked').count(), hits);
  await page.check('input[data-action="whole-images"]');
  await page.click('button[data-action="delete-selected"]');
  const confirm = page.locator('.quick-confirm');
  await confirm.waitFor();
  const listed = await confirm.locator('li').allTextContents();
  assert.ok(listed.some((l) => l.startsWith('demo/base@') && l.includes('1.0') && l.includes('latest')), listed.join('\n'));
  await page.screenshot({ path: join(ARTIFACTS, 'quick-delete-confirm.png'), fullPage: true });

  await page.click('button[data-action="confirm-delete"]');
  await page.locator('[data-quick="finished"]').waitFor({ timeout: 60000 });
  const summary = await page.locator('[data-quick="finished"]').textContent();
  assert.match(summary, new RegExp(`Done: ${listed.length} deleted, 0 failed\\.`));
  assert.equal(await page.locator('.quick-results li.ok').count(), listed.length);
  assert.equal(await page.locator('.quick-progress progress').getAttribute('value'), String(listed.length));
  await page.screenshot({ path: join(ARTIFACTS, 'quick-delete-summary.png'), fullPage: true });

  await page.click('button[data-action="quick-done"]');
  await page.goto(search);
  await hydrated(page);
  await page.locator('p.summary').waitFor();
  assert.equal(await page.locator('table.tags tbody tr').count(), 0);
  assert.match(await page.locator('p.summary').textContent(), /No tag matches/);
  await page.close();
});
