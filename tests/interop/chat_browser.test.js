'use strict';
// The chat page (web/) in headless Chromium, served and relayed by `wsk serve --root web
// --rooms --welcome ...` (what `make run` starts): two tabs in the default room (lobby) talk to
// each other, the page survives a server restart by reconnecting. (Rooms, names and member
// counts: chat_rooms_browser.)

const assert = require('assert');
const path = require('path');
const h = require('./lib/harness');
const { waitState, waitClosed, waitLog, wireText } = require('./lib/chat_page');

const WELCOME = 'Welcome to the websocket server!!!';
const SCREENSHOT = '/tmp/wsk-chat.png';
const ARGS = ['--root', path.join(h.SRC, 'web'), '--rooms', '--welcome', WELCOME];

const t = h.suite('chat_browser');
let srv;
let browser;
const pages = {};
const problems = []; // page errors and failed requests, checked at the end


async function openTab(name) {
  const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
  page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${name}: HTTP ${r.status()} for ${r.url()}`); });
  page.on('requestfailed', (r) => problems.push(`${name}: request failed: ${r.url()}`));
  await page.goto(`http://127.0.0.1:${srv.port}/`);
  pages[name] = page;
  return page;
}

t.test('start wsk serve --root web --rooms --welcome and Chromium', async () => {
  srv = await h.startWsk(ARGS);
  browser = await h.chromium();
});

t.test('two tabs open, show the state "open" and the welcome', async () => {
  for (const name of ['A', 'B']) {
    const page = await openTab(name);
    await waitState(page, 'open');
    await waitLog(page, 'recv', [WELCOME]);
    assert.strictEqual(await page.$eval('#endpoint', (e) => e.textContent), `ws://127.0.0.1:${srv.port}/room/lobby`);
    assert.strictEqual(await page.$eval('#send', (e) => e.disabled), false, '#send enabled when open');
  }
  // The stylesheet was served with a type the browser accepts (else the layout is unstyled).
  assert.strictEqual(await pages.A.$eval('.chat', (e) => getComputedStyle(e).display), 'flex');
});

t.test('Enter in tab A sends; tab B receives; A marks it sent, not received', async () => {
  const msg = 'hello from A \u2713 <b>not bold</b>';
  await pages.A.fill('#msg', msg);
  await pages.A.press('#msg', 'Enter');
  await waitLog(pages.B, 'recv', [WELCOME, msg]);
  await waitLog(pages.A, 'sent', [msg]);
  assert.strictEqual(await pages.A.$eval('#msg', (e) => e.value), '', 'input cleared');
  assert.strictEqual(await pages.B.$$eval('#log b', (els) => els.length), 0, 'message shown as text, not HTML');
  await srv.proc.waitLine('stdout', await wireText(pages.A, msg));
});

t.test('the Send button in tab B sends; tab A receives; no echo to B', async () => {
  await pages.B.fill('#msg', 'hi A, B here');
  await pages.B.click('#send');
  await waitLog(pages.A, 'recv', [WELCOME, 'hi A, B here']);
  await waitLog(pages.B, 'sent', ['hi A, B here']);
  await waitLog(pages.B, 'recv', [WELCOME, 'hello from A \u2713 <b>not bold</b>']);
  await waitLog(pages.A, 'recv', [WELCOME, 'hi A, B here']);
  await srv.proc.waitLine('stdout', await wireText(pages.B, 'hi A, B here'));
});

t.test('screenshot of tab A', async () => {
  await pages.A.fill('#msg', 'a draft not sent yet');
  await pages.A.screenshot({ path: SCREENSHOT });
  await pages.A.fill('#msg', '');
});

t.test('server SIGTERM: tabs show closed 1001 and reconnecting; server exits 0', async () => {
  const exit = await srv.proc.stop('SIGTERM');
  for (const name of ['A', 'B']) {
    await waitClosed(pages[name], 1001);
    assert.strictEqual(await pages[name].$eval('#send', (e) => e.disabled), true, '#send disabled when closed');
  }
  assert.deepStrictEqual(exit, { code: 0, signal: null }, 'wsk serve exit status on SIGTERM');
});

t.test('server back on the same port: tabs reconnect and get the welcome again', async () => {
  srv = await h.startWsk(ARGS, { port: srv.port });
  const before = { A: [WELCOME, 'hi A, B here'], B: [WELCOME, 'hello from A \u2713 <b>not bold</b>'] };
  for (const name of ['A', 'B']) {
    await waitState(pages[name], 'open');
    await waitLog(pages[name], 'recv', [...before[name], WELCOME]);
  }
  await pages.B.fill('#msg', 'after the restart');
  await pages.B.press('#msg', 'Enter');
  await waitLog(pages.A, 'recv', [WELCOME, 'hi A, B here', WELCOME, 'after the restart']);
});

t.test('no page errors, no failed or 4xx/5xx requests', async () => {
  assert.deepStrictEqual(problems, []);
});

t.after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.proc.stop('SIGTERM');
});

t.run();
