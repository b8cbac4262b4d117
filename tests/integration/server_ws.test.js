'use strict';
// wsk serve --echo / --broadcast with real clients: fragmented messages, ping/pong, close codes
// echoed, a 16 MiB message, invalid UTF-8 (1007), oversized messages (1009), welcome, broadcast,
// printed messages, and the server closing TCP first after a clean close.
const assert = require('assert');
const net = require('net');
const L = require('./server_lib');

const t = L.suite('server_ws');
let echo, bcast;

t.test('start an echo server and a broadcast server', async () => {
  echo = await L.serve(['--echo', '--max-message', '17m']);
  bcast = await L.serve(['--broadcast', '--welcome', 'Welcome ✓']);
  t.cleanup(() => echo.stop('SIGKILL'));
  t.cleanup(() => bcast.stop('SIGKILL'));
});

t.test('text and binary are echoed with their own opcode; text is printed', async () => {
  const c = await L.client(`ws://127.0.0.1:${echo.port}/`);
  c.ws.send('hello wsk');
  c.ws.send(Buffer.from([0, 1, 2, 255]));
  c.ws.send('');
  const a = await c.next(), b = await c.next(), e = await c.next();
  assert.strictEqual(a.isBinary, false);
  assert.strictEqual(a.data.toString(), 'hello wsk');
  assert.strictEqual(b.isBinary, true);
  assert.deepStrictEqual([...b.data], [0, 1, 2, 255]);
  assert.strictEqual(e.data.length, 0);
  await echo.waitStdout('hello wsk');
  c.ws.close(1000);
  await c.closed;
});

t.test('fragmented messages with a ping between fragments are reassembled', async () => {
  const c = await L.client(`ws://127.0.0.1:${echo.port}/`);
  const pongs = [];
  c.ws.on('pong', (d) => pongs.push(d.toString()));
  c.ws.send('frag-', { fin: false });
  c.ws.ping('mid');
  c.ws.send('ment-', { fin: false });
  c.ws.send('ed', { fin: true });
  c.ws.send(Buffer.alloc(100000, 9), { fin: false, binary: true });
  c.ws.send(Buffer.alloc(100000, 8), { fin: true, binary: true });
  const m = await c.next();
  assert.strictEqual(m.data.toString(), 'frag-ment-ed');
  const big = await c.next();
  assert.strictEqual(big.data.length, 200000);
  assert.strictEqual(big.data[0], 9);
  assert.strictEqual(big.data[199999], 8);
  assert.deepStrictEqual(pongs, ['mid']);
  c.ws.close(1000);
  await c.closed;
});

t.test('ping gets a pong with the same payload', async () => {
  const c = await L.client(`ws://127.0.0.1:${echo.port}/`);
  const got = new Promise((r) => c.ws.on('pong', (d) => r(d.toString())));
  c.ws.ping('are you there?');
  assert.strictEqual(await got, 'are you there?');
  c.ws.close();
  await c.closed;
});

t.test('close codes (and reasons) are echoed; no code gives 1005; clean, server FIN first', async () => {
  for (const [code, reason] of [[1000, ''], [1001, 'bye'], [4321, 'custom ✓'], [3000, '']]) {
    const c = await L.client(`ws://127.0.0.1:${echo.port}/`);
    const t0 = Date.now();
    c.ws.close(code, reason);
    const r = await c.closed;
    assert.deepStrictEqual(r, { code, reason });
    assert.ok(Date.now() - t0 < 1000, 'closed promptly');
  }
  const c = await L.client(`ws://127.0.0.1:${echo.port}/`);
  c.ws.close();
  assert.strictEqual((await c.closed).code, 1005);
  // Raw: after the close echo the server sends FIN (it closes TCP first).
  const buf = await L.raw(echo.port, Buffer.concat([Buffer.from(L.upgradeRequest()),
    L.frame(8, Buffer.from([0x0f, 0xa0, 0x68, 0x69]))]));
  const frames = L.framesAfter101(buf);
  assert.strictEqual(frames.length, 1);
  assert.strictEqual(frames[0].opcode, 8);
  assert.deepStrictEqual([...frames[0].payload], [0x0f, 0xa0, 0x68, 0x69]);
});

