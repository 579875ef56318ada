// Sarah signs in as the first admin through the form, sees her name in the sidebar, and
// signs out; a wrong password says so without telling whether the user exists.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchChromium, hydrated, ARTIFACTS, ADMIN_PASSWORD } from './stack.mjs';

let stack;
let browser;

before(async () => {
  stack = await startStack({ repos: 0 });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.close();
});

test('the admin signs in, lands where she was going, and signs out', async () => {
  const page = await browser.newPage();
  await page.goto(`${stack.baseURL}/login?next=/storage`);
  await hydrated(page);
  assert.equal(await page.title(), 'Sign in · Regent');

  await page.fill('input[name="username"]', 'admin');
  await page.fill('input[name="password"]', 'not the password');
  await page.click('form.login button[type="submit"]');
  await page.locator('[role="alert"]').waitFor();
  assert.equal(await page.locator('[role="alert"]').textContent(), 'Wrong user name or password.');
  await page.screenshot({ path: join(ARTIFACTS, 'login-refused.png'), fullPage: true });

  await page.fill('input[name="password"]', ADMIN_PASSWORD);
  await page.click('form.login button[type="submit"]');
  await page.waitForURL(/\/storage$/);
  await page.locator('.user-box .signed-in').waitFor();
  assert.equal(await page.locator('.user-box .signed-in').textContent(), 'admin');
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'regent_session');
  assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
  assert.equal(session.sameSite, 'Strict');
  await page.screenshot({ path: join(ARTIFACTS, 'signed-in.png'), fullPage: true });

  await page.click('.user-box button:has-text("Sign out")');
  await page.waitForURL(/\/login$/);
  await page.locator('.user-box a[href="/login"]').waitFor();
  await page.close();
});
