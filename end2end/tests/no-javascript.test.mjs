// A shared link opened by something that runs no WASM (curl, a link checker, a browser with
// JavaScript off) gets the same answers: every server-side redirect is a real HTTP redirect
// with a Location, and the page it leads to is whole.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchChromium, ARTIFACTS } from './stack.mjs';

let stack;
let browser;

before(async () => {
  stack = await startStack({ repos: 30 });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.close();
});

/** The status and Location of one GET, not followed. */
async function redirectOf(path, accept) {
  const response = await fetch(`${stack.baseURL}${path}`, { redirect: 'manual', headers: accept ? { accept } : {} });
  await response.arrayBuffer();
  return { status: response.status, location: response.headers.get('location') };
}

test('a plain HTTP client asking for an exact repository name is redirected to its page', async () => {
  for (const accept of [undefined, '*/*', 'text/html,application/xhtml+xml']) {
    assert.deepEqual(await redirectOf('/images?q=demo/base', accept), { status: 302, location: '/images/demo/base' },
      `with Accept: ${accept ?? '(none)'}`);
  }
  // The page it leads to is complete, not cut off where the redirect was decided.
  const page = await fetch(`${stack.baseURL}/images/demo/base`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<\/main><\/div><\/body><\/html>/);
  assert.match(html, /class="repository-name"[^>]*>demo\/base</);
});

test('the start page and the admin section redirect with a real status', async () => {
  assert.deepEqual(await redirectOf('/'), { status: 302, location: '/images' });
  assert.deepEqual(await redirectOf('/admin'), { status: 302, location: '/admin/access' });
});

test('with JavaScript off, Phillip searches a name, lands on the repository and sees its tags', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${stack.baseURL}/images`);
  await page.fill('input[name="q"]', 'demo/base');
  await page.press('input[name="q"]', 'Enter');
  await page.waitForURL((url) => url.pathname === '/images/demo/base');
  assert.equal(await page.locator('h1.repository-name').textContent(), 'demo/base');
  assert.deepEqual(await page.locator('table.tags td.tag').allTextContents(), ['1.0', '1.1', 'latest']);
  assert.equal(await page.locator('.layout').getAttribute('data-hydrated'), 'false', 'nothing ran in the page');
  await page.screenshot({ path: join(ARTIFACTS, 'no-javascript-repository.png'), fullPage: true });
  await context.close();
});
