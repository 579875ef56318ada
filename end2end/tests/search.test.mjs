// Phillip and Amy search the index: a name goes straight to its repository, a pasted layer
// digest lists every tag that contains it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchChromium, hydrated, ARTIFACTS } from './stack.mjs';

let stack;
let browser;
let repositories;

before(async () => {
  stack = await startStack({ repos: 30 });
  repositories = await stack.catalog();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.close();
});

test('Phillip types a repository name exactly and lands on its page with the right digests', async () => {
  const page = await browser.newPage();
  await page.goto(`${stack.baseURL}/images`);
  await hydrated(page);
  // "/" focuses the search box.
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'q');
  await page.keyboard.type('demo/base');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/images\/demo\/base$/);
  await page.locator('h1.repository-name').waitFor();
  assert.equal(await page.locator('h1.repository-name').textContent(), 'demo/base');
  const tags = await page.locator('table.tags td.tag').allTextContents();
  assert.deepEqual(tags, ['1.0', '1.1', 'latest']);
  for (const tag of tags) {
    const digest = await stack.digest('demo/base', tag);
    const row = page.locator('table.tags tr', { has: page.locator('td.tag', { hasText: new RegExp(`^${tag.replace('.', '\\.')}$`) }) });
    assert.equal(await row.getAttribute('data-digest'), digest, `digest of demo/base:${tag}`);
  }
  // 1.0 and latest share one manifest: the page says so.
  assert.equal(await page.locator('table.tags .shared').count(), 2);
  await page.screenshot({ path: join(ARTIFACTS, 'repository-demo-base.png'), fullPage: true });
  await page.close();
});

test('Amy pastes a layer digest and sees every tag that contains it, across repositories', async () => {
  const page = await browser.newPage();
  await page.goto(`${stack.baseURL}/images`);
  await hydrated(page);
  await page.fill('input[name="q"]', stack.sharedLayer);
  await page.keyboard.press('Enter');
  await page.waitForURL(/q=sha256/);
  const total = repositories.reduce((n, r) => n + r.tags.length, 0);
  await page.locator('.summary').waitFor();
  assert.match(await page.locator('.summary').textContent(), new RegExp(`Tags 1–25 of ${total}$`));
  const matched = await page.locator('table.tags td.matched').allTextContents();
  assert.equal(matched.length, 25);
  assert.ok(matched.every((m) => m === 'layer'), matched.join());
  await page.screenshot({ path: join(ARTIFACTS, 'search-layer.png'), fullPage: true });

  // Every page together lists every tag in the registry exactly once: a list, not a set, so
  // a tag shown on two pages (and another on none) fails.
  const seen = [];
  for (let p = 1; p <= Math.ceil(total / 100); p++) {
    await page.goto(`${stack.baseURL}/images?q=layer:${stack.sharedLayer}&page=${p}&per_page=100`);
    const rows = await page.locator('table.tags tbody tr').evaluateAll((trs) =>
      trs.map((tr) => `${tr.querySelector('td.name').textContent}:${tr.querySelector('td.tag').textContent}`));
    seen.push(...rows);
  }
  const expected = repositories.flatMap((r) => r.tags.map((t) => `${r.name}:${t}`));
  assert.equal(seen.length, total, 'as many rows as tags');
  assert.deepEqual(seen.sort(), expected.sort());
  await page.close();
});

test('a digest prefix that is too short, or odd characters, get a message saying what to type', async () => {
  const page = await browser.newPage();
  await page.goto(`${stack.baseURL}/images?q=layer:abc`);
  assert.match(await page.locator('[role="alert"]').textContent(), /at least 8 hexadecimal characters/);
  await page.goto(`${stack.baseURL}/images?q=${encodeURIComponent('<script>')}`);
  assert.match(await page.locator('[role="alert"]').textContent(), /cannot match any/);
  await page.close();
});
