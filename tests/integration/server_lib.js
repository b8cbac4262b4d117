'use strict';
// Shared pieces of the server integration tests (server_*.test.js): start a server process on a
// kernel-picked port and parse the port from its startup line, raw TCP exchanges, client frames,
// and a tiny sequential test runner with a global timeout. Every process started here is killed
// by PID when the test process exits.

const { spawn } = require('child_process');
// "localhost" is ::1 first on Debian (/etc/hosts), and Node 18 (Debian 12's) tries only the
// first address, while the servers under test listen on IPv4: peers that dial localhost try
// 127.0.0.1 first, as Node 20's happy eyeballs would find it.
require('dns').setDefaultResultOrder('ipv4first');
const net = require('net');
const path = require('path');
const fs = require('fs');
const crypto = require('crypto');

const BUILD = process.env.WSK_BUILD;
const SRC = process.env.WSK_SRC || path.join(__dirname, '..', '..');
if (!BUILD) {
  console.error('WSK_BUILD is not set (run through CTest, or set it to the build directory)');
  process.exit(1);
}

const children = new Set();
process.on('exit', () => {
  for (const c of children) {
    try { process.kill(c.pid, 'SIGKILL'); } catch (e) { /* gone */ }
  }
});

// WSK_VALGRIND=1 (make valgrind): the programs of the build directory run under valgrind memcheck.
// They are always stopped with SIGTERM (an exit is what lets valgrind look for leaks), and a
// process that exits with valgrind's error code (a memory error or a leak) fails the suite.
const VALGRIND = process.env.WSK_VALGRIND ? ['valgrind', '-q', '--error-exitcode=97',
  '--leak-check=full', '--show-leak-kinds=definite,indirect,possible',
  '--errors-for-leak-kinds=definite,indirect,possible'] : null;
const valgrindProcs = new Set();
const valgrindReports = [];

// Start `file args...`; resolves once a stderr line matches /:(\d+)/ after "listening on".
// Returns { child, port, stdout: [lines], stderr: [lines], waitStdout(text), exited, stop() }.
// With stdin: 'pipe', p.child.stdin is a stream to write commands to.
function start(file, args, { portPattern = /listening on \S*?:(\d+)/, stdin = 'ignore' } = {}) {
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: build it first`);
  const wrap = VALGRIND && path.resolve(file).startsWith(path.resolve(BUILD) + path.sep);
  const child = wrap ? spawn(VALGRIND[0], [...VALGRIND.slice(1), file, ...args], { stdio: [stdin, 'pipe', 'pipe'] })
    : spawn(file, args, { stdio: [stdin, 'pipe', 'pipe'] });
  children.add(child);
  const p = { child, stdout: [], stderr: [], waiters: [] };
  p.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    children.delete(child);
    valgrindProcs.delete(p);
    if (wrap && code === 97) {
      valgrindReports.push(`${path.basename(file)} ${args.join(' ')}:\n${p.stderr.join('\n')}`);
    }
    resolve({ code, signal });
  }));
  const lines = (stream, into) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        into.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        p.waiters = p.waiters.filter((w) => !w());
      }
    });
  };
  lines(child.stdout, p.stdout);
  lines(child.stderr, p.stderr);
  p.waitStdout = (text, ms = 5000) => waitFor(p, () => p.stdout.includes(text), ms,
    `stdout line ${JSON.stringify(text).slice(0, 80)}; got ${JSON.stringify(p.stdout.slice(-5))}`);
  p.stop = async (signal = 'SIGTERM') => {
    try { process.kill(child.pid, wrap ? 'SIGTERM' : signal); } catch (e) { /* gone */ }
    if (!wrap) return p.exited;
    const timer = setTimeout(() => {
      valgrindReports.push(`${path.basename(file)} ${args.join(' ')}: no exit within 20 s of SIGTERM`);
      try { process.kill(child.pid, 'SIGKILL'); } catch (e) { /* gone */ }
    }, 20000);
    const exit = await p.exited;
    clearTimeout(timer);
    return exit;
  };
  if (wrap) valgrindProcs.add(p);
  return waitFor(p, () => p.stderr.some((l) => portPattern.test(l)), 10000,
    `the startup line of ${path.basename(file)}`).then(() => {
    p.port = Number(portPattern.exec(p.stderr.find((l) => portPattern.test(l)))[1]);
    return p;
  });
}

function waitFor(p, cond, ms, what) {
  if (cond()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}; ` +
      `stderr: ${p.stderr.join(' | ')}`)), ms);
    p.waiters.push(() => {
      if (!cond()) return false;
      clearTimeout(timer);
      resolve();
      return true;
    });
    p.exited.then(() => setTimeout(() => {
      if (!cond()) {
        clearTimeout(timer);
        reject(new Error(`process exited while waiting for ${what}; stderr: ${p.stderr.join(' | ')}`));
      }
    }, 50));
  });
}

