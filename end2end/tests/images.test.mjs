// Phillip's first step: the Images page lists every repository of a real registry, a page at a
// time, and says so in plain words when the registry is gone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchChromium, hydrated, gotoExpectingStatus, markDocument, assertSameDocument, ARTIFACTS } from './stack.mjs';

let stack;
let browser;
let catalog;

before(async () => {
  stack = await startStack({ repos: 260 });
  catalog = (await stack.catalog()).map((r) => r.name);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.close();
});

async function namesOnPage(page) {
  return page.locator('table.repositories td.name').allTextContents();
}

test('Phillip opens Images, sees the first page, and goes to page 2 in the browser', async () => {
  assert.ok(catalog.length >= 260, `the registry holds ${catalog.length} repositories with tags`);
  const page = await browser.newPage();
  await page.goto(`${stack.baseURL}/images`);
  await hydrated(page);
  assert.equal(await page.title(), 'Images · Regent');
  assert.deepEqual(await namesOnPage(page), catalog.slice(0, 25));
  assert.match(await page.locator('.summary').textContent(), new RegExp(`Repositories 1–25 of ${catalog.length}`));
  await page.screenshot({ path: join(ARTIFACTS, 'images-page-1.png'), fullPage: true });

  // A marker on window survives only a client-side navigation: proves the page is hydrated.
  await markDocument(page);
  await page.locator('nav.pagination a', { hasText: /^2$/ }).click();
  await page.waitForURL(/\/images\?page=2$/);
  await page.waitForFunction(
    (first) => document.querySelector('table.repositories td.name')?.textContent === first,
    catalog[25],
  );
  assert.deepEqual(await namesOnPage(page), catalog.slice(25, 50));
  await assertSameDocument(page, 'page 2 of the images');
  assert.equal(await page.title(), 'Images, page 2 · Regent');
  await page.screenshot({ path: join(ARTIFACTS, 'images-page-2.png'), fullPage: true });

  // The back button returns to page 1.
  await page.goBack();
  await page.waitForURL(/\/images$/);
  await page.waitForFunction(
    (first) => document.querySelector('table.repositories td.name')?.textContent === first,
    catalog[0],
  );
  await page.close();
});

test('a shared link to a later page with a bigger page size opens that page', async () => {
  const page = await browser.newPage();
  await page.goto(`${stack.baseURL}/images?page=3&per_page=100`);
  assert.deepEqual(await namesOnPage(page), catalog.slice(200, 300));
  assert.equal(await page.locator('nav.pagination [aria-current="page"]').textContent(), '3');
  // No "Next" on the last page.
  assert.equal(await page.locator('nav.pagination a[rel="next"]').count(), 0);
  await page.close();
});

test('nonsense page numbers get a clear message, not an error page', async () => {
  const page = await browser.newPage();
  const response = await page.goto(`${stack.baseURL}/images?page=abc`);
  assert.equal(response.status(), 200);
  assert.match(await page.locator('[role="alert"]').textContent(), /page must be a whole number from 1 to 1000000; "abc" is not/);
  await page.goto(`${stack.baseURL}/images?page=500`);
  assert.match(await page.locator('.summary').textContent(), /Page 500 is past the end/);
  await page.goto(`${stack.baseURL}/images?per_page=5000`);
  assert.match(await page.locator('[role="alert"]').textContent(), /per_page must be a whole number from 1 to 100/);
  await page.close();
});

test('when the registry goes down the page says so, keeps the last data, and recovers without a restart', async () => {
  const page = await browser.newPage();
  await stack.stopRegistry();
  try {
    // Regent probes the registry every few seconds; reload until it has noticed.
    const alert = page.locator('.registry-problem');
    for (let i = 0; i < 40 && !(await alert.count()); i++) {
      await page.goto(`${stack.baseURL}/images`);
      if (!(await alert.count())) await page.waitForTimeout(500);
    }
    const text = await alert.textContent();
    assert.match(text, /The registry is not answering/);
    assert.match(text, new RegExp(`could not connect to the registry at ${stack.registryUrl.replace(/[.]/g, '\\.')}`));
    assert.match(text, /Is the registry running/);
    assert.match(text, /Showing the data as of/);
    // Nothing disappears because the registry is down.
    assert.deepEqual(await namesOnPage(page), catalog.slice(0, 25));
    await page.screenshot({ path: join(ARTIFACTS, 'images-registry-down.png'), fullPage: true });
    assert.equal((await fetch(`${stack.baseURL}/readyz`)).status, 503);

    // The rest of the UI still works.
    await gotoExpectingStatus(page, `${stack.baseURL}/no-such-page`, 404);
    assert.match(await page.locator('h1').textContent(), /Not found/);
  } finally {
    await stack.startRegistry();
  }
  for (let i = 0; i < 40; i++) {
    await page.goto(`${stack.baseURL}/images`);
    if (!(await page.locator('.registry-problem').count())) break;
    await page.waitForTimeout(500);
  }
  assert.equal(await page.locator('.registry-problem').count(), 0, 'the warning goes once the registry is back');
  assert.deepEqual(await namesOnPage(page), catalog.slice(0, 25));
  assert.equal((await fetch(`${stack.baseURL}/readyz`)).status, 200);
  await page.close();
});
