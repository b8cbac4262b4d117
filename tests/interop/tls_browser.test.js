'use strict';
// The chat page (web/) in headless Chromium over TLS: `wsk serve --root web --broadcast --tls-cert
// ... --tls-key ...` with the throw-away certificate of tests/tls/make_certs.sh (Chromium does not
// trust its CA: the context ignores certificate errors). The page comes over https:// and opens its
// WebSocket over wss:// on the same port; two tabs talk to each other; SIGTERM closes both with 1001.

const assert = require('assert');
const path = require('path');
const h = require('./lib/harness');
const { waitState, waitClosed, waitLog, wireText } = require('./lib/chat_page');
const { makeCerts } = require('../tls/certs');

const WELCOME = 'Welcome over TLS';
const t = h.suite('tls_browser');
const pki = makeCerts();
let srv;
let browser;
let context;
const pages = {};
const problems = [];

t.test('start wsk serve over TLS and Chromium', async () => {
  srv = await h.startWsk(['--root', path.join(h.SRC, 'web'), '--broadcast', '--welcome', WELCOME,
                          '--tls-cert', pki.server.cert, '--tls-key', pki.server.key]);
  browser = await h.chromium();
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 900, height: 600 } });
});

t.test('two tabs load https://127.0.0.1:PORT/ and open wss://127.0.0.1:PORT/room/lobby', async () => {
  for (const name of ['A', 'B']) {
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`${name}: HTTP ${r.status()} for ${r.url()}`); });
    page.on('requestfailed', (r) => problems.push(`${name}: request failed: ${r.url()}`));
    const res = await page.goto(`https://127.0.0.1:${srv.port}/`);
    assert.strictEqual(res.status(), 200);
    assert.strictEqual((await res.securityDetails() || {}).protocol, 'TLS 1.3');
    pages[name] = page;
    await waitState(page, 'open');
    await waitLog(page, 'recv', [WELCOME]);
    assert.strictEqual(await page.$eval('#endpoint', (e) => e.textContent), `wss://127.0.0.1:${srv.port}/room/lobby`);
  }
});

t.test('messages flow between the tabs over wss://', async () => {
  const msg = 'secret hello \u2713 from A';
  await pages.A.fill('#msg', msg);
  await pages.A.press('#msg', 'Enter');
  await waitLog(pages.B, 'recv', [WELCOME, msg]);
  await waitLog(pages.A, 'sent', [msg]);
  await pages.B.fill('#msg', 'and back from B');
  await pages.B.click('#send');
  await waitLog(pages.A, 'recv', [WELCOME, 'and back from B']);
  await srv.proc.waitLine('stdout', await wireText(pages.A, msg));
});

t.test('server SIGTERM: the tabs see 1001; the server exits 0', async () => {
  const exit = await srv.proc.stop('SIGTERM');
  for (const name of ['A', 'B']) await waitClosed(pages[name], 1001);
  assert.deepStrictEqual(exit, { code: 0, signal: null });
});

t.test('no page errors, no failed or 4xx/5xx requests', async () => {
  assert.deepStrictEqual(problems, []);
});

t.after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.proc.stop('SIGTERM');
});

t.run();
