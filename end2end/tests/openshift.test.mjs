// Phillip on OpenShift in Debian Chromium: Regent started with only a kubeconfig shows the
// image stream column on team-a/webapp (tracking tag, failed import, a tag in no stream),
// the tag page lists the Deployment running it, and Sarah's change of alice's role in team-a
// on the project screen lands in the cluster's role bindings.

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
  assert.equal(await page.locator('tr[data-missing="2.0"]').count(), 1, '2.0 is in the stream, not in the registry');
  await page.screenshot({ path: join(ARTIFACTS, 'openshift-repository.png'), fullPage: true });

  await latest.locator('td.tag a').click();
  await page.waitForURL((url) => url.pathname === '/images/team-a/webapp/tags/latest');
  await page.locator('section[data-section="openshift"]').waitFor();
  assert.match(await page.locator('ul.workloads').textContent(), /team-a\/Deployment\/webapp/);
  await page.close();
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