function serve(args) {
  return start(path.join(BUILD, 'wsk'), ['serve', '--host', '127.0.0.1', '--port', '0', ...args]);
}

// Send `data` on a fresh connection; resolve with everything received until the server closes,
// or, when `until(buffer)` is given, as soon as it returns true. Rejects after ms.
function raw(port, data, { until, ms = 3000, chunks } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const got = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`raw exchange timed out after ${ms} ms; got ${JSON.stringify(Buffer.concat(got).toString('latin1').slice(0, 300))}`));
    }, ms);
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(got));
    };
    s.on('connect', async () => {
      if (chunks) {
        for (const c of chunks) {
          s.write(c);
          await new Promise((r) => setTimeout(r, 20));
        }
      } else {
        s.write(data);
      }
    });
    s.on('data', (d) => {
      got.push(d);
      if (until && until(Buffer.concat(got))) done();
    });
    s.on('end', done);
    s.on('close', done);
    s.on('error', (e) => {
      if (e.code === 'ECONNRESET') done();
      else { clearTimeout(timer); reject(e); }
    });
  });
}

// A raw connection that delivers bytes in separate reads: Nagle is off, so each write is one TCP
// segment, and `send` pauses between pieces so that the server reads them one by one. Received
// bytes are collected. Resolves { s, buf(), until(pred, ms), send(pieces, pauseMs), closed }:
// until resolves the received buffer once pred(buffer) holds (rejects after ms), closed resolves
// once the socket is closed (by either side).
async function segments(port) {
  const s = net.connect(port, '127.0.0.1');
  s.setNoDelay(true);
  const got = [];
  let waiters = [];
  const buf = () => Buffer.concat(got);
  const wake = () => { waiters = waiters.filter((w) => !w()); };
  s.on('data', (d) => { got.push(d); wake(); });
  s.on('error', () => {});
  const closed = new Promise((r) => s.on('close', () => { wake(); r(); }));
  await new Promise((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
  const until = (pred, ms = 5000) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no expected bytes within ${ms} ms; got ` +
      JSON.stringify(buf().toString('latin1').slice(0, 200)))), ms);
    const check = () => {
      if (!pred(buf()) && !s.destroyed) return false;
      clearTimeout(timer);
      if (pred(buf())) resolve(buf());
      else reject(new Error(`connection closed; got ${JSON.stringify(buf().toString('latin1').slice(0, 200))}`));
      return true;
    };
    if (!check()) waiters.push(check);
  });
  const send = async (pieces, pauseMs = 50) => {
    for (let i = 0; i < pieces.length; i++) {
      if (i) await sleep(pauseMs);
      s.write(pieces[i]);
    }
  };
  return { s, buf, until, send, closed };
}

// Split a byte stream of HTTP responses (each with Content-Length, or bodiless) into
// { status, headers, body } objects.
function responses(buf) {
  const out = [];
  let text = buf.toString('latin1');
  for (;;) {
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = text.slice(0, end).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
    const headers = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] || 0);
    out.push({ status: Number(m[1]), headers, body: text.slice(end + 4, end + 4 + len) });
    text = text.slice(end + 4 + len);
  }
  return out;
}

function upgradeRequest({ key = crypto.randomBytes(16).toString('base64'), version = '13',
  method = 'GET', extra = '', path: p = '/' } = {}) {
  return `${method} ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    (key ? `Sec-WebSocket-Key: ${key}\r\n` : '') + `Sec-WebSocket-Version: ${version}\r\n${extra}\r\n`;
}

// A masked client frame.
function frame(opcode, payload, { fin = true, mask = true } = {}) {
  payload = Buffer.isBuffer(payload) ? payload : Buffer.from(payload || '');
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (mask ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = (mask ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!mask) return Buffer.concat([head, payload]);
  const key = crypto.randomBytes(4);
  key.copy(head, 2 + ext);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, body]);
}

// Parse unmasked server frames from a buffer: [{ opcode, fin, payload }].
function parseFrames(buf) {
  const out = [];
  let o = 0;
  while (o + 2 <= buf.length) {
    let len = buf[o + 1] & 0x7f, h = 2;
    if (len === 126) { if (o + 4 > buf.length) break; len = buf.readUInt16BE(o + 2); h = 4; }
    else if (len === 127) { if (o + 10 > buf.length) break; len = Number(buf.readBigUInt64BE(o + 2)); h = 10; }
    if (o + h + len > buf.length) break;
    out.push({ opcode: buf[o] & 0x0f, fin: !!(buf[o] & 0x80), payload: buf.subarray(o + h + 0, o + h + len) });
    o += h + len;
  }
  return out;
}

// Bytes after the 101 response head, parsed as frames.
function framesAfter101(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0 || !buf.subarray(0, 12).toString().includes('101')) return null;
  return parseFrames(buf.subarray(end + 4));
}

