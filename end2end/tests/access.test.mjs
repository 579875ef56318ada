// Sarah's story through the management screens in Debian Chromium: she signs in, creates the
// team and the QA group, grants write to the developers and read to QA on `skyfield`, and
// creates an empty repository; Greg then sees `skyfield` read-only with no delete buttons,
// and a stranger sees nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchChromium, hydrated, gotoExpectingStatus, markDocument, assertSameDocument, signIn as signInTo, submit, ARTIFACTS, ADMIN_PASSWORD } from './stack.mjs';

const PASSWORD = 'a long enough password';
let stack;
let browser;

before(async () => {
  // Jane pushed skyfield:1.0 already; nothing is public.
  stack = await startStack({ repos: 0, everyoneReads: false, copies: [['demo/base:1.0', 'skyfield:1.0']] });
  browser = await launchChromium();
});

const signIn = (context, user, password, next) => signInTo(context, stack.baseURL, user, password, next);

after(async () => {
  await browser?.close();
  await stack?.close();
});

test('Sarah creates the team, the QA group and their access to skyfield', async () => {
  const context = await browser.newContext();
  const page = await signIn(context, 'admin', ADMIN_PASSWORD, '/admin/users');

  // A capital letter is explained, and nothing is created.
  let answer = await submit(page, 'create-user', { name: 'Greg', password: PASSWORD });
  assert.match(answer, /did you mean "greg"/);
  for (const name of ['josh', 'eric', 'jane', 'greg', 'frank']) {
    answer = await submit(page, 'create-user', { name, password: PASSWORD });
    assert.equal(answer, `Created ${name}.`);
    await page.locator(`tr[data-user="${name}"]`).waitFor();
  }
  await page.screenshot({ path: join(ARTIFACTS, 'admin-users.png'), fullPage: true });

  await page.click('nav.tabs a[href="/admin/groups"]');
  await page.waitForURL(/\/admin\/groups$/);
  answer = await submit(page, 'create-group', { group: 'qa' });
  assert.equal(answer, 'Created the group qa.');
  for (const user of ['greg', 'frank']) {
    const section = page.locator('section[data-group="qa"]');
    await section.locator('form[data-form="add-member"] input[name="user"]').fill(user);
    await section.locator('form[data-form="add-member"] button').click();
    await section.locator(`tr[data-member="${user}"]`).waitFor();
  }
  await page.screenshot({ path: join(ARTIFACTS, 'admin-groups.png'), fullPage: true });

  await page.goto(`${stack.baseURL}/admin/access?scope=skyfield`);
  await hydrated(page);
  for (const developer of ['josh', 'eric', 'jane']) {
    answer = await submit(page, 'add-grant', { subject: `user:${developer}`, level: 'write' });
    assert.equal(answer, `user:${developer} now has write on skyfield.`);
  }
  answer = await submit(page, 'add-grant', { subject: 'group:qa', level: 'read' });
  assert.equal(answer, 'group:qa now has read on skyfield.');
  answer = await submit(page, 'add-grant', { subject: 'user:gregg', level: 'read' });
  assert.match(answer, /there is no user named "gregg"; create it first/i);
  const effective = await page.locator('table[data-table="effective"] tr[data-who]').evaluateAll((rows) =>
    rows.map((r) => `${r.dataset.who}:${r.dataset.level}`));
  assert.deepEqual(effective, ['admin:admin', 'eric:write', 'frank:read', 'greg:read', 'jane:write', 'josh:write']);
  await page.screenshot({ path: join(ARTIFACTS, 'admin-access.png'), fullPage: true });

  // A repository for the nightly builds, before anything is pushed to it.
  await submit(page, 'create-repository', { name: 'skyfield-nightly' });
  await page.waitForURL(/scope=skyfield-nightly$/);
  await page.locator('table[data-table="created"] tr[data-repository="skyfield-nightly"]').waitFor();
  await page.goto(`${stack.baseURL}/images`);
  await hydrated(page);
  const listed = await page.locator('table.repositories td.name a').allTextContents();
  assert.ok(listed.includes('skyfield') && listed.includes('skyfield-nightly'), listed.join(', '));

  await page.goto(`${stack.baseURL}/admin/audit?action=grant.put`);
  await hydrated(page);
  assert.equal(await page.locator('table[data-table="audit"] tr[data-action="grant.put"]').count(), 4);
  await page.screenshot({ path: join(ARTIFACTS, 'admin-audit.png'), fullPage: true });
  await context.close();
});

test('Greg sees skyfield read-only with no delete buttons, and nothing else', async () => {
  const context = await browser.newContext();
  const page = await signIn(context, 'greg', PASSWORD, '/images');
  // After sign-in the list arrives by a client-side navigation: wait for it, not just the URL.
  await page.locator('table.repositories td.name a').first().waitFor();
  const listed = await page.locator('table.repositories td.name a').allTextContents();
  assert.deepEqual(listed, ['skyfield']);
  assert.equal(await page.locator('.sidebar a[href="/admin/users"]').count(), 0);

  await markDocument(page);
  await page.click('table.repositories a[href="/images/skyfield"]');
  await page.waitForURL(/\/images\/skyfield$/);
  await page.locator('.your-access').waitFor();
  await assertSameDocument(page, 'skyfield from the images list');
  assert.equal(await page.locator('.your-access').getAttribute('data-level'), 'read');
  assert.match(await page.locator('.your-access').textContent(), /read \(pull\)/);
  assert.equal(await page.locator('button:has-text("Delete")').count(), 0);
  assert.equal(await page.locator('text=Who has access').count(), 0);
  await page.screenshot({ path: join(ARTIFACTS, 'greg-skyfield.png'), fullPage: true });

  await gotoExpectingStatus(page, `${stack.baseURL}/admin/users`, 403);
  await context.close();
});

test('a stranger sees nothing and is asked to sign in', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.baseURL}/images`);
  await hydrated(page);
  await page.locator('.sign-in-hint').waitFor();
  assert.equal(await page.locator('table.repositories').count(), 0);
  await gotoExpectingStatus(page, `${stack.baseURL}/images/skyfield`, 404);
  await context.close();
});
