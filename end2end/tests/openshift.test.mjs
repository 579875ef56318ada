// Phillip on OpenShift in Debian Chromium: Regent started with only a kubeconfig shows the
// image stream column on team-a/webapp (tracking tag, failed import, a tag in no stream),
// the tag page lists the Deployment running it, and Sarah's change of alice's role in team-a
// on the project screen lands in the cluster's role bindings. Images tagged into skyfield-dev
// from the registry's `skyfield` show their stream tags and what each tracks, only the one
// digest the registry lacks is drift, and the scheduled import that never succeeded is listed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startCluster, launchChromium, hydrated, ARTIFACTS, ADMIN_PASSWORD } from './stack.mjs';

let cluster;
let browser;

before(async () => {
  cluster = await startCluster();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await cluster?.close();
});

test('the repository page shows the image streams that point at each tag', async () => {
  const page = await browser.newPage();
  await page.goto(`${cluster.baseURL}/images/team-a/webapp`);
  await hydrated(page);
  const header = page.locator('table.tags thead th', { hasText: 'Image streams' });
  assert.equal(await header.count(), 1, 'the column is there on OpenShift');
  const latest = page.locator('table.tags tbody tr', { has: page.locator('td.tag a', { hasText: /^latest$/ }) });
  const cell = latest.locator('td.image-stream');
  assert.match(await cell.textContent(), /team-a\/webapp:1\.0/);
  assert.match(await cell.textContent(), /tracks 1\.0/);
  await cell.locator('details.history summary').click();
  assert.equal(await cell.locator('details.history li').count(), 2, 'two pushes in its history');
  const scratch = page.locator('table.tags tbody tr', { has: page.locator('td.tag a', { hasText: /^scratch$/ }) });
  assert.match(await scratch.locator('td.image-stream').textContent(), /in no image stream/);
  assert.equal(await page.locator('tr[data-missing="2.0"]').count(), 0, '2.0 stays on quay.io: not drift');
  const twoOh = page.locator('tr[data-failed-import="team-a/webapp:2.0"]');
  assert.match(await twoOh.textContent(), /imports quay\.io\/example\/webapp:2\.0 every 15 min/);
  await page.screenshot({ path: join(ARTIFACTS, 'openshift-repository.png'), fullPage: true });

  await latest.locator('td.tag a').click();
  await page.waitForURL((url) => url.pathname === '/images/team-a/webapp/tags/latest');
  await page.locator('section[data-section="openshift"]').waitFor();
  assert.match(await page.locator('ul.workloads').textContent(), /team-a\/Deployment\/webapp/);
  await page.close();
});

test('the registry repository skyfield shows the stream tags of skyfield-dev and what they track', async () => {
  const page = await browser.newPage();
  await page.goto(`${cluster.baseURL}/images/skyfield`);
  await hydrated(page);
  const row = page.locator('table.tags tbody tr', { has: page.locator('td.tag a', { hasText: /^1\.1$/ }) });
  const cell = row.locator('td.image-stream');
  assert.equal(await cell.locator('li[data-stream-tag="skyfield-dev/skyfield:1.1"]').count(), 1);
  assert.match(await cell.locator('li[data-stream-tag="skyfield-dev/skyfield:stable"]').textContent(), /tracks 1\.1/);
  assert.match(await cell.locator('li[data-stream-tag="skyfield-dev/skyfield:prod"]').textContent(), /tracks stable → 1\.1/);
  const missing = page.locator('table[data-table="missing-from-registry"] tbody tr');
  assert.equal(await missing.count(), 1, 'only 1.0 is missing');
  assert.equal(await missing.getAttribute('data-stream-tag'), 'skyfield-dev/skyfield:1.0');
  assert.equal(await missing.locator('td[data-looked-in]').getAttribute('data-looked-in'), 'skyfield');
  await page.screenshot({ path: join(ARTIFACTS, 'openshift-cross-project.png'), fullPage: true });

  await row.locator('td.tag a').click();
  await page.waitForURL((url) => url.pathname === '/images/skyfield/tags/1.1');
  await page.locator('section[data-section="openshift"]').waitFor();
  assert.match(await page.locator('ul.streams').textContent(), /skyfield-dev\/skyfield:prod tracks stable → 1\.1/);
  await page.close();
});

