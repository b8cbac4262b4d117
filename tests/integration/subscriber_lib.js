'use strict';
// The slow-subscriber scenario of server_slow_subscriber*.test.js: `wsk serve --broadcast` or
// `--rooms` with --send-limit 1m and the json access log, 50 reading clients, one subscriber
// that never reads and a publisher of 1 KiB messages, never more than WINDOW ahead of the slowest
// reader. Output to subscribers waits in their queues for the end of the loop iteration
// (src/conn/batch.c): this is the batch under load.
const assert = require('assert');
const L = require('./server_lib');
const M = require('./membound_lib');

const READERS = 50;
const SIZE = 1024;
const LIMIT = 1 << 20;
const WINDOW = 256; // messages the publisher may be ahead of the slowest reader (256 KiB < LIMIT)
// Peak RSS over the baseline: the non-reader's queue (the limit), the readers' queues (whatever
// the kernel did not take of their window), allocator slack.
const BOUND = LIMIT + 5 * (1 << 20);

function message(i) {
  const b = Buffer.alloc(SIZE, i & 0xff);
  b.writeUInt32BE(i, 0);
  return b;
}

async function until(cond, ms, what) {
  for (const t0 = Date.now(); !cond(); await L.sleep(10)) {
    assert.ok(Date.now() - t0 < ms, `timed out after ${ms} ms waiting for ${what}`);
  }
}

// The json close line of the access log for the connection whose remote port is `port`.
function closeLine(srv, port) {
  const line = srv.stderr.find((l) => l.includes('"event":"close"') && l.includes(`:${port}"`));
  return line ? JSON.parse(line) : null;
}

// The server (mode: --broadcast or --rooms; tls: { cert, key, ca } to speak TLS) and its
// clients once `count` messages were published: { srv, readers, other, pub, slow, slowPort }.
// --rooms adds `other`, a client in another room, which gets none of the messages.
async function scenario(mode, count, { dropSlow = false, tls = null } = {}) {
  // (--close-timeout: with --drop-slow the non-reader, closed early in the flood, reads only after
  // it; a slow build takes longer than the default 5 s, which would drop it, close frame unsent.)
  const srv = await L.serve([mode, '--quiet', '--send-limit', '1m', '--log', 'json',
    '--close-timeout', '120000', ...(dropSlow ? ['--drop-slow'] : []), ...(tls ? ['--tls-cert', tls.cert, '--tls-key', tls.key] : [])]);
  try {
    const base = tls ? `wss://localhost:${srv.port}` : `ws://127.0.0.1:${srv.port}`;
    const opts = tls ? { ca: tls.ca } : undefined;
    const url = `${base}/room/a`;
    const readers = [];
    for (let i = 0; i < READERS; i++) readers.push(await L.client(url, opts));
    const other = mode === '--rooms' ? await L.client(`${base}/room/b`, opts) : null;
    const slow = await M.upgraded(srv.port, { path: '/room/a', tls: !!tls, ca: tls && tls.ca });
    const slowPort = slow.s.localPort;
    const pub = await L.client(url, opts);
    // Warm up every buffer of the path once, then take the baseline.
    pub.ws.send(Buffer.from('warm'));
    await Promise.all(readers.map((r) => r.next()));
    await L.sleep(200);
    const before = L.memory(srv.child.pid).rss;

    const got = new Array(READERS).fill(0);
    let bad = null;
    readers.forEach((r, k) => {
      r.messages.length = 0;
      r.ws.removeAllListeners('message');
      r.ws.on('message', (data) => {
        if (!bad && (data.length !== SIZE || data.readUInt32BE(0) !== got[k])) {
          bad = `reader ${k}, message ${got[k]}: got #${data.readUInt32BE(0)} of ${data.length} bytes`;
        }
        got[k]++;
      });
    });
    const slowest = () => got.reduce((a, b) => Math.min(a, b));
    const t0 = Date.now();
    for (let i = 0; i < count; i++) {
      while (i - slowest() >= WINDOW) await L.sleep(1);
      pub.ws.send(message(i));
    }
    for (let w = 0; slowest() < count && !bad && w < 6000; w++) await L.sleep(10);
    const { hwm } = L.memory(srv.child.pid);
    assert.strictEqual(bad, null, bad);
    assert.strictEqual(slowest(), count, 'every reader got every message');
    const grew = hwm - before;
    console.log(`# ${mode}${dropSlow ? ' --drop-slow' : ''}${tls ? ' (TLS)' : ''}: ${count} messages to ${READERS} readers ` +
      `in ${Date.now() - t0} ms; server RSS ${L.mb(before)} MB before, peak +${L.mb(grew)} MB`);
    assert.ok(grew < BOUND, `the server's peak RSS grew by ${L.mb(grew)} MB (bound ${L.mb(BOUND)} MB)`);
    // (--rooms sends each room its member count as text: the other room hears of its own member)
    if (other) assert.strictEqual(other.messages.filter((m) => m.isBinary).length, 0, 'the other room gets nothing');
    return { srv, readers, other, pub, slow, slowPort };
  } catch (e) {
    await srv.stop('SIGKILL');
    throw e;
  }
}

