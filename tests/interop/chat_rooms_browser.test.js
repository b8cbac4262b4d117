'use strict';
// Rooms in the chat page (web/) in headless Chromium, against `wsk serve --root web --rooms`, with
// one thread and again with --threads 2 (the rooms and their counts then span the threads): two
// tabs in one room under different names, a third tab that moves from the lobby into another
// room with the Room field, and a plain WebSocket client. A message reaches its room only, under
// its sender's name; a plain client's text is shown as it is; every tab shows its room's member
// count, which drops when a member leaves.

const assert = require('assert');
const path = require('path');
const h = require('./lib/harness');
const { waitState, waitClosed, waitLog, waitMembers, received, wireText } = require('./lib/chat_page');

const WebSocket = h.peer('ws');
const WELCOME = 'Welcome to the rooms';
const ROOM_A = 'caf\u00e9 A'; // UTF-8 and a space: percent-encoded in the URL, decoded by the server
const ROOM_B = 'b';

const t = h.suite('chat_rooms_browser', { timeoutMs: 120000 });
let browser;
const problems = []; // page errors and failed requests, checked at the end

// A tab on the page (its own browser context: its own localStorage), named `name`.
async function openTab(port, hash, name) {
  const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
  page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${name}: HTTP ${r.status()} for ${r.url()}`); });
  page.on('requestfailed', (r) => problems.push(`${name}: request failed: ${r.url()}`));
  await page.goto(`http://127.0.0.1:${port}/${hash}`);
  await page.fill('#name', name);
  await page.press('#name', 'Enter');
  await waitState(page, 'open');
  assert.strictEqual(await page.evaluate(() => localStorage.getItem('wsk-chat-name')), name, 'name kept');
  return page;
}

// A plain client (Node ws) in a room: collects what it receives.
async function plainClient(port, room) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/room/${encodeURIComponent(room)}`);
  const got = [];
  ws.on('message', (data) => got.push(data.toString()));
  await h.within(5000, 'the plain client to open', new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }));
  return { ws, got };
}

function scenario(label, extra) {
  let srv;
  const tabs = {};
  t.test(`${label}: start wsk serve --root web --rooms ${extra.join(' ')}`, async () => {
    srv = await h.startWsk(['--root', path.join(h.SRC, 'web'), '--rooms', '--welcome', WELCOME, ...extra]);
    if (!browser) browser = await h.chromium();
  });

  t.test(`${label}: two tabs in room A, one moved from the lobby to room B with the Room field`, async () => {
    tabs.one = await openTab(srv.port, `#${encodeURIComponent(ROOM_A)}`, 'Ann');
    tabs.two = await openTab(srv.port, `#${encodeURIComponent(ROOM_A)}`, 'Bob');
    tabs.three = await openTab(srv.port, '', 'Cy');
    const endpoint = (page) => page.$eval('#endpoint', (e) => e.textContent);
    assert.strictEqual(await endpoint(tabs.one), `ws://127.0.0.1:${srv.port}/room/caf%C3%A9%20A`);
    assert.strictEqual(await endpoint(tabs.three), `ws://127.0.0.1:${srv.port}/room/lobby`);
    await waitMembers(tabs.three, 1);
    await tabs.three.fill('#room', ROOM_B);
    await tabs.three.click('#join');
    // The page enters the room on hashchange, an event of its own: wait for it.
    await tabs.three.waitForFunction((u) => document.getElementById('endpoint').textContent === u,
      `ws://127.0.0.1:${srv.port}/room/${ROOM_B}`, { timeout: 10000 });
    await waitState(tabs.three, 'open');
    assert.strictEqual(new URL(tabs.three.url()).hash, `#${ROOM_B}`);
    await waitLog(tabs.three, 'recv', [WELCOME]); // the log of the new room
    await waitMembers(tabs.one, 2);
    await waitMembers(tabs.two, 2);
    await waitMembers(tabs.three, 1);
    assert.match(await tabs.one.$eval('#members', (e) => e.textContent), /^2 members in #caf\u00e9 A$/);
  });

  t.test(`${label}: tab 1 sends; tab 2 shows it under Ann; tab 3 (room B) never sees it`, async () => {
    const msg = `hello room A from Ann (${label})`;
    await tabs.one.fill('#msg', msg);
    await tabs.one.press('#msg', 'Enter');
    await waitLog(tabs.two, 'recv', [WELCOME, msg]);
    assert.deepStrictEqual(await received(tabs.two), [[null, WELCOME], ['Ann', msg]]);
    await waitLog(tabs.one, 'sent', [msg]);
    await srv.proc.waitLine('stdout', await wireText(tabs.one, msg));
    // Tab 3 speaks in room B: nobody in A hears it; the server printed both, so A's message had
    // long reached every thread when tab 3 is checked.
    await tabs.three.fill('#msg', 'only room B');
    await tabs.three.press('#msg', 'Enter');
    await srv.proc.waitLine('stdout', await wireText(tabs.three, 'only room B'));
    await h.sleep(300);
    assert.deepStrictEqual(await received(tabs.three), [[null, WELCOME]]);
    assert.deepStrictEqual(await received(tabs.one), [[null, WELCOME]]);
  });

  t.test(`${label}: a plain client in room A: its text shown as it is; it gets Ann's JSON`, async () => {
    const plain = await plainClient(srv.port, ROOM_A);
    await waitMembers(tabs.one, 3);
    await waitMembers(tabs.two, 3);
    plain.ws.send('plain text, no JSON {');
    await waitLog(tabs.one, 'recv', [WELCOME, 'plain text, no JSON {']);
    assert.deepStrictEqual((await received(tabs.one))[1], [null, 'plain text, no JSON {']);
    await tabs.one.fill('#msg', 'hi plain');
    await tabs.one.press('#msg', 'Enter');
    const wire = await wireText(tabs.one, 'hi plain');
    await h.within(5000, 'the plain client to get the message', (async () => {
      while (!plain.got.includes(wire)) await h.sleep(20);
    })());
    assert.strictEqual(plain.got[0], WELCOME, 'the welcome comes first');
    assert.ok(plain.got.some((m) => m === JSON.stringify({ type: 'members', room: ROOM_A, count: 3 })), plain.got.join('\n'));
    plain.ws.terminate();
    await waitMembers(tabs.one, 2);
    await waitMembers(tabs.two, 2);
  });

  t.test(`${label}: tab 2 closes: room A counts 1, room B still 1`, async () => {
    await tabs.two.close();
    await waitMembers(tabs.one, 1);
    await waitMembers(tabs.three, 1);
    assert.match(await tabs.three.$eval('#members', (e) => e.textContent), /^1 member in #b$/);
  });

  t.test(`${label}: SIGTERM: the tabs log a close 1001 and show no count; the server exits 0`, async () => {
    const exit = await srv.proc.stop('SIGTERM');
    for (const page of [tabs.one, tabs.three]) {
      await waitClosed(page, 1001);
      assert.strictEqual(await page.$eval('#members', (e) => e.hidden), true, 'count hidden when closed');
      await page.close();
    }
    assert.deepStrictEqual(exit, { code: 0, signal: null });
  });
}

scenario('one thread', []);
scenario('two threads', ['--threads', '2']);

t.test('no page errors, no failed or 4xx/5xx requests', async () => {
  assert.deepStrictEqual(problems, []);
});

t.after(async () => {
  if (browser) await browser.close();
});

t.run();
