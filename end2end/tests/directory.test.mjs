// Sign-in with the company directory in Debian Chromium: Regent signs people in against the
// hackershop.lan directory (Debian slapd over ldaps://, started by `regent-sandbox directory`).
// Greg (directory group qa) and Jane (devops) sign in through the login page with their
// directory passwords; Sarah, the local administrator, sees the directory's state on
// /admin/directory, checks a user there, finds the directory's users and groups marked on the
// Users and Groups screens, and grants the directory groups on the Access screen; then Greg
// and Jane each see only what their directory group was granted.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, launchChromium, hydrated, submit, signIn, markDocument, assertSameDocument, ARTIFACTS, ADMIN_PASSWORD } from './stack.mjs';

/** The directory password the testkit gives every hackershop.lan user. */
const passwordOf = (user) => `${user}-directory-pw`;
let stack;
let browser;

before(async () => {
  // Jane's team pushed skyfield and devops/tool; nothing is public, nothing granted yet.
  stack = await startStack({
    repos: 0,
    everyoneReads: false,
    directory: true,
    copies: [['demo/base:1.0', 'skyfield:1.0'], ['demo/base:1.0', 'devops/tool:1.0']],
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.close();
});

/** The repositories the Images page lists for whoever `page` is signed in as. */
async function listed(page) {
  await page.goto(`${stack.baseURL}/images`);
  await hydrated(page);
  await page.locator('p.summary[data-total]').waitFor();
  return page.locator('table.repositories td.name a').allTextContents();
}

test('Greg and Jane sign in with their directory passwords before anything is granted to them', async () => {
  for (const user of ['greg', 'jane']) {
    const context = await browser.newContext();
    const page = await signIn(context, stack.baseURL, user, passwordOf(user), '/images');
    assert.equal(await page.locator('.signed-in').getAttribute('data-user'), user);
    assert.deepEqual(await listed(page), [], `${user} has no grant yet`);
    assert.equal(await page.locator('p.summary').textContent(), 'There are no repositories you have access to yet.');
    await context.close();
  }
});

test('a wrong directory password is refused on the login page and nobody is signed in', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.baseURL}/login?next=/images`);
  await hydrated(page);
  await page.fill('input[name="username"]', 'greg');
  await page.fill('input[name="password"]', 'not greg-s password');
  await page.click('form.login button[type="submit"]');
  await page.locator('[role="alert"]').waitFor();
  assert.match(await page.locator('[role="alert"]').textContent(), /wrong user name or password/i);
  assert.equal(new URL(page.url()).pathname, '/login');
  await page.goto(`${stack.baseURL}/images`);
  await hydrated(page);
  await page.locator('.sign-in-hint').waitFor();
  assert.equal(await page.locator('.signed-in').count(), 0, 'nobody is signed in');
  await context.close();
});

test('Sarah sees the directory answering, checks Greg, finds directory users and groups marked, and grants the groups', async () => {
  const context = await browser.newContext();
  const page = await signIn(context, stack.baseURL, 'admin', ADMIN_PASSWORD, '/admin/directory');
  const state = page.locator('[data-directory="state"]');
  await state.waitFor();
  assert.match(await state.textContent(), /^The company directory at ldaps:\/\/127\.0\.0\.1:\d+ answers\.$/);
  const settings = await page.locator('table[data-table="directory-settings"] tr').allTextContents();
  assert.ok(settings.some((row) => /directory\.bind_password_file\s*\(hidden\)/.test(row)), settings.join(' | '));
  assert.ok(!(await page.content()).includes('regent-service-password'), 'the service password is never shown');

  const answer = await submit(page, 'check-directory-user', { name: 'greg' }, '[data-directory="checked"]');
  assert.match(answer, /uid=greg,ou=people,dc=hackershop,dc=lan/);
  assert.match(await page.locator('[data-directory="checked"] [data-fact="groups"]').textContent(), /\bqa\b/);
  assert.match(await page.locator('[data-directory="checked"] [data-fact="disabled"]').textContent(), /enabled/);
  await page.screenshot({ path: join(ARTIFACTS, 'admin-directory.png'), fullPage: true });

  await markDocument(page);
  await page.click('nav.tabs a[href="/admin/users"]');
  await page.waitForURL(/\/admin\/users$/);
  const row = page.locator('tr[data-user="greg"]');
  await row.waitFor();
  await assertSameDocument(page, 'the Users tab');
  assert.match(await row.textContent(), /user \(from the directory\)/);
  assert.match(await page.locator('[data-directory="state"]').textContent(), /answers/);

  await page.click('nav.tabs a[href="/admin/groups"]');
  await page.waitForURL(/\/admin\/groups$/);
  await page.locator('section[data-group="qa"] [data-directory="group"]').waitFor();
  assert.equal(await page.locator('section[data-group="qa"] form[data-form="add-member"]').count(), 0,
    'the directory says who is in qa: no form to change it');

  await page.goto(`${stack.baseURL}/admin/access?scope=skyfield`);
  await hydrated(page);
  assert.equal(await submit(page, 'add-grant', { subject: 'group:qa', level: 'read' }), 'group:qa now has read on skyfield.');
  await page.goto(`${stack.baseURL}/admin/access?scope=devops/tool`);
  await hydrated(page);
  assert.equal(await submit(page, 'add-grant', { subject: 'group:devops', level: 'write' }), 'group:devops now has write on devops/tool.');

  await page.goto(`${stack.baseURL}/admin/audit?action=directory`);
  await hydrated(page);
  const actions = await page.locator('table[data-table="audit"] tr[data-action]').evaluateAll((rows) =>
    rows.map((r) => r.dataset.action));
  for (const action of ['directory.sign_in', 'directory.check']) assert.ok(actions.includes(action), actions.join(', '));
  await context.close();
});

test('with the grants, Greg reads skyfield only and Jane writes devops/tool only', async () => {
  const context = await browser.newContext();
  const greg = await signIn(context, stack.baseURL, 'greg', passwordOf('greg'), '/images');
  assert.deepEqual(await listed(greg), ['skyfield']);
  await markDocument(greg);
  await greg.click('table.repositories a[href="/images/skyfield"]');
  await greg.waitForURL(/\/images\/skyfield$/);
  await greg.locator('.your-access').waitFor();
  await assertSameDocument(greg, 'skyfield from the images list');
  assert.equal(await greg.locator('.your-access').getAttribute('data-level'), 'read');
  assert.equal(await greg.locator('button:has-text("Delete")').count(), 0);
  await context.close();

  const other = await browser.newContext();
  const jane = await signIn(other, stack.baseURL, 'jane', passwordOf('jane'), '/images');
  assert.deepEqual(await listed(jane), ['devops/tool']);
  await jane.goto(`${stack.baseURL}/images/devops/tool`);
  await hydrated(jane);
  assert.equal(await jane.locator('.your-access').getAttribute('data-level'), 'write');
  await other.close();
});
