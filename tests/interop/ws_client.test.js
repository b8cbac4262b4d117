'use strict';
// Node's `ws` (a peer we did not write) as a client of `wsk serve`: echo of every kind of
// message, control frames, close codes, limits, rejected upgrades, welcome, broadcast,
// plain HTTP and static files on the same port, --quiet, and SIGTERM shutdown.

const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const h = require('./lib/harness');
const { WebSocket, connect } = require('./lib/ws_peer');

const WELCOME = 'Welcome, h\u00e9llo \u2713 \ud83c\udf0d';
const t = h.suite('ws_client');

// A static root with a secret file next to it (outside the root) for the traversal checks.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wsk-interop-'));
const root = path.join(tmp, 'root');
fs.mkdirSync(root);
fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>wsk test</title><p>index</p>\n');
fs.writeFileSync(path.join(root, 'style.css'), 'body { color: black; }\n');
fs.writeFileSync(path.join(root, 'hello.txt'), 'hello from the static root\n');
fs.writeFileSync(path.join(tmp, 'secret.txt'), 'SECRET outside the root\n');
t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let echo; // wsk serve --echo --root
let bcast; // wsk serve --broadcast --welcome

// A raw HTTP exchange: write `request`, read until the server closes or ms pass.
function raw(port, request, ms = 3000) {
  return h.within(ms, `a response to ${JSON.stringify(request.split('\r\n')[0])}`, new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks = [];
    s.on('connect', () => s.write(request));
    s.on('data', (d) => {
      chunks.push(d);
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
      const upgraded = text.startsWith('HTTP/1.1 101 '); // the connection stays open: stop at the head
      if (upgraded || (len && text.length >= end + 4 + Number(len[1]))) { s.destroy(); resolve(text); }
    });
    s.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    s.on('error', reject);
  }));
}

function status(response) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(response);
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(response.slice(0, 200))}`);
  return Number(m[1]);
}

function get(port, urlPath, method = 'GET') {
  return h.within(3000, `HTTP ${method} ${urlPath}`, new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  }));
}

function upgradeRequest(port, { version = '13', key = crypto.randomBytes(16).toString('base64'), method = 'GET' } = {}) {
  return `${method} / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
         (key ? `Sec-WebSocket-Key: ${key}\r\n` : '') + `Sec-WebSocket-Version: ${version}\r\n\r\n`;
}

t.test('start wsk serve --echo --root and --broadcast --welcome', async () => {
  echo = await h.startWsk(['--echo', '--root', root]);
  bcast = await h.startWsk(['--broadcast', '--welcome', WELCOME]);
  const line = echo.proc.stderr.find((l) => l.includes('listening on'));
  assert.match(line, /^wsk: listening on ws:\/\/127\.0\.0\.1:\d+\b/, 'startup line format');
});

t.test('text message is echoed as text and printed on stdout', async () => {
  const c = await connect(echo.url);
  await c.send('hello wsk');
  assert.strictEqual(await c.nextText(), 'hello wsk');
  await echo.proc.waitLine('stdout', 'hello wsk');
  await c.close(1000);
});

t.test('binary message is echoed as binary, byte for byte', async () => {
  const c = await connect(echo.url);
  const data = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) data[i] = i;
  await c.send(data);
  const m = await c.next();
  assert.strictEqual(m.isBinary, true, 'echo opcode is binary');
  assert.ok(m.data.equals(data), 'payload identical');
  await c.close(1000);
});

t.test('1 MiB text and 1 MiB binary messages round-trip', async () => {
  const c = await connect(echo.url);
  const unit = 'wsk \u00e9\u2713\ud83c\udf0d '; // 1-, 2-, 3- and 4-byte UTF-8 sequences
  let text = unit.repeat(Math.ceil((1 << 20) / Buffer.byteLength(unit)));
  text = Buffer.from(text).subarray(0, 1 << 20).toString('utf8').replace(/\ufffd+$/, '');
  const bin = crypto.randomBytes(1 << 20);
  await c.send(text);
  await c.send(bin);
  const a = await c.next(10000);
  const b = await c.next(10000);
  assert.strictEqual(a.isBinary, false);
  assert.strictEqual(a.data.toString('utf8'), text, '1 MiB text identical');
  assert.strictEqual(b.isBinary, true);
  assert.ok(b.data.equals(bin), '1 MiB binary identical');
  await c.close(1000);
});

