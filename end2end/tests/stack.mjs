// The real stack for browser tests: the Debian docker-registry seeded with sample images by
// `regent-sandbox`, the `regent` binary built by `cargo leptos build`, and Debian Chromium.
// Every server listens on 127.0.0.1; every wait is bounded.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';
import { afterEach } from 'node:test';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * Which build of `regent` the tests run: `debug` (`cargo leptos build`, the default) or
 * `release` (`cargo leptos build --release`). Both serve the site last built in `target/site`,
 * so scripts/test runs the release pass right after the release build.
 */
export const PROFILE = process.env.REGENT_E2E_PROFILE ?? 'debug';
if (!['debug', 'release'].includes(PROFILE)) throw new Error(`REGENT_E2E_PROFILE must be debug or release, not ${PROFILE}`);
const REGENT = join(ROOT, 'target', PROFILE, 'regent');
export const ARTIFACTS = join(ROOT, 'end2end', 'artifacts');
/** The password of the first user, `admin`. */
export const ADMIN_PASSWORD = 'end-to-end admin password';

export async function freePort() {
  return new Promise((ok, fail) => {
    const server = net.createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** Polls `url` until it answers (any HTTP status), for at most `ms`. */
export async function waitForHttp(url, ms = 20000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

/** Waits (at most 60 s) until Regent's first index crawl has finished. */
export async function waitForIndex(baseURL) {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const ready = await (await fetch(`${baseURL}/readyz`)).json().catch(() => ({}));
    if (ready.index?.complete) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the index did not finish its first crawl within 60 s');
}

function start(command, args, logFile, env = {}) {
  const log = createWriteStream(logFile);
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  return child;
}

async function stop(child) {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * `target/<PROFILE>/regent` with its data in `dir` and `args` naming the registry (or cluster),
 * on a free port, once its first crawl is done. Before it starts, `grants` ([subject, scope,
 * level]) are added with `regent grant add`; `env` is added to its environment.
 */
async function startRegent(dir, args, logName, grants, env = {}) {
  for (const grant of grants) {
    execFileSync(REGENT, ['--data-dir', join(dir, 'regent-data'), 'grant', 'add', ...grant], { stdio: 'ignore' });
  }
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const regent = start(
    REGENT,
    ['--listen', `127.0.0.1:${port}`, ...args, '--data-dir', join(dir, 'regent-data'),
      '--site-root', join(ROOT, 'target/site'), '--admin-password', ADMIN_PASSWORD],
    join(ARTIFACTS, logName),
    env,
  );
  await waitForHttp(`${baseURL}/healthz`);
  await waitForIndex(baseURL);
  return { regent, baseURL };
}

/**
 * `regent-sandbox <kind> --dir <dir>` (the sample cluster, the company directory): waits (at
 * most 60 s) for the JSON line it prints, and returns it with a `close` that ends it by
 * closing its standard input.
 */
async function startSandbox(kind, dir) {
  const sandbox = spawn(join(ROOT, 'target/debug/regent-sandbox'), [kind, '--dir', dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ended = () => sandbox.exitCode !== null || sandbox.signalCode !== null;
  const info = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => {
      sandbox.kill('SIGKILL');
      fail(new Error(`regent-sandbox ${kind} did not start within 60 s`));
    }, 60000);
    sandbox.once('error', (error) => {
      clearTimeout(timer);
      fail(new Error(`regent-sandbox ${kind} could not run (cargo build -p regent-testkit --bin regent-sandbox): ${error.message}`));
    });
    sandbox.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) {
        clearTimeout(timer);
        ok(JSON.parse(out.split('\n')[0]));
      }
    });
    sandbox.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`regent-sandbox ${kind} exited with ${code ?? signal}`));
    });
  });
  async function close() {
    if (ended()) return;
    const exited = new Promise((r) => sandbox.once('exit', r));
    sandbox.stdin.end();
    const timer = setTimeout(() => sandbox.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  return { info, close };
}

/** Regent's settings for the company directory `regent-sandbox directory` printed. */
function directoryEnv(info) {
  return {
    REGENT_DIRECTORY_URL: info.url,
    REGENT_DIRECTORY_CA_FILE: info.ca_file,
    REGENT_DIRECTORY_BIND_DN: info.bind_dn,
    REGENT_DIRECTORY_BIND_PASSWORD_FILE: info.bind_password_file,
    REGENT_DIRECTORY_USER_BASE: info.user_base,
    REGENT_DIRECTORY_GROUP_BASE: info.group_base,
  };
}

/**
 * Seeds a registry with `repos` bulk repositories plus the sample set, starts it and Regent.
 * Returns URLs and controls to stop and restart the registry on the same port and data.
 * `everyoneReads` grants anonymous read on everything first; with `directory`, Regent signs
 * people in with the hackershop.lan company directory (slapd, `regent-sandbox directory`).
 */
export async function startStack({ repos = 260, everyoneReads = true, copies = [], directory = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'regent-e2e-'));
  const seeded = JSON.parse(
    execFileSync(join(ROOT, 'target/debug/regent-sandbox'), ['seed', '--dir', dir, '--repos', String(repos)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  mkdirSync(ARTIFACTS, { recursive: true });
  let registry = null;
  const startRegistry = async () => {
    registry = start('/usr/bin/docker-registry', ['serve', seeded.config], join(dir, 'registry.log'));
    await waitForHttp(`${seeded.url}/v2/`);
  };
  const stopRegistry = async () => {
    await stop(registry);
    registry = null;
  };
  await startRegistry();

  // More images, copied by skopeo (the independent client) from the sample set: [from, to].
  const host = new URL(seeded.url).host;
  for (const [from, to] of copies) {
    execFileSync('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false',
      `docker://${host}/${from}`, `docker://${host}/${to}`], { stdio: 'ignore' });
  }
  const company = directory ? await startSandbox('directory', join(dir, 'directory')) : null;
  let started;
  try {
    // Most tests are about the pages, not about access: by default everyone may read everything.
    started = await startRegent(
      dir,
      ['--registry-url', seeded.url],
      'regent.log',
      everyoneReads ? [['anonymous', '*', 'read']] : [],
      company ? directoryEnv(company.info) : {},
    );
  } catch (error) {
    await stopRegistry();
    await company?.close();
    throw error;
  }
  const { regent, baseURL } = started;

  return {
    baseURL,
    registryUrl: seeded.url,
    startRegistry,
    stopRegistry,
    sharedLayer: seeded.shared_layer,
    /**
     * Straight from the registry (the independent truth): every repository that has tags, in
     * catalog order, with its tags.
     */
    async catalog() {
      const r = await fetch(`${seeded.url}/v2/_catalog?n=1000`);
      const names = (await r.json()).repositories;
      const tags = await Promise.all(
        names.map(async (n) => (await (await fetch(`${seeded.url}/v2/${n}/tags/list`)).json()).tags ?? []),
      );
      return names.map((name, i) => ({ name, tags: tags[i] })).filter((r) => r.tags.length > 0);
    },
    /** The digest the registry serves for repo:tag (all four manifest types accepted). */
    async digest(repository, tag) {
      const accept = ['application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
        'application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json'].join(', ');
      const r = await fetch(`${seeded.url}/v2/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { accept } });
      return r.headers.get('docker-content-digest');
    },
    async close() {
      await stop(regent);
      await stopRegistry();
      await company?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The sample OpenShift cluster (`regent-sandbox cluster`: a local OpenShift-shaped API server
 * joined to a real registry) and Regent started with only its kubeconfig, as on a cluster.
 */
export async function startCluster() {
  const dir = mkdtempSync(join(tmpdir(), 'regent-e2e-cluster-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  const { info, close: closeSandbox } = await startSandbox('cluster', dir);
  const { regent, baseURL } = await startRegent(dir, ['--openshift-kubeconfig', info.kubeconfig], 'regent-openshift.log', [['anonymous', '*', 'read']]);
  const deadline = Date.now() + 30000;
  let synced = false;
  while (!synced && Date.now() < deadline) {
    const ready = await (await fetch(`${baseURL}/readyz`)).json().catch(() => ({}));
    synced = ready.openshift?.synced === true;
    if (!synced) await new Promise((r) => setTimeout(r, 200));
  }
  if (!synced) {
    await stop(regent);
    await closeSandbox();
    throw new Error('Regent did not sync with the sample cluster within 30 s (see artifacts/regent-openshift.log)');
  }
  return {
    baseURL,
    api: info.api,
    /** An object straight from the cluster's API server (the independent truth). */
    async object(path) {
      const r = await fetch(`${info.api}${path}`, { headers: { authorization: 'Bearer sha256~regent-sample-cluster-token' } });
      return r.ok ? r.json() : null;
    },
    async close() {
      await stop(regent);
      await closeSandbox();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Every page error and console error any page shows fails the test it happened in: a page that
// works "except for an error in the console" is how the release build's broken hydration went
// unseen. A test that provokes one on purpose (a 404 page) says so with allowConsoleError.
const problems = [];
const allowed = [];
const watched = new WeakSet();

function watch(page) {
  if (watched.has(page)) return;
  watched.add(page);
  page.on('pageerror', (error) => problems.push(`page error on ${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = `console error on ${page.url()}: ${message.text()} (${message.location()?.url ?? 'no source'})`;
    if (!allowed.some((pattern) => pattern.test(text))) problems.push(text);
  });
}

/** The current test expects a console error matching `pattern`. */
export function allowConsoleError(pattern) {
  allowed.push(pattern);
}

/**
 * Opens `url` expecting the page itself to answer `status` (a 404 page, a 403): Chromium logs a
 * document that is not 2xx as a console error, and only that one error is expected.
 */
export async function gotoExpectingStatus(page, url, status) {
  const escaped = url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  allowConsoleError(new RegExp(`Failed to load resource: the server responded with a status of ${status} .*\\(${escaped}\\)$`));
  const response = await page.goto(url);
  if (response.status() !== status) throw new Error(`${url} answered ${response.status()}, not ${status}`);
  return response;
}

// Only under the test runner (the page-weight benchmark imports this module too).
if (process.env.NODE_TEST_CONTEXT || process.argv[1]?.endsWith('.test.mjs')) {
  afterEach(() => {
    allowed.length = 0;
    const seen = problems.splice(0);
    if (seen.length) throw new Error(`the browser reported ${seen.length} error(s):\n${seen.join('\n')}`);
  });
}

/** Debian Chromium, headless; every page it opens is watched for errors (above). */
export async function launchChromium() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    context.on('page', watch);
    return context;
  };
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (options) => {
    const page = await newPage(options);
    watch(page);
    return page;
  };
  return browser;
}

/** Waits until the WASM has hydrated the page (the app sets data-hydrated on its root). */
export async function hydrated(page) {
  await page.waitForSelector('.layout[data-hydrated="true"]', { timeout: 20000 });
}

/**
 * Marks the current document; `assertSameDocument` then proves that what happened since was a
 * client-side navigation (a full page load would have dropped the mark).
 */
export async function markDocument(page) {
  await page.evaluate(() => { window.__regentSameDocument = true; });
}

export async function assertSameDocument(page, what) {
  const kept = await page.evaluate(() => window.__regentSameDocument === true);
  if (!kept) throw new Error(`${what}: the page was loaded again instead of navigating client-side`);
}

/**
 * Signs `user` in through the login page with `next`, and checks the way there was one
 * document (client-side navigation). Returns the page, at `next`, hydrated.
 */
export async function signIn(context, baseURL, user, password, next) {
  const page = await context.newPage();
  await page.goto(`${baseURL}/login?next=${next}`);
  await hydrated(page);
  await page.fill('input[name="username"]', user);
  await page.fill('input[name="password"]', password);
  await markDocument(page);
  await page.click('form.login button[type="submit"]');
  await page.waitForURL((url) => url.pathname === next);
  await hydrated(page);
  await assertSameDocument(page, `signing in as ${user}`);
  return page;
}

/** Fills a form's fields, submits it and waits for the answer under it. */
export async function submit(page, form, fields, answer = '[role="status"], [role="alert"]') {
  const f = page.locator(`form[data-form="${form}"]`).first();
  for (const [name, value] of Object.entries(fields)) {
    const field = f.locator(`[name="${name}"]`);
    if ((await field.evaluate((e) => e.tagName)) === 'SELECT') await field.selectOption(value);
    else await field.fill(value);
  }
  const before = await page.locator(answer).allTextContents();
  await f.locator('button[type="submit"]').click();
  await page.waitForFunction(
    ([selector, old]) => {
      const now = [...document.querySelectorAll(selector)].map((e) => e.textContent);
      return now.length > 0 && JSON.stringify(now) !== JSON.stringify(old);
    },
    [answer, before],
    { timeout: 10000 },
  );
  return (await page.locator(answer).allTextContents()).join(' ');
}