t.test('a 16 MiB message is echoed intact', async () => {
  const c = await L.client(`ws://127.0.0.1:${echo.port}/`, { maxPayload: 64 << 20 });
  const data = Buffer.alloc(16 << 20);
  for (let i = 0; i < data.length; i += 4096) data[i] = (i >> 12) & 0xff;
  c.ws.send(data);
  const m = await c.next(20000);
  assert.strictEqual(m.data.length, data.length);
  assert.ok(m.data.equals(data), 'same bytes');
  c.ws.close(1000);
  await c.closed;
});

t.test('invalid UTF-8 in text closes with 1007; a message over --max-message with 1009', async () => {
  let buf = await L.raw(echo.port, Buffer.concat([Buffer.from(L.upgradeRequest()),
    L.frame(1, Buffer.from([0x68, 0xc3, 0x28]))]));
  let frames = L.framesAfter101(buf);
  assert.strictEqual(frames[0].opcode, 8);
  assert.strictEqual(frames[0].payload.readUInt16BE(0), 1007);
  const small = await L.serve(['--echo', '--quiet', '--max-message', '1k']);
  try {
    buf = await L.raw(small.port, Buffer.concat([Buffer.from(L.upgradeRequest()),
      L.frame(2, Buffer.alloc(1024)), L.frame(2, Buffer.alloc(1025))]));
    frames = L.framesAfter101(buf);
    assert.deepStrictEqual(frames.map((f) => f.opcode), [2, 8]);
    assert.strictEqual(frames[1].payload.readUInt16BE(0), 1009);
  } finally {
    await small.stop('SIGKILL');
  }
});

t.test('bad close frames: 1-byte payload and code 1005 on the wire get 1002', async () => {
  for (const payload of [Buffer.from([3]), Buffer.from([0x03, 0xed])]) {
    const buf = await L.raw(echo.port, Buffer.concat([Buffer.from(L.upgradeRequest()), L.frame(8, payload)]));
    const frames = L.framesAfter101(buf);
    assert.strictEqual(frames[0].payload.readUInt16BE(0), 1002);
  }
});

t.test('--welcome greets each client; --broadcast reaches every other client only', async () => {
  const a = await L.client(`ws://127.0.0.1:${bcast.port}/`);
  const b = await L.client(`ws://127.0.0.1:${bcast.port}/`);
  const c = await L.client(`ws://127.0.0.1:${bcast.port}/`);
  for (const x of [a, b, c]) assert.strictEqual((await x.next()).data.toString(), 'Welcome ✓');
  a.ws.send('from a');
  assert.strictEqual((await b.next()).data.toString(), 'from a');
  assert.strictEqual((await c.next()).data.toString(), 'from a');
  b.ws.send(Buffer.from([7]));
  const ma = await a.next();
  assert.ok(ma.isBinary && ma.data[0] === 7);
  await c.next();
  await L.sleep(50);
  assert.strictEqual(a.messages.length + b.messages.length + c.messages.length, 0, 'no echo to the sender');
  await bcast.waitStdout('from a');
  for (const x of [a, b, c]) x.ws.close(1000);
  await Promise.all([a.closed, b.closed, c.closed]);
});

t.test('a client that vanishes mid-message does not disturb the others', async () => {
  const s = net.connect(echo.port, '127.0.0.1');
  await new Promise((r) => s.on('connect', r));
  s.write(Buffer.concat([Buffer.from(L.upgradeRequest()), L.frame(2, Buffer.alloc(50000)).subarray(0, 1000)]));
  await L.sleep(50);
  s.destroy();
  const c = await L.client(`ws://127.0.0.1:${echo.port}/`);
  c.ws.send('still fine');
  assert.strictEqual((await c.next()).data.toString(), 'still fine');
  c.ws.close();
  await c.closed;
});
