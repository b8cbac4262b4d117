'use strict';
// examples/rooms_auth_server (the README's rooms-with-sign-in example) with Node ws clients: a
// missing or wrong token is refused with 401 and WWW-Authenticate (the query or a cookie carries
// it), a missing name with 400, a path outside /room/ with 404; signed-in members of a room hear
// each other as "NAME: text", never their own messages nor another room's. The README's code
// block is this example's code.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const L = require('./server_lib');

const t = L.suite('rooms_auth_example');
let srv;
const TOKEN = 'tok-3f9';

// The answer to an upgrade that must be refused: { status, headers }.
function refused(url, opts) {
  const WebSocket = require('ws');
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    ws.on('unexpected-response', (req, res) => { resolve({ status: res.statusCode, headers: res.headers }); req.destroy(); });
    ws.on('open', () => reject(new Error(`${url} was accepted`)));
    ws.on('error', () => {});
  });
}

t.test('the README shows this example\'s code', () => {
  const readme = fs.readFileSync(path.join(L.SRC, 'README.md'), 'utf8');
  const start = readme.indexOf('```c', readme.indexOf('## Rooms with a sign-in'));
  assert.ok(start > 0, 'no C block under "## Rooms with a sign-in"');
  const block = readme.slice(start + 5, readme.indexOf('```', start + 5));
  const source = fs.readFileSync(path.join(L.SRC, 'examples', 'rooms_auth_server.c'), 'utf8');
  assert.ok(block.length > 500 && source.includes(block), 'the README block is not a part of examples/rooms_auth_server.c');
});

t.test('start rooms_auth_server on a kernel-picked port', async () => {
  srv = await L.start(path.join(L.BUILD, 'examples', 'rooms_auth_server'), ['0', TOKEN],
    { portPattern: /listening on ws:\/\/localhost:(\d+)/ });
  t.cleanup(() => srv.stop('SIGKILL'));
});

t.test('refusals: 401 with WWW-Authenticate, 400 without a name, 404 elsewhere', async () => {
  const base = `ws://127.0.0.1:${srv.port}`;
  for (const url of [`${base}/room/red?name=ann`, `${base}/room/red?name=ann&token=wrong`]) {
    const r = await refused(url);
    assert.strictEqual(r.status, 401, url);
    assert.strictEqual(r.headers['www-authenticate'], 'Bearer realm="rooms"');
  }
  assert.strictEqual((await refused(`${base}/room/red?token=${TOKEN}`)).status, 400);
  assert.strictEqual((await refused(`${base}/room/?name=ann&token=${TOKEN}`)).status, 400);
  assert.strictEqual((await refused(`${base}/lobby?name=ann&token=${TOKEN}`)).status, 404);
});

t.test('signed in: the room hears "NAME: text", not the sender, not another room', async () => {
  const base = `ws://127.0.0.1:${srv.port}/room`;
  const ann = await L.client(`${base}/red?name=ann&token=${TOKEN}`);
  const bob = await L.client(`${base}/red?name=b%C3%B6b`, { headers: { Cookie: `theme=dark; token=${TOKEN}` } });
  const cat = await L.client(`${base}/blue?name=cat+c&token=${TOKEN}`);
  await L.sleep(100);
  ann.ws.send('hello red');
  assert.strictEqual((await bob.next()).data.toString(), 'ann: hello red');
  bob.ws.send('hi ann');
  assert.strictEqual((await ann.next()).data.toString(), 'böb: hi ann');
  cat.ws.send('anyone?');
  await L.sleep(300);
  assert.deepStrictEqual([ann, bob, cat].map((c) => c.messages.length), [0, 0, 0]);
  for (const c of [ann, bob, cat]) c.ws.close();
  await Promise.all([ann.closed, bob.closed, cat.closed]);
});

t.test('SIGTERM closes every client with 1001 and exits 0', async () => {
  const c = await L.client(`ws://127.0.0.1:${srv.port}/room/red?name=dan&token=${TOKEN}`);
  const closed = c.closed;
  process.kill(srv.child.pid, 'SIGTERM');
  assert.strictEqual((await closed).code, 1001);
  assert.strictEqual((await srv.exited).code, 0);
});