test('an administrator sees real drift and the scheduled import that never succeeded', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${cluster.baseURL}/login?next=/images`);
  await hydrated(page);
  await page.fill('input[name="username"]', 'admin');
  await page.fill('input[name="password"]', ADMIN_PASSWORD);
  await page.click('form.login button[type="submit"]');
  await page.waitForURL((url) => url.pathname === '/images');
  const count = page.locator('[data-failed-imports]');
  await count.waitFor();
  assert.equal(await count.getAttribute('data-failed-imports'), '2');
  await count.locator('a').click();
  await page.waitForURL((url) => url.pathname === '/openshift');
  await hydrated(page);
  const api = page.locator('tr[data-failed-import="team-a/api:latest"]');
  await api.waitFor();
  const text = await api.textContent();
  assert.match(text, /imports quay\.io\/acme\/api:latest every 15 min/);
  assert.match(text, /unauthorized/);
  assert.match(text, /2026-03-11T03:15:00Z/);
  assert.match(text, /never imported/);
  for (const tag of ['1.1', 'stable', 'prod']) {
    assert.equal(await page.locator(`tr[data-missing="skyfield-dev/skyfield:${tag}"]`).count(), 0, `${tag} is in the registry`);
  }
  const gone = page.locator('tr[data-missing="skyfield-dev/skyfield:1.0"]');
  assert.equal(await gone.getAttribute('data-looked-in'), 'skyfield');
  assert.equal(await page.locator('dd[data-identity="known"]').count(), 1, 'Regent knows who it is here');
  await page.screenshot({ path: join(ARTIFACTS, 'openshift-cluster.png'), fullPage: true });

  await page.goto(`${cluster.baseURL}/images/team-a/api`);
  await hydrated(page);
  assert.equal(await page.locator('[data-stream-only="true"]').count(), 1);
  assert.match(await page.locator('tr[data-failed-import="team-a/api:latest"]').textContent(), /every 15 min/);
  await context.close();
});

test('Sarah changes alice to push in team-a on the project screen', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${cluster.baseURL}/login?next=/openshift/projects/team-a`);
  await hydrated(page);
  await page.fill('input[name="username"]', 'admin');
  await page.fill('input[name="password"]', ADMIN_PASSWORD);
  await page.click('form.login button[type="submit"]');
  await page.waitForURL((url) => url.pathname === '/openshift/projects/team-a');
  await hydrated(page);
  await page.locator('tr[data-member="qa"]').waitFor();

  const add = page.locator('form[data-form="add-member"]');
  await add.locator('select[name="kind"]').selectOption('user');
  await add.locator('input[name="name"]').fill('alice');
  await add.locator('select[name="role"]').selectOption('pull');
  await add.locator('button[type="submit"]').click();
  await page.locator('[role="status"]', { hasText: 'registry-viewer' }).waitFor({ timeout: 10000 });
  const alice = page.locator('tr[data-member="alice"]');
  await alice.waitFor({ timeout: 10000 });

  await alice.locator('select[name="role"]').selectOption('push');
  await alice.locator('form[data-form="set-role"] button').click();
  await page.locator('[role="status"]', { hasText: 'from registry-viewer to registry-editor' }).waitFor({ timeout: 10000 });
  await page.locator('tr[data-member="alice"][data-role="push"]').waitFor({ timeout: 10000 });
  await page.screenshot({ path: join(ARTIFACTS, 'openshift-project.png'), fullPage: true });

  const editors = await cluster.object('/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings/registry-editor');
  assert.deepEqual(editors.subjects.map((s) => s.name), ['alice'], 'the cluster has alice as an editor');
  const viewers = await cluster.object('/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings/registry-viewer');
  assert.deepEqual(viewers.subjects.map((s) => s.name), ['qa'], 'and no longer as a viewer');
  await context.close();
});
