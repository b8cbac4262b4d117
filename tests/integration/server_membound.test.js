'use strict';
// Memory is bounded under every peer behaviour: each test has `wsk serve` face peers that
// misbehave, reads the server's VmRSS from /proc before and while they do, and asserts a bound
// (docs/SECURITY.md lists them). Then the peers are checked for what they got, and the server for
// its health.
const assert = require('assert');
const crypto = require('crypto');
const L = require('./server_lib');
const M = require('./membound_lib');

L.noQuarantine();
const t = L.suite('server_membound', { timeoutMs: 180000 });
const MiB = 1 << 20;
const rssOf = (srv) => L.memory(srv.child.pid).rss;

// An echo round trip through a fresh client: the server is healthy.
async function healthy(srv) {
  const c = await L.client(`ws://127.0.0.1:${srv.port}/`);
  c.ws.send('still there?');
  assert.strictEqual(String((await c.next()).data), 'still there?');
  c.ws.close(1000);
  await c.closed;
}

t.test('200 000 pings, never read: one pong pending, RSS bounded, then a valid stream', async () => {
  const srv = await L.serve(['--echo', '--quiet']);
  t.cleanup(() => srv.stop('SIGKILL'));
  await M.pingFlood(srv, 200000, 4 * MiB);
  await healthy(srv);
});

for (const mode of [[], ['--drop-slow']]) {
  const what = mode.length ? 'closed with 1008' : 'echoes dropped';
  t.test(`messages to echo, never read (--send-limit 1m ${mode.join(' ')}): RSS bounded, ${what}`, async () => {
    const COUNT = 512, SIZE = 64 * 1024;
    const srv = await L.serve(['--echo', '--quiet', '--send-limit', '1m', ...mode]);
    t.cleanup(() => srv.stop('SIGKILL'));
    const p = await M.upgraded(srv.port);
    const msg = (i) => {
      const b = Buffer.alloc(SIZE, i & 0xff);
      b.writeUInt32BE(i, 0);
      return L.frame(2, b);
    };
    await M.writeAll(p.s, [msg(0)]);
    await L.sleep(100);
    const before = rssOf(srv);
    const frames = [];
    for (let i = 1; i < COUNT; i++) frames.push(msg(i));
    await M.writeAll(p.s, frames, 16);
    await L.sleep(300);
    const grew = rssOf(srv) - before;
    console.log(`# server RSS ${L.mb(before)} MB before, +${L.mb(grew)} MB after ${(COUNT * SIZE) >> 20} MB to echo`);
    assert.ok(grew < 1 * MiB + 8 * MiB, `the server grew by ${L.mb(grew)} MB`);
    const got = await M.framesRead(p, mode.length ? { until: (f) => f.some((x) => x.opcode === 8) } : {});
    const data = got.filter((f) => f.opcode === 2).map((f) => f.payload.readUInt32BE(0));
    assert.ok(data.length > 0 && data.length < COUNT, `${data.length} echoes`);
    assert.deepStrictEqual(data, [...data].sort((a, b) => a - b), 'in order, with gaps');
    const close = got.find((f) => f.opcode === 8);
    if (mode.length) {
      assert.ok(close, 'closed');
      assert.strictEqual(close.payload.readUInt16BE(0), 1008);
    } else {
      assert.ok(!close, 'not closed');
    }
    p.s.destroy();
    await healthy(srv);
  });
}

t.test('200 slow HTTP uploads (1 byte every 10 ms): RSS bounded, closed at the deadline', async () => {
  const PEERS = 200, TIMEOUT = 2000;
  const srv = await L.serve(['--echo', '--quiet', '--handshake-timeout', String(TIMEOUT)]);
  t.cleanup(() => srv.stop('SIGKILL'));
  const head = 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n';
  const before = rssOf(srv);
  const t0 = Date.now();
  const peers = await Promise.all(Array.from({ length: PEERS },
    () => M.stalled(srv.port, head + 'x'.repeat(8192))));
  let closed = 0;
  for (const p of peers) p.s.ended.then(() => closed++);
  const drip = setInterval(() => { for (const p of peers) if (!p.s.destroyed) p.s.write('y'); }, 10);
  try {
    await L.sleep(TIMEOUT / 2);
    const grew = rssOf(srv) - before;
    console.log(`# server RSS ${L.mb(before)} MB before, +${L.mb(grew)} MB with ${PEERS} slow uploads ` +
      `(${Math.round(grew / PEERS / 1024)} KiB each)`);
    // What each one sent so far, the 64 KiB of room a body is read into, and allocator slack.
    assert.ok(grew / PEERS < 128 * 1024, `${Math.round(grew / PEERS / 1024)} KiB per upload`);
    while (closed < PEERS && Date.now() - t0 < TIMEOUT + 5000) await L.sleep(10);
    assert.strictEqual(closed, PEERS, 'every slow upload is closed at the deadline');
    assert.ok(Date.now() - t0 >= TIMEOUT, 'not before it');
    assert.ok(peers.every((p) => p.got() === 0), 'closed without an answer');
  } finally {
    clearInterval(drip);
  }
  await healthy(srv);
});

t.test('2000 half-open connections: RSS per connection bounded, all closed by the timeouts', async () => {
  const PEERS = 2000, TIMEOUT = 5000;
  const srv = await L.serve(['--echo', '--quiet', '--handshake-timeout', String(TIMEOUT),
    '--idle-timeout', String(TIMEOUT), '--close-timeout', '500']);
  t.cleanup(() => srv.stop('SIGKILL'));
  await healthy(srv);
  const before = rssOf(srv);
  const t0 = Date.now();
  const peers = [];
  for (let i = 0; i < PEERS; i += 100) {
    peers.push(...await Promise.all(Array.from({ length: 100 }, async (_, k) => {
      const kind = (i + k) % 3;
      if (kind === 0) return M.stalled(srv.port, null); // nothing
      if (kind === 1) return M.stalled(srv.port, 'GET / HTTP/1.1\r\nHost: x\r\nUpgr'); // half a head
      const p = await M.upgraded(srv.port); // half a frame header
      p.s.write(Buffer.from([0x81]));
      return p;
    })));
  }
  const setup = Date.now() - t0;
  await L.sleep(300);
  const grew = rssOf(srv) - before;
  console.log(`# server RSS ${L.mb(before)} MB before, +${L.mb(grew)} MB with ${PEERS} half-open ` +
    `connections (${Math.round(grew / PEERS)} bytes each; set up in ${setup} ms)`);
  assert.ok(setup < TIMEOUT - 1000, `the set-up took ${setup} ms`);
  assert.ok(grew / PEERS < 2048, `${Math.round(grew / PEERS)} bytes per connection`);
  let closed = 0;
  for (const p of peers) {
    p.s.ended.then(() => closed++);
    p.s.resume(); // (a paused socket would not see the end behind the close frame)
  }
  while (closed < PEERS && Date.now() - t0 < TIMEOUT + 5000) await L.sleep(10);
  assert.strictEqual(closed, PEERS, 'every half-open connection is closed by its timeouts');
  await healthy(srv);
});
