'use strict';
// Shared pieces of the bounded-memory tests (server_membound*.test.js): peers that stop reading,
// and the check that a big static file served to many of them does not raise the server's RSS.
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const path = require('path');
const tls = require('tls');
const L = require('./server_lib');

// A connection that writes `request` and reads nothing until told: { s, buf(), read(n), ended }.
// opts.tls: connect with TLS (opts.ca trusted); opts.keep: bytes kept for buf() (the rest is
// counted and dropped).
async function stalled(port, request, opts = {}) {
  const s = opts.tls ? tls.connect({ port, host: '127.0.0.1', ca: opts.ca, servername: 'localhost' })
    : net.connect(port, '127.0.0.1');
  const chunks = [];
  let got = 0;
  const keep = opts.keep || Infinity;
  s.on('data', (d) => {
    if (got < keep) chunks.push(d);
    got += d.length;
  });
  s.on('error', () => {});
  s.ended = new Promise((r) => s.on('close', r));
  await new Promise((r, j) => {
    s.once(opts.tls ? 'secureConnect' : 'connect', r);
    s.once('error', j);
  });
  if (request) s.write(request);
  s.pause();
  const buf = () => Buffer.concat(chunks);
  // Read until at least n bytes arrived in all, then stop reading again.
  const read = async (n, ms = 10000) => {
    s.resume();
    for (let t = 0; got < n && t < ms / 10; t++) await L.sleep(10);
    s.pause();
    assert.ok(got >= n, `only ${got} of ${n} bytes arrived`);
  };
  return { s, buf, read, got: () => got };
}

// A WebSocket (raw, through stalled(), opts for it; opts.path: the request's path) whose 101 was
// read; it reads nothing more until told.
async function upgraded(port, opts = {}) {
  const p = await stalled(port, L.upgradeRequest({ path: opts.path }), opts);
  p.s.resume();
  for (let i = 0; i < 500 && p.buf().indexOf('\r\n\r\n') < 0; i++) await L.sleep(10);
  p.s.pause();
  assert.match(p.buf().toString('latin1'), /^HTTP\/1\.1 101 /);
  return p;
}

// The frames p got after its 101 (they must be whole), read until until(frames) says so, or
// without `until` once nothing more arrived for `quiet` ms; fails after ms.
async function framesRead(p, { until, quiet = 500, ms = 20000 } = {}) {
  const parse = () => {
    const buf = p.buf();
    const body = buf.subarray(buf.indexOf('\r\n\r\n') + 4);
    const frames = L.parseFrames(body);
    const size = (n) => n + (n < 126 ? 2 : n < 65536 ? 4 : 10);
    frames.whole = frames.reduce((n, f) => n + size(f.payload.length), 0) === body.length;
    return frames;
  };
  p.s.resume();
  const t0 = Date.now();
  let frames = null;
  for (let last = -1, since = t0; !frames; await L.sleep(20)) {
    if (p.got() !== last) {
      last = p.got();
      since = Date.now();
      if (until && until(parse())) frames = parse();
    } else if (!until && Date.now() - since >= quiet) {
      frames = parse();
    }
    assert.ok(frames || Date.now() - t0 < ms, `the frames awaited did not arrive within ${ms} ms`);
  }
  assert.ok(frames.whole, 'the stream is whole frames');
  return frames;
}

// Write frames (an array of buffers) as fast as the socket takes them; resolves once they are
// all with the kernel.
async function writeAll(s, frames, batch = 1000) {
  for (let i = 0; i < frames.length; i += batch) {
    if (!s.write(Buffer.concat(frames.slice(i, i + batch)))) await new Promise((r) => s.once('drain', r));
  }
  while (s.writableLength) await L.sleep(5);
}

// `count` pings with 125-byte payloads from a WebSocket that does not read: the server's RSS may
// not grow by more than `bound` (one pong pending at most). Then the peer reads: every frame a
// pong, in order, the last one answering the last ping; its close is answered.
async function pingFlood(srv, count, bound, opts) {
  const p = await upgraded(srv.port, opts);
  // Masked with a zero key (any key is valid; this one spares masking 25 MB in JavaScript).
  const ping = (i) => {
    const f = Buffer.alloc(2 + 4 + 125, i & 0xff);
    f[0] = 0x89;
    f[1] = 0x80 | 125;
    f.writeUInt32BE(0, 2);
    f.writeUInt32BE(i, 6);
    return f;
  };
  await writeAll(p.s, [ping(0)]);
  await L.sleep(100);
  const before = L.memory(srv.child.pid).rss;
  const frames = [];
  for (let i = 1; i < count; i++) frames.push(ping(i));
  await writeAll(p.s, frames);
  await L.sleep(500); // the server reads what the kernel still holds
  const grew = L.memory(srv.child.pid).rss - before;
  console.log(`# server RSS ${L.mb(before)} MB before, +${L.mb(grew)} MB after ${count} pings`);
  assert.ok(grew < bound, `the server grew by ${L.mb(grew)} MB`);
  const lastIs = (f, i) => f.length > 0 && f[f.length - 1].payload.readUInt32BE(0) === i;
  const got = await framesRead(p, { until: (f) => lastIs(f, count - 1) });
  assert.ok(got.length > 0 && got.length < count, `${got.length} pongs`);
  let last = -1;
  for (const f of got) {
    assert.ok(f.opcode === 10 && f.fin && f.payload.length === 125, 'a pong with a ping payload');
    const i = f.payload.readUInt32BE(0);
    assert.ok(i > last, `pong ${i} after ${last}`);
    last = i;
  }
  assert.strictEqual(last, count - 1, 'the last ping is answered');
  p.s.write(L.frame(8, Buffer.from([0x03, 0xe8])));
  await framesRead(p, { until: (f) => f.length > 0 && f[f.length - 1].opcode === 8 });
  await p.s.ended;
}

