'use strict';
// The seed, end to end, with a peer we did not write: headless Chromium runs the seed's client
// page (examples/justWs.html) against build/examples/just_ws_server.

const assert = require('assert');
const http = require('http');
const path = require('path');
const { pathToFileURL } = require('url');
const h = require('./lib/harness');

const WELCOME = 'Welcome to the websocket server!!!';
const WORLD_CUP = "I'm so excited I'm connected to the server. It's like my country just won the World Cup!";
const PAGE = pathToFileURL(path.join(h.SRC, 'examples', 'justWs.html')).href;

const t = h.suite('seed_browser');
let server;
let port;
let browser;

// Open the page with a query string; resolve with its console lines once one equals `line`.
async function openAndWaitForConsole(query, line) {
  const page = await browser.newPage();
  const logged = [];
  let seen;
  const found = new Promise((resolve) => { seen = resolve; });
  page.on('console', (m) => {
    logged.push(m.text());
    if (m.text() === line) seen();
  });
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(`${PAGE}${query}`);
  await h.within(10000, `the page console to log ${JSON.stringify(line)} (it logged ${JSON.stringify(logged)})`,
                 found);
  return { page, logged, sockets };
}

t.test('start just_ws_server on a free port', async () => {
  port = await h.freePort();
  server = h.start(h.executable(path.join(h.BUILD, 'examples', 'just_ws_server')), [String(port)]);
  await h.waitForPort(port, 10000, server);
});

t.test('plain HTTP GET answers "I am connected!"', async () => {
  const body = await h.within(3000, 'the HTTP answer', new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { b += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: b }));
    }).on('error', reject);
  }));
  assert.deepStrictEqual(body, { status: 200, body: 'I am connected!' });
});

t.test('launch headless Chromium', async () => {
  browser = await h.chromium();
});

t.test('justWs.html logs the welcome and the server prints the World-Cup message', async () => {
  const { page, sockets } = await openAndWaitForConsole(`?url=ws://127.0.0.1:${port}`, WELCOME);
  assert.deepStrictEqual(sockets, [`ws://127.0.0.1:${port}/`]);
  await server.waitLine('stdout', WORLD_CUP, 5000);
  await page.close();
});

t.test('a second page gets its own welcome; ?port=N targets ws://localhost:N', async () => {
  const before = server.stdout.filter((l) => l === WORLD_CUP).length;
  const { page, sockets } = await openAndWaitForConsole(`?port=${port}`, WELCOME);
  assert.deepStrictEqual(sockets, [`ws://localhost:${port}/`]);
  const deadline = Date.now() + 5000;
  while (server.stdout.filter((l) => l === WORLD_CUP).length === before) {
    if (Date.now() > deadline) throw new Error('the server did not print the second World-Cup message');
    await h.sleep(50);
  }
  assert.deepStrictEqual(server.stdout.filter((l) => l !== WORLD_CUP), [], 'nothing else on stdout');
  await page.close();
});

t.after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop('SIGTERM');
});

t.run();