t.test('empty text and empty binary messages are echoed', async () => {
  const c = await connect(echo.url);
  await c.send('');
  await c.send(Buffer.alloc(0));
  const a = await c.next();
  const b = await c.next();
  assert.deepStrictEqual([a.isBinary, a.data.length], [false, 0]);
  assert.deepStrictEqual([b.isBinary, b.data.length], [true, 0]);
  await c.close(1000);
});

t.test('ping with payload gets a pong with the same payload', async () => {
  const c = await connect(echo.url);
  const payload = Buffer.from('ping-payload-\u2713');
  c.ws.ping(payload);
  c.ws.ping(Buffer.alloc(125, 0x61));
  c.ws.ping();
  await c.send('after pings'); // the echo comes after the pongs on an ordered stream
  assert.strictEqual(await c.nextText(), 'after pings');
  assert.strictEqual(c.pongs.length, 3, 'three pongs');
  assert.ok(c.pongs[0].equals(payload), 'pong payload');
  assert.ok(c.pongs[1].equals(Buffer.alloc(125, 0x61)), '125-byte pong payload');
  assert.strictEqual(c.pongs[2].length, 0, 'empty pong');
  await c.close(1000);
});

t.test('fragmented messages (with a ping between fragments) are reassembled', async () => {
  const c = await connect(echo.url);
  const whole = Buffer.from('frag \u2713 mented');
  const cut = whole.indexOf(0xe2) + 1; // split inside the 3-byte check mark
  await c.send(whole.subarray(0, cut), { binary: false, fin: false });
  c.ws.ping(Buffer.from('mid'));
  await c.send(whole.subarray(cut, cut + 3), { binary: false, fin: false });
  await c.send(whole.subarray(cut + 3), { binary: false, fin: true });
  await c.send(Buffer.from([1, 2]), { binary: true, fin: false });
  await c.send(Buffer.from([3]), { binary: true, fin: false });
  await c.send(Buffer.from([4, 5]), { binary: true, fin: true });
  const a = await c.next();
  const b = await c.next();
  assert.strictEqual(a.isBinary, false);
  assert.strictEqual(a.data.toString('utf8'), whole.toString('utf8'));
  assert.strictEqual(b.isBinary, true);
  assert.deepStrictEqual([...b.data], [1, 2, 3, 4, 5]);
  assert.ok(c.pongs.some((p) => p.toString() === 'mid'), 'pong for the ping between fragments');
  await c.close(1000);
});

t.test('1000 messages are echoed and printed in order', async () => {
  const c = await connect(echo.url);
  const n = 1000;
  for (let i = 0; i < n; i++) c.ws.send(`order ${i}`);
  for (let i = 0; i < n; i++) assert.strictEqual(await c.nextText(), `order ${i}`);
  await echo.proc.waitLine('stdout', `order ${n - 1}`);
  const printed = echo.proc.stdout.filter((l) => l.startsWith('order '));
  assert.deepStrictEqual(printed, Array.from({ length: n }, (_, i) => `order ${i}`), 'stdout order');
  await c.close(1000);
});

t.test('echo works for every permessage-deflate offer (taken or declined)', async () => {
  const offers = [false, true, { serverNoContextTakeover: true, clientNoContextTakeover: true },
                  { serverMaxWindowBits: 9 }, { clientMaxWindowBits: 10 }, { threshold: 0 }];
  const text = 'compressible '.repeat(5000);
  const bin = crypto.randomBytes(70000);
  for (const perMessageDeflate of offers) {
    const c = await connect(echo.url, { perMessageDeflate });
    const label = `offer ${JSON.stringify(perMessageDeflate)} -> '${c.ws.extensions}'`;
    for (const m of [text, bin, 'again', 'again', 'again', '']) await c.send(m);
    for (const m of [text, bin, 'again', 'again', 'again', '']) {
      const got = await c.next();
      assert.strictEqual(got.isBinary, Buffer.isBuffer(m), `${label}: opcode`);
      assert.ok(got.data.equals(Buffer.from(m)), `${label}: payload`);
    }
    if (perMessageDeflate === false) assert.strictEqual(c.ws.extensions, '', 'nothing negotiated unasked');
    console.log(`# ${label}`);
    await c.close(1000);
  }
});