// A fresh root with big.bin (a sparse file of `size` bytes: no disk used, zeros read) and
// mixed.bin (`mixed` bytes of pseudo-random data, for byte-exact checks).
function makeRoot(t, size, mixed) {
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'wsk-membound-'));
  t.cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.closeSync(fs.openSync(path.join(dir, 'big.bin'), 'w'));
  fs.truncateSync(path.join(dir, 'big.bin'), size);
  const data = Buffer.alloc(mixed);
  for (let i = 0; i < mixed; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
  fs.writeFileSync(path.join(dir, 'mixed.bin'), data);
  return { dir, data };
}

// `clients` stalled GETs of big.bin (every fourth one pipelines three of them): the server's RSS
// may not grow by more than `bound` bytes while they wait. Then each reads `sample` bytes (the
// head must announce the whole file, the body so far is zeros) and is closed, and the server's
// descriptors (sockets and files) are back to what they were. Returns the growth measured.
async function slowBigFile(srv, { clients, size, bound, sample, tls: useTls, ca }) {
  const rssOf = () => L.memory(srv.child.pid).rss;
  const fds = () => fs.readdirSync(`/proc/${srv.child.pid}/fd`).length;
  const get = 'GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n';
  const warm = await stalled(srv.port, get, { tls: useTls, ca });
  await warm.read(sample); // every buffer of the path used once before the baseline
  warm.s.destroy();
  await L.sleep(200);
  const before = rssOf(), fdsBefore = fds();
  const peers = [];
  for (let i = 0; i < clients; i++) {
    peers.push(await stalled(srv.port, i % 4 ? get : get.repeat(3), { tls: useTls, ca, keep: sample }));
  }
  await L.sleep(1500); // the server fills every socket buffer, then waits
  const grew = rssOf() - before;
  console.log(`# server RSS ${L.mb(before)} MB before, +${L.mb(grew)} MB with ${clients} clients ` +
    `stalled on a ${size >> 20} MiB file`);
  assert.ok(grew < bound, `the server grew by ${L.mb(grew)} MB (bound ${L.mb(bound)} MB)`);
  await Promise.all(peers.map((p) => p.read(sample)));
  for (const p of peers) {
    const text = p.buf().toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    assert.match(text.slice(0, end), /^HTTP\/1\.1 200 /);
    assert.match(text.slice(0, end), new RegExp(`\r\nContent-Length: ${size}\r\n`));
    const body = p.buf().subarray(end + 4, end + 4 + sample);
    assert.ok(body.equals(Buffer.alloc(body.length)), 'the sparse file reads as zeros');
    p.s.destroy();
  }
  // Each connection and its file are closed once the client is gone: no descriptor stays.
  for (let i = 0; i < 300 && fds() !== fdsBefore; i++) await L.sleep(10);
  assert.strictEqual(fds(), fdsBefore, 'the server holds the descriptors it held before');
  return grew;
}

// Two pipelined GETs of mixed.bin on one keep-alive connection, read at full speed: both bodies
// byte-exact, then a HEAD of big.bin with its length and no body.
async function fullDownloads(srv, data, size, opts = {}) {
  const get = 'GET /mixed.bin HTTP/1.1\r\nHost: x\r\n\r\n';
  const head = 'HEAD /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const p = await stalled(srv.port, get + get + head, opts);
  p.s.resume();
  await p.s.ended;
  const buf = p.buf();
  let off = 0;
  for (let i = 0; i < 2; i++) {
    const end = buf.indexOf('\r\n\r\n', off);
    const h = buf.subarray(off, end).toString('latin1');
    assert.match(h, /^HTTP\/1\.1 200 /);
    assert.match(h, new RegExp(`\r\nContent-Length: ${data.length}\r\n`));
    assert.ok(buf.subarray(end + 4, end + 4 + data.length).equals(data), `body ${i} byte-exact`);
    off = end + 4 + data.length;
  }
  const h = buf.subarray(off).toString('latin1');
  assert.match(h, new RegExp(`^HTTP/1\\.1 200 [^]*\r\nContent-Length: ${size}\r\n`));
  assert.ok(h.endsWith('\r\n\r\n'), 'nothing after the HEAD answer');
}

module.exports = { stalled, upgraded, framesRead, writeAll, pingFlood, makeRoot, slowBigFile,
  fullDownloads };