// Open a ws client; resolves with { ws, messages: [{data, isBinary}], next(), closed }.
// skip(data, isBinary): messages to leave out (e.g. isMembersNotice).
function client(url, opts, { skip = null } = {}) {
  const WebSocket = require('ws');
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    const c = { ws, messages: [], waiting: [] };
    c.closed = new Promise((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })));
    ws.on('message', (data, isBinary) => {
      if (skip && skip(data, isBinary)) return;
      c.messages.push({ data, isBinary });
      const w = c.waiting.shift();
      if (w) w();
    });
    c.next = (ms = 5000) => new Promise((res, rej) => {
      const take = () => res(c.messages.shift());
      if (c.messages.length) return take();
      const timer = setTimeout(() => rej(new Error('no message within ' + ms + ' ms')), ms);
      c.waiting.push(() => { clearTimeout(timer); take(); });
    });
    ws.on('open', () => resolve(c));
    ws.on('error', reject);
  });
}

// `wsk serve --rooms` tells a room's members their count: {"type":"members",...} in text.
function isMembersNotice(data, isBinary) {
  return !isBinary && data.toString().startsWith('{"type":"members"');
}

// Sequential tests with a global timeout; exits 1 on any failure.
function suite(name, { timeoutMs = 120000 } = {}) {
  if (VALGRIND) timeoutMs *= 3;
  const tests = [];
  const cleanups = [];
  const timer = setTimeout(() => {
    console.error(`${name}: global timeout of ${timeoutMs} ms`);
    process.exit(1);
  }, timeoutMs);
  setImmediate(async () => {
    let failed = 0;
    for (const t of tests) {
      const t0 = Date.now();
      try {
        await t.fn();
        console.log(`ok - ${t.name} (${Date.now() - t0} ms)`);
      } catch (e) {
        failed++;
        console.log(`not ok - ${t.name}\n  ${String(e && e.stack || e).split('\n').join('\n  ')}`);
      }
    }
    for (const c of cleanups) await c();
    await Promise.all([...valgrindProcs].map((p) => p.stop()));
    for (const r of valgrindReports) console.log(`not ok - valgrind: ${r.split('\n').join('\n  ')}`);
    clearTimeout(timer);
    console.log(`${name}: ${tests.length - failed}/${tests.length} passed` +
      (VALGRIND ? `, ${valgrindReports.length} valgrind reports` : ''));
    process.exit(failed || valgrindReports.length ? 1 : 0);
  });
  return { test: (n, fn) => tests.push({ name: n, fn }), cleanup: (fn) => cleanups.push(fn) };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Memory of process pid from /proc/PID/status, in bytes: { rss: VmRSS, hwm: VmHWM (peak) }.
// Tests that bound the server's memory call noQuarantine() before starting it: in a sanitizer
// build, freed memory must go back at once, not wait in ASan's quarantine.
function memory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)[1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
function noQuarantine() {
  process.env.ASAN_OPTIONS = `${process.env.ASAN_OPTIONS || ''}:quarantine_size_mb=0:` +
    'thread_local_quarantine_size_kb=0';
}
const mb = (bytes) => (bytes / 1048576).toFixed(1);

module.exports = { BUILD, SRC, start, serve, raw, segments, responses, upgradeRequest, frame, parseFrames,
  framesAfter101, client, isMembersNotice, suite, sleep, memory, noQuarantine, mb };
