'use strict';
// A slow consumer against wsk serve --broadcast --send-limit: one client stops reading while
// another one broadcasts 64 MB in 64 KiB messages. The server's peak memory (VmHWM of its
// /proc/PID/status) must stay within the send limit plus a fixed allowance, far below what was
// broadcast, and a reading client must get every message, in order. Without --drop-slow the
// messages over the limit are dropped for the slow client only, which stays connected; with it
// the slow client is closed with 1008.
const assert = require('assert');
const net = require('net');
const L = require('./server_lib');

const t = L.suite('server_slow_consumer', { timeoutMs: 120000 });
const MESSAGES = 1024;
const SIZE = 64 * 1024;
const LIMIT = 1 << 20;
const WINDOW = 8; // messages the sender is ahead of the reading client (512 KiB < LIMIT)
// Peak memory the server may add on top of what it used before the flood: the send limit, one
// more message in flight per client, the receive buffer and allocator slack. The flood is 64 MB.
const ALLOWANCE = LIMIT + 12 * (1 << 20);
L.noQuarantine();
const { memory } = L;

function message(i) {
  const b = Buffer.alloc(SIZE, i & 0xff);
  b.writeUInt32BE(i, 0);
  return b;
}

// A WebSocket that reads nothing after the 101: { s, buf(), resume() }.
async function stalled(port) {
  const s = net.connect(port, '127.0.0.1');
  const chunks = [];
  s.on('data', (d) => chunks.push(d));
  s.on('error', () => {});
  s.ended = new Promise((r) => s.on('close', r));
  await new Promise((r) => s.on('connect', r));
  s.write(L.upgradeRequest());
  const buf = () => Buffer.concat(chunks);
  for (let i = 0; i < 300 && buf().indexOf('\r\n\r\n') < 0; i++) await L.sleep(10);
  assert.match(buf().toString('latin1'), /^HTTP\/1\.1 101 /);
  s.pause();
  return { s, buf };
}

// Broadcast MESSAGES messages from `sender`, never more than WINDOW ahead of `reader`; check that
// the reader gets all of them in order. Returns the server's memory at the end.
async function flood(srv, sender, reader) {
  let got = 0;
  const done = new Promise((resolve, reject) => {
    reader.ws.on('message', (data) => {
      if (data.length !== SIZE || data.readUInt32BE(0) !== got) {
        reject(new Error(`message ${got}: got #${data.readUInt32BE(0)} of ${data.length} bytes`));
      }
      if (++got === MESSAGES) resolve();
    });
  });
  for (let i = 0; i < MESSAGES; i++) {
    while (i - got >= WINDOW) await L.sleep(1);
    sender.ws.send(message(i));
  }
  await done;
  return memory(srv.child.pid);
}

async function scenario(extra) {
  const srv = await L.serve(['--broadcast', '--quiet', '--send-limit', String(LIMIT), ...extra]);
  try {
    const sender = await L.client(`ws://127.0.0.1:${srv.port}/`);
    const reader = await L.client(`ws://127.0.0.1:${srv.port}/`);
    const slow = await stalled(srv.port);
    sender.ws.send(message(0).subarray(0, 100)); // warm up every buffer once
    await reader.next();
    reader.messages.length = 0;
    const before = memory(srv.child.pid);
    const after = await flood(srv, sender, reader);
    const grew = after.hwm - before.rss;
    console.log(`# server RSS ${(before.rss / 1048576).toFixed(1)} MB before, peak ` +
      `${(after.hwm / 1048576).toFixed(1)} MB after ${(MESSAGES * SIZE) >> 20} MB broadcast`);
    assert.ok(grew < ALLOWANCE, `the server grew by ${(grew / 1048576).toFixed(1)} MB`);
    return { srv, sender, reader, slow };
  } catch (e) {
    await srv.stop('SIGKILL');
    throw e;
  }
}

// Frames the slow client has read, once `until(frames)` says so.
async function frames(slow, until) {
  for (let i = 0; i < 1000; i++) {
    const end = slow.buf().indexOf('\r\n\r\n');
    const frames = L.parseFrames(slow.buf().subarray(end + 4));
    if (until(frames)) return frames;
    await L.sleep(10);
  }
  throw new Error('the slow client did not get what it waited for');
}

t.test('refusing sends over --send-limit: memory bounded, the reader gets all, the slow one stays', async () => {
  const { srv, sender, reader, slow } = await scenario([]);
  try {
    // The slow client catches up: it gets what fitted under the limit, and is served afterwards.
    slow.s.resume();
    for (let last = -1; slow.buf().length !== last;) {
      last = slow.buf().length;
      await L.sleep(300);
    }
    const mark = Buffer.from('after the flood');
    sender.ws.send(mark);
    const got = await frames(slow, (f) => f.length > 0 && f[f.length - 1].payload.equals(mark));
    const ids = got.slice(0, -1).map((f) => f.payload.readUInt32BE(0));
    assert.ok(ids.length > 0 && ids.length < MESSAGES, `${ids.length} messages reached the slow client`);
    assert.deepStrictEqual(ids, [...ids].sort((a, b) => a - b), 'in order, with gaps');
    assert.ok(got.every((f) => f.opcode === 2), 'not closed');
    for (const c of [sender, reader]) c.ws.close(1000);
  } finally {
    await srv.stop('SIGKILL');
  }
});

t.test('--drop-slow: memory bounded, the reader gets all, the slow client is closed with 1008', async () => {
  const { srv, sender, reader, slow } = await scenario(['--drop-slow']);
  try {
    slow.s.resume();
    const got = await frames(slow, (f) => f.some((x) => x.opcode === 8));
    const close = got.find((x) => x.opcode === 8);
    assert.strictEqual(close.payload.readUInt16BE(0), 1008);
    assert.strictEqual(close.payload.subarray(2).toString(), 'send queue over its limit');
    for (const c of [sender, reader]) c.ws.close(1000);
  } finally {
    await srv.stop('SIGKILL');
  }
});