// The non-reader reads now: what it got, in order (the warm-up first), and what follows.
async function slowFrames(slow, until) {
  const frames = await M.framesRead(slow, { until, ms: 30000 });
  const data = frames.filter((f) => f.opcode === 2); // (not --rooms' member counts, in text)
  assert.strictEqual(data[0].payload.toString(), 'warm');
  const ids = data.slice(1).map((f) => f.payload.readUInt32BE(0));
  ids.forEach((id, i) => assert.ok(i === 0 || id > ids[i - 1], `message ${id} after ${ids[i - 1]}`));
  return { frames, ids };
}

async function closeAll(s) {
  const all = [...s.readers, s.pub, ...(s.other ? [s.other] : [])];
  for (const c of all) c.ws.close(1000);
  await Promise.all(all.map((c) => c.closed));
}

// --send-limit 1m without --drop-slow: the readers get all with bounded memory (scenario), the
// non-reader gets what fitted, in order, and its close line counts the rest: delivered + dropped
// = published; no reader dropped anything.
async function dropsCounted(mode, count, opts) {
  const s = await scenario(mode, count, opts);
  try {
    // A mark after the flood: once the non-reader has it, it has all it will ever get.
    s.pub.ws.send(Buffer.from('mark'));
    const last = (f) => f.length > 0 && f[f.length - 1].opcode === 2 &&
      f[f.length - 1].payload.toString() === 'mark';
    const { ids } = await slowFrames(s.slow, last);
    const delivered = ids.length - 1; // (the mark aside)
    assert.ok(delivered > 0 && delivered < count, `${delivered} messages reached the non-reader`);
    s.slow.s.write(L.frame(8, Buffer.from([0x03, 0xe8])));
    await s.slow.s.ended;
    await until(() => closeLine(s.srv, s.slowPort), 5000, "the non-reader's close line");
    const line = closeLine(s.srv, s.slowPort);
    console.log(`# the non-reader got ${delivered}, dropped ${line.dropped}`);
    assert.strictEqual(line.code, 1000);
    assert.strictEqual(line.dropped, count - delivered, 'delivered + dropped = published');
    await closeAll(s);
    await until(() => s.srv.stderr.filter((l) => l.includes('"event":"close"')).length ===
      READERS + (s.other ? 3 : 2), 5000, 'every close line');
    const readerLines = s.srv.stderr.filter((l) => l.includes('"event":"close"') &&
      !l.includes(`:${s.slowPort}"`));
    assert.ok(readerLines.every((l) => !l.includes('"dropped"')), 'no reader dropped anything');
  } finally {
    await s.srv.stop('SIGKILL');
  }
}

// --drop-slow: the same, and the non-reader is closed with 1008 (one message dropped: the one
// that did not fit).
async function droppedSlow(mode, count, opts) {
  const s = await scenario(mode, count, { ...opts, dropSlow: true });
  try {
    const { frames } = await slowFrames(s.slow, (f) => f.some((x) => x.opcode === 8));
    const close = frames.find((x) => x.opcode === 8);
    assert.strictEqual(close.payload.readUInt16BE(0), 1008);
    assert.strictEqual(frames[frames.length - 1], close, 'nothing after the close frame');
    s.slow.s.write(L.frame(8, close.payload.subarray(0, 2)));
    await s.slow.s.ended;
    await until(() => closeLine(s.srv, s.slowPort), 5000, "the non-reader's close line");
    const line = closeLine(s.srv, s.slowPort);
    assert.strictEqual(line.code, 1008);
    assert.strictEqual(line.dropped, 1, 'the message that did not fit');
    await closeAll(s);
  } finally {
    await s.srv.stop('SIGKILL');
  }
}

module.exports = { dropsCounted, droppedSlow };