t.test('close with code 4000 and a reason: the code is echoed back, cleanly', async () => {
  const c = await connect(echo.url);
  const r = await c.close(4000, 'bye \u2713');
  // RFC 6455 5.5.1: the answer echoes the status code; echoing the reason is optional.
  assert.strictEqual(r.code, 4000);
  assert.strictEqual(r.wasClean, true);
  assert.ok(['', 'bye \u2713'].includes(r.reason), `reason ${JSON.stringify(r.reason)}`);
});

t.test('close without a code completes cleanly', async () => {
  const c = await connect(echo.url);
  const r = await c.close();
  assert.strictEqual(r.wasClean, true);
  assert.ok([1000, 1005].includes(r.code), `close code ${r.code}`);
});

t.test('--max-message: at the limit echoed, one byte over closed with 1009', async () => {
  const m = await h.startWsk(['--echo', '--quiet', '--max-message', '1024']);
  try {
    const c = await connect(m.url);
    await c.send(Buffer.alloc(1024, 7));
    assert.strictEqual((await c.next()).data.length, 1024);
    await c.send(Buffer.alloc(1025, 7));
    const r = await h.within(5000, 'the close after an oversized message', c.closed);
    assert.strictEqual(r.code, 1009, `close code ${r.code}`);
  } finally {
    await m.proc.stop();
  }
});

t.test('rejected upgrades: wrong version 426, missing key 400, POST refused', async () => {
  const v8 = await raw(echo.port, upgradeRequest(echo.port, { version: '8' }));
  assert.strictEqual(status(v8), 426, v8);
  assert.match(v8, /\r\nSec-WebSocket-Version:\s*13\r\n/i, 'the 426 names version 13');
  const nokey = await raw(echo.port, upgradeRequest(echo.port, { key: '' }));
  assert.strictEqual(status(nokey), 400, nokey);
  const shortkey = await raw(echo.port, upgradeRequest(echo.port, { key: 'c2hvcnQ=' }));
  assert.strictEqual(status(shortkey), 400, shortkey);
  const post = await raw(echo.port, upgradeRequest(echo.port, { method: 'POST' }));
  assert.ok(status(post) >= 400 && status(post) < 500, post);
  const good = await raw(echo.port, upgradeRequest(echo.port, { key: 'dGhlIHNhbXBsZSBub25jZQ==' }));
  assert.strictEqual(status(good), 101, good);
  // RFC 6455 section 1.3's worked example.
  assert.match(good, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i, good);
});

t.test('ws itself reports the refused version as an HTTP 426', async () => {
  const ws = new WebSocket(echo.url, { protocolVersion: 8 });
  const err = await h.within(3000, 'the refused upgrade', new Promise((resolve) => ws.on('error', resolve)));
  assert.match(err.message, /Unexpected server response: 426/);
});

t.test('--welcome greets every client first, in UTF-8', async () => {
  const a = await connect(bcast.url);
  const b = await connect(bcast.url);
  assert.strictEqual(await a.nextText(), WELCOME);
  assert.strictEqual(await b.nextText(), WELCOME);
  await a.close(1000);
  await b.close(1000);
});

