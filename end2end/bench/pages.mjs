// Page weight and time to interactive of Regent's release build, against a hydrating Leptos
// hello world built the same way in the same run (scripts/bench-pages builds both and runs this).
//
//   node bench/pages.mjs <hello-world pkg dir>
//
// Sizes: every file of target/site/pkg and of the baseline, raw and gzip -9. Per route: what a
// cold browser downloads before the page is interactive (document, WASM, JS, CSS). Time to
// interactive: navigation start → `.layout[data-hydrated="true"]` for /images, warm cache,
// median of 10 loads. Exits 1 when a target is missed.

import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startStack, launchChromium, hydrated, ROOT, ADMIN_PASSWORD, PROFILE } from '../tests/stack.mjs';

const TARGET_WASM_GZIP = 250 * 1024;
const TARGET_TTI_MS = 300;
const LOADS = 10;

if (PROFILE !== 'release') throw new Error('run with REGENT_E2E_PROFILE=release (scripts/bench-pages does)');
const helloDir = resolve(process.argv[2] ?? '');

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const gzipSize = (bytes) => gzipSync(bytes, { level: 9 }).length;

function files(dir) {
  return readdirSync(dir)
    .filter((f) => /\.(wasm|js|css)$/.test(f))
    .map((f) => {
      const bytes = readFileSync(join(dir, f));
      return { file: f, raw: bytes.length, gzip: gzipSize(bytes) };
    });
}

const regentFiles = files(join(ROOT, 'target/site/pkg'));
const helloFiles = files(helloDir);
const wasmOf = (list) => list.find((f) => f.file.endsWith('.wasm'));
console.log('== files (raw, gzip -9)');
for (const [name, list] of [['regent', regentFiles], ['hello world', helloFiles]]) {
  for (const f of list) console.log(`${name.padEnd(12)} ${f.file.padEnd(24)} ${kib(f.raw).padStart(12)} ${kib(f.gzip).padStart(12)}`);
}
const regentWasm = wasmOf(regentFiles);
const helloWasm = wasmOf(helloFiles);
console.log(`WASM gzip: regent ${kib(regentWasm.gzip)} = ${(regentWasm.gzip / helloWasm.gzip).toFixed(2)} × hello world (${kib(helloWasm.gzip)})`);

const stack = await startStack({ repos: 30 });
const browser = await launchChromium();
let failed = false;
try {
  const repository = (await stack.catalog())[0];
  const signedIn = await browser.newContext();
  {
    const page = await signedIn.newPage();
    await page.goto(`${stack.baseURL}/login`);
    await hydrated(page);
    await page.fill('input[name="username"]', 'admin');
    await page.fill('input[name="password"]', ADMIN_PASSWORD);
    await page.click('form.login button[type="submit"]');
    await page.waitForURL((url) => url.pathname === '/images');
    await page.close();
  }
  const routes = [
    '/images',
    `/images?q=${repository.name}:${repository.tags[0]}`,
    `/images/${repository.name}`,
    `/images/${repository.name}/tags/${repository.tags[0]}`,
    '/storage',
    '/admin/users',
    '/admin/access',
    '/login',
  ];
  console.log('\n== per route, cold cache, signed in as admin (bytes on the wire before interactive)');
  console.log(`${'route'.padEnd(48)} ${'document'.padStart(10)} ${'wasm'.padStart(12)} ${'js'.padStart(10)} ${'css'.padStart(10)}`);
  const storage = await signedIn.storageState();
  for (const route of routes) {
    const context = await browser.newContext({ storageState: storage });
    const page = await context.newPage();
    const sizes = { document: 0, wasm: 0, js: 0, css: 0 };
    page.on('response', async (response) => {
      const url = new URL(response.url());
      const kind = url.pathname.endsWith('.wasm') ? 'wasm' : url.pathname.endsWith('.js') ? 'js'
        : url.pathname.endsWith('.css') ? 'css' : response.request().resourceType() === 'document' ? 'document' : null;
      if (!kind) return;
      const body = await response.body().catch(() => Buffer.alloc(0));
      sizes[kind] += body.length;
    });
    await page.goto(`${stack.baseURL}${route}`);
    await hydrated(page);
    await page.waitForLoadState('networkidle');
    console.log(`${route.padEnd(48)} ${kib(sizes.document).padStart(10)} ${kib(sizes.wasm).padStart(12)} ${kib(sizes.js).padStart(10)} ${kib(sizes.css).padStart(10)}`);
    await context.close();
  }

  console.log(`\n== time to interactive of /images, warm cache, ${LOADS} loads`);
  const context = await browser.newContext({ storageState: storage });
  await context.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.querySelector('.layout[data-hydrated="true"]')) {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
  });
  const page = await context.newPage();
  await page.goto(`${stack.baseURL}/images`);
  await hydrated(page);
  const tti = [];
  const contentLoaded = [];
  for (let i = 0; i < LOADS; i++) {
    await page.goto(`${stack.baseURL}/images`);
    await hydrated(page);
    tti.push(await page.evaluate(() => window.__hydratedAt));
    contentLoaded.push(await page.evaluate(() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`navigation start → hydrated (ms): ${tti.map((t) => t.toFixed(0)).join(', ')}`);
  console.log(`median ${median(tti).toFixed(0)} ms; the HTML alone (DOMContentLoaded) median ${median(contentLoaded).toFixed(0)} ms`);

  console.log('\n== targets');
  const wasmMet = regentWasm.gzip <= TARGET_WASM_GZIP;
  const ttiMet = median(tti) <= TARGET_TTI_MS;
  console.log(`initial WASM of /images ${kib(regentWasm.gzip)} gzip, target ≤ ${kib(TARGET_WASM_GZIP)}: ${wasmMet ? 'met' : 'NOT met'}`);
  console.log(`time to interactive of /images ${median(tti).toFixed(0)} ms, target ≤ ${TARGET_TTI_MS} ms: ${ttiMet ? 'met' : 'NOT met'}`);
  failed = !wasmMet || !ttiMet;
} finally {
  await browser.close();
  await stack.close();
}
process.exit(failed ? 1 : 0);
