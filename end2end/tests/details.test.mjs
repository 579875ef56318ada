// Phillip checks which tags a repository has and what their hashes are; Amy reads an image
// before deleting it and follows a layer to every repository that shares it. What the pages
// show is compared with `skopeo inspect`, the independent client. Screenshots of every page
// (laptop, phone width, dark mode) go to end2end/artifacts/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startStack, launchChromium, hydrated, gotoExpectingStatus, markDocument, assertSameDocument, ARTIFACTS } from './stack.mjs';

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

function skopeo(...args) {
  return JSON.parse(execFileSync('skopeo', args, { encoding: 'utf8' }));
}

function inspect(reference, raw = false) {
  const host = new URL(stack.registryUrl).host;
  return skopeo('inspect', '--tls-verify=false', ...(raw ? ['--raw'] : []), `docker://${host}/${reference}`);
}

test('Phillip opens a tag from its repository and reads what skopeo reads', async () => {
  const context = await browser.newContext();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.baseURL });
  const page = await context.newPage();
  await page.goto(`${stack.baseURL}/images/demo/base`);
  await hydrated(page);
  assert.equal(await page.title(), 'demo/base · Regent');
  assert.equal(await page.locator('[data-fact="tags"]').textContent(), '3');

  // Sorting by tag name, descending, by clicking the header.
  await page.click('th a.sort:has-text("Tag")');
  await page.waitForURL(/sort=-name/);
  await page.waitForFunction(() => document.querySelector('table.tags td.tag')?.textContent === 'latest');
  assert.deepEqual(await page.locator('table.tags td.tag').allTextContents(), ['latest', '1.1', '1.0']);

  // The pull command copies.
  await page.click('.pull button.copy');
  assert.equal(
    await page.evaluate(() => navigator.clipboard.readText()),
    `docker pull ${new URL(stack.registryUrl).host}/demo/base:latest`,
  );

  // Into the tag page by clicking (client-side navigation).
  await hydrated(page);
  await markDocument(page);
  await page.click('table.tags td.tag a:text-is("1.1")');
  await page.waitForURL(/\/images\/demo\/base\/tags\/1\.1$/);
  await page.locator('h1.tag-name').waitFor();
  await assertSameDocument(page, 'the tag page from the repository page');
  assert.equal(await page.locator('h1.tag-name').textContent(), 'demo/base:1.1');
  assert.equal(await page.title(), 'demo/base:1.1 · Regent');

  const truth = inspect('demo/base:1.1');
  assert.equal(await page.locator('section.manifest .copy-text code').first().textContent(), truth.Digest);
  const layers = await page.locator('table.layers tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.layer));
  assert.deepEqual(layers, truth.Layers);
  const facts = Object.fromEntries(
    await page.locator('section.image dl.facts > div').evaluateAll((divs) =>
      divs.map((d) => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])),
  );
  assert.equal(facts.Created, truth.Created.replace(/\.\d+/, ''));
  assert.equal(facts.Platform, `${truth.Os}/${truth.Architecture}`);

  // A secret-looking variable is masked until clicked; the others are plain.
  const secret = page.locator('table.env details.secret').first();
  assert.equal(await secret.locator('code').isVisible(), false);
  await secret.locator('summary').click();
  const apiToken = truth.Env.find((e) => e.startsWith('API_TOKEN=')).split('=')[1];
  assert.equal(await secret.locator('code').textContent(), apiToken);
  await page.screenshot({ path: join(ARTIFACTS, 'tag-demo-base-1.1.png'), fullPage: true });
  await context.close();
});

test('Amy follows a layer to every repository that shares it', async () => {
  const page = await browser.newPage();
  await page.goto(`${stack.baseURL}/images/demo/app/tags/v1`);
  await hydrated(page);
  await page.click(`table.layers a[href="/layers/${stack.sharedLayer}"]`);
  await page.waitForURL(new RegExp(`/layers/${stack.sharedLayer}$`));
  await page.locator('ul.layer-repositories').waitFor();
  // Every sample image is built on this layer: every repository with tags shares it.
  const listed = await page.locator('ul.layer-repositories li').allTextContents();
  assert.deepEqual(listed, repositories.map((r) => r.name).sort());
  const tags = repositories.reduce((n, r) => n + r.tags.length, 0);
  assert.match(await page.locator('p.summary').textContent(), new RegExp(`across ${listed.length} repositories, reached by ${tags} tags`));
  assert.equal(await page.locator('table.tags tbody tr').count(), 25);
  await page.screenshot({ path: join(ARTIFACTS, 'layer-shared.png'), fullPage: true });
  await page.close();
});

