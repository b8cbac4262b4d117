'use strict';
// examples/rooms_server (the README's topics example) with Node ws clients: a message reaches the
// others in the sender's rooms and nobody else (not the sender, not another room), a client in two
// rooms hears both, /leave stops delivery, a client that closes leaves its rooms by itself.
const assert = require('assert');
const path = require('path');
const L = require('./server_lib');

const t = L.suite('rooms_example');
let srv;

/* Wait long enough for any message that should not come, then check none came. */
async function nothing(c) {
  await L.sleep(300);
  assert.deepStrictEqual(c.messages.map((m) => m.data.toString()), []);
}

t.test('start rooms_server on a kernel-picked port', async () => {
  srv = await L.start(path.join(L.BUILD, 'examples', 'rooms_server'), ['0'],
    { portPattern: /listening on ws:\/\/localhost:(\d+)/ });
  t.cleanup(() => srv.stop('SIGKILL'));
});

t.test('rooms: the others in the room, not the sender, not another room', async () => {
  const url = `ws://127.0.0.1:${srv.port}/`;
  const [ann, bob, cat, dan] = await Promise.all([1, 2, 3, 4].map(() => L.client(url)));
  ann.ws.send('/join red');
  bob.ws.send('/join red');
  cat.ws.send('/join blue');
  dan.ws.send('/join red');
  dan.ws.send('/join blue');
  await L.sleep(100);
  ann.ws.send('hello red');
  assert.strictEqual((await bob.next()).data.toString(), 'hello red');
  assert.strictEqual((await dan.next()).data.toString(), 'hello red');
  cat.ws.send('hello blue');
  assert.strictEqual((await dan.next()).data.toString(), 'hello blue');
  await Promise.all([nothing(ann), nothing(cat), nothing(bob)]);

  dan.ws.send('to both');
  assert.strictEqual((await ann.next()).data.toString(), 'to both');
  assert.strictEqual((await bob.next()).data.toString(), 'to both');
  assert.strictEqual((await cat.next()).data.toString(), 'to both');

  bob.ws.send('/leave red');
  await L.sleep(100);
  ann.ws.send('bob left');
  assert.strictEqual((await dan.next()).data.toString(), 'bob left');
  await nothing(bob);

  const closed = dan.closed;
  dan.ws.close();
  await closed;
  ann.ws.send('after dan');
  await Promise.all([nothing(bob), nothing(cat)]);
  for (const c of [ann, bob, cat]) c.ws.close();
});

t.test('SIGTERM closes every client with 1001 and exits 0', async () => {
  const c = await L.client(`ws://127.0.0.1:${srv.port}/`);
  const closed = c.closed;
  process.kill(srv.child.pid, 'SIGTERM');
  assert.strictEqual((await closed).code, 1001);
  assert.strictEqual((await srv.exited).code, 0);
});