t.test('--broadcast sends to every other client, not back to the sender', async () => {
  const a = await connect(bcast.url);
  const b = await connect(bcast.url);
  const c = await connect(bcast.url);
  for (const p of [a, b, c]) assert.strictEqual(await p.nextText(), WELCOME);
  await a.send('from A');
  assert.strictEqual(await b.nextText(), 'from A');
  assert.strictEqual(await c.nextText(), 'from A');
  await b.send(Buffer.from([0xde, 0xad]));
  const ma = await a.next();
  const mc = await c.next();
  assert.ok(ma.isBinary && ma.data.equals(Buffer.from([0xde, 0xad])), 'A gets B binary as binary');
  assert.ok(mc.isBinary && mc.data.equals(Buffer.from([0xde, 0xad])), 'C gets B binary as binary');
  // A's message reached B before B's reached A, so an echo to A would be queued by now.
  assert.strictEqual(a.queue.length, 0, `A got something extra: ${a.queue.map((m) => m.data.toString())}`);
  assert.strictEqual(b.queue.length, 0, 'B got its own message back');
  await bcast.proc.waitLine('stdout', 'from A');
  for (const p of [a, b, c]) await p.close(1000);
});

t.test('plain HTTP GET without --root gets a complete HTTP answer, not a hang', async () => {
  for (const p of ['/', '/index.html']) {
    const r = await get(bcast.port, p);
    assert.ok(r.status >= 200 && r.status < 500, `${p}: status ${r.status}`);
    assert.strictEqual(Number(r.headers['content-length']), Buffer.byteLength(r.body), `${p}: length`);
  }
  const head = await get(bcast.port, '/', 'HEAD');
  assert.strictEqual(head.body, '', 'HEAD has no body');
});

t.test('--root serves static files over plain HTTP on the same port', async () => {
  const index = await get(echo.port, '/');
  assert.strictEqual(index.status, 200);
  assert.match(index.headers['content-type'] || '', /^text\/html/);
  assert.strictEqual(index.body, fs.readFileSync(path.join(root, 'index.html'), 'utf8'));
  const idx2 = await get(echo.port, '/index.html');
  assert.strictEqual(idx2.body, index.body);
  const css = await get(echo.port, '/style.css');
  assert.strictEqual(css.status, 200);
  assert.match(css.headers['content-type'] || '', /^text\/css/);
  const txt = await get(echo.port, '/hello.txt?x=1');
  assert.strictEqual(txt.status, 200);
  assert.match(txt.headers['content-type'] || '', /^text\/plain/);
  assert.strictEqual(txt.body, 'hello from the static root\n');
  assert.strictEqual((await get(echo.port, '/missing.html')).status, 404);
});

t.test('--root never serves files outside the root', async () => {
  for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2E%2E%2Fsecret.txt',
                   '/./../secret.txt', '//../secret.txt']) {
    const r = await raw(echo.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.ok(!r.includes('SECRET'), `${p} leaked the file: ${r}`);
    assert.ok(status(r) >= 400, `${p}: status ${status(r)}`);
  }
});

t.test('--quiet prints nothing on stdout', async () => {
  const q = await h.startWsk(['--echo', '--quiet']);
  try {
    const c = await connect(q.url);
    await c.send('should not be printed');
    assert.strictEqual(await c.nextText(), 'should not be printed');
    await c.close(1000);
    await h.sleep(200);
    assert.deepStrictEqual(q.proc.stdout, []);
  } finally {
    await q.proc.stop();
  }
});

t.test('SIGTERM closes every client with 1001 and exits 0', async () => {
  const a = await connect(bcast.url);
  const b = await connect(bcast.url);
  await a.nextText();
  await b.nextText();
  const exit = await bcast.proc.stop('SIGTERM');
  const ra = await h.within(3000, 'close on client A', a.closed);
  const rb = await h.within(3000, 'close on client B', b.closed);
  assert.strictEqual(ra.code, 1001, `A closed with ${ra.code}`);
  assert.strictEqual(rb.code, 1001, `B closed with ${rb.code}`);
  assert.deepStrictEqual(exit, { code: 0, signal: null }, 'exit status');
});

t.after(async () => {
  if (echo) {
    const exit = await echo.proc.stop('SIGTERM');
    assert.deepStrictEqual(exit, { code: 0, signal: null }, 'echo server exit status on SIGTERM');
  }
});

t.run();