test('a multi-arch image lists its platforms and switches between them', async () => {
  const index = inspect('multi/arch:latest', true);
  const children = Object.fromEntries(index.manifests.map((m) => [`${m.platform.os}/${m.platform.architecture}`, m.digest]));
  const page = await browser.newPage();
  await page.goto(`${stack.baseURL}/images/multi/arch`);
  await hydrated(page);
  await page.click('table.tags td.platforms summary');
  const listed = await page.locator('ul.children li a').allTextContents();
  assert.deepEqual(listed.sort(), Object.keys(children).sort());

  await page.click('table.tags td.tag a:text-is("latest")');
  await page.locator('.platforms-switcher').waitFor();
  await page.click('.platforms-switcher a:text-is("linux/arm64")');
  await page.waitForURL(/platform=linux%2Farm64/);
  await page.waitForFunction(() =>
    [...document.querySelectorAll('section.image dt')].some((dt) => dt.textContent === 'Platform'
      && dt.nextElementSibling.textContent === 'linux/arm64'));
  const shown = await page.locator('section.image dt:text-is("Image manifest") + dd').textContent();
  assert.equal(shown, children['linux/arm64']);
  const arm = inspect(`multi/arch@${children['linux/arm64']}`);
  const layers = await page.locator('table.layers tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.layer));
  assert.deepEqual(layers, arm.Layers);
  await page.screenshot({ path: join(ARTIFACTS, 'tag-multi-arch-arm64.png'), fullPage: true });
  await page.close();
});

test('the storage page ranks repositories in an SVG chart and links to them', async () => {
  const page = await browser.newPage();
  await page.goto(`${stack.baseURL}/storage`);
  await hydrated(page);
  assert.equal(await page.title(), 'Storage · Regent');
  assert.equal(await page.locator('svg.storage-chart g.bar-row').count(), Math.min(25, repositories.length));
  const first = await page.locator('svg.storage-chart g.bar-row').first().getAttribute('data-repository');
  await page.screenshot({ path: join(ARTIFACTS, 'storage.png'), fullPage: true });
  await page.locator('svg.storage-chart a').first().click();
  await page.waitForURL(new RegExp(`/images/${first}$`));
  await page.close();
});

test('unknown repositories, tags and layers get a 404 page that says what is missing', async () => {
  const cases = [
    ['/images/demo/base/tags/nope', /has no tag "nope"/],
    ['/images/no/such/repository', /no repository named "no\/such\/repository"/],
    [`/layers/sha256:${'0'.repeat(64)}`, /No tagged image in the registry has the layer/],
  ];
  const page = await browser.newPage();
  for (const [path, says] of cases) {
    await gotoExpectingStatus(page, `${stack.baseURL}${path}`, 404);
    assert.match(await page.locator('main').textContent(), says);
    assert.ok(await page.locator('main a').count() > 0, `${path} links back`);
  }
  await gotoExpectingStatus(page, `${stack.baseURL}/images/demo/base?sort=age`, 400);
  assert.match(await page.locator('[role="alert"]').textContent(), /sort must be one of/);
  await page.close();
});

test('the pages fit a phone and follow the system dark mode', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 800 }, colorScheme: 'dark' });
  const page = await context.newPage();
  for (const [path, name] of [
    ['/images/demo/base', 'phone-repository'],
    ['/images/demo/base/tags/1.0', 'phone-tag'],
    [`/layers/${stack.sharedLayer}`, 'phone-layer'],
    ['/storage', 'phone-storage'],
  ]) {
    await page.goto(`${stack.baseURL}${path}`);
    await hydrated(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${path} is ${overflow}px wider than the phone`);
    const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    assert.equal(background, 'rgb(20, 24, 28)', `${path} is dark`);
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  }
  await context.close();
});
