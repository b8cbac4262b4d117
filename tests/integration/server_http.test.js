'use strict';
// wsk serve over raw TCP: the upgrade and its refusals (400, 403, 405, 426, 431), strict request
// framing (413, 501, smuggling attempts -> 400), keep-alive and pipelining, HTTP/1.0, HTTP and
// WebSocket on one port, and frames sent right behind the upgrade request.
const assert = require('assert');
const L = require('./server_lib');

const t = L.suite('server_http');
let srv;
const until101 = (b) => b.indexOf('\r\n\r\n') >= 0;
const untilResponses = (n) => (b) => {
  try { return L.responses(b).length >= n; } catch (e) { return false; }
};

t.test('start wsk serve --echo with an Origin allow-list', async () => {
  srv = await L.serve(['--echo', '--quiet', '--origin', 'http://good.example']);
  t.cleanup(() => srv.stop('SIGKILL'));
  assert.match(srv.stderr[0], /^wsk: listening on ws:\/\/127\.0\.0\.1:\d+$/);
});

t.test('a valid upgrade gets 101 with the RFC 6455 accept value', async () => {
  const r = await L.raw(srv.port, L.upgradeRequest({ key: 'dGhlIHNhbXBsZSBub25jZQ==' }), { until: until101 });
  const text = r.toString();
  assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(text, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
  assert.match(text, /\r\nUpgrade: websocket\r\n/i);
});

t.test('refused upgrades: bad key 400, POST 405, version 426 (naming 13), missing Host 400', async () => {
  const cases = [
    [L.upgradeRequest({ key: 'c2hvcnQ=' }), 400],
    [L.upgradeRequest({ key: '' }), 400],
    [L.upgradeRequest({ method: 'POST' }), 405],
    [L.upgradeRequest({ version: '8' }), 426],
    ['GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n', 400],
  ];
  for (const [req, want] of cases) {
    const [res] = L.responses(await L.raw(srv.port, req));
    assert.strictEqual(res.status, want, req.split('\r\n')[0] + ' ' + JSON.stringify(res));
    assert.strictEqual(res.headers.connection, 'close');
    if (want === 426) assert.strictEqual(res.headers['sec-websocket-version'], '13');
    assert.ok(res.body.length > 0, 'the refusal says why');
  }
});

t.test('Origin allow-list: listed origin 101, other origin 403, no Origin (not a browser) 101', async () => {
  const ok = await L.raw(srv.port, L.upgradeRequest({ extra: 'Origin: http://good.example\r\n' }), { until: until101 });
  assert.match(ok.toString(), /^HTTP\/1\.1 101/);
  const [bad] = L.responses(await L.raw(srv.port, L.upgradeRequest({ extra: 'Origin: http://evil.example\r\n' })));
  assert.strictEqual(bad.status, 403);
  const none = await L.raw(srv.port, L.upgradeRequest(), { until: until101 });
  assert.match(none.toString(), /^HTTP\/1\.1 101/);
});

t.test('431 for a head over 8 KiB, 400 for a malformed one', async () => {
  const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10000)}\r\n\r\n`;
  const [r1] = L.responses(await L.raw(srv.port, big));
  assert.strictEqual(r1.status, 431);
  const [r2] = L.responses(await L.raw(srv.port, 'GET / HTTP/1.1\r\nHost x\r\n\r\n'));
  assert.strictEqual(r2.status, 400);
  const [r3] = L.responses(await L.raw(srv.port, 'GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.strictEqual(r3.status, 400, 'bad percent-encoding');
});

t.test('request framing: TE+CL 400, two CL 400, TE alone 501, body over 1 MiB 413', async () => {
  const cases = [
    ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc', 400],
    ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 400],
    ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc', 400],
    ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 501],
    ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n', 413],
  ];
  for (const [req, want] of cases) {
    const rs = L.responses(await L.raw(srv.port, req));
    assert.strictEqual(rs.length, 1, 'exactly one answer, then the connection closes');
    assert.strictEqual(rs[0].status, want, req.split('\r\n').slice(0, 4).join(' | '));
  }
  // Even equal Content-Length values are refused: a proxy in front may have framed either.
  const rs = L.responses(await L.raw(srv.port,
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc'));
  assert.strictEqual(rs[0].status, 400);
});

t.test('keep-alive: pipelined requests are answered in order on one connection', async () => {
  const reqs = 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n' +
    'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
    'HEAD /c HTTP/1.1\r\nHost: x\r\n\r\n' +
    'GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
  const buf = await L.raw(srv.port, reqs);
  // HEAD carries Content-Length without a body: split by hand.
  const text = buf.toString();
  const heads = text.split(/(?=HTTP\/1\.1 )/);
  assert.strictEqual(heads.length, 4, JSON.stringify(text));
  for (const h of heads) assert.match(h, /^HTTP\/1\.1 426 /);
  assert.ok(!/\r\n\r\nThis is/.test(heads[2]), 'no body after the HEAD answer');
  assert.match(heads[3], /\r\nConnection: close\r\n/i);
});

t.test('pipelined requests sent byte by byte are answered too', async () => {
  const reqs = 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n';
  const buf = await L.raw(srv.port, null, { chunks: [...reqs].map((ch) => Buffer.from(ch)), until: untilResponses(2), ms: 8000 });
  assert.strictEqual(L.responses(buf).length, 2);
});

t.test('HTTP/1.0 gets one answer and the connection closes', async () => {
  const buf = await L.raw(srv.port, 'GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n');
  const rs = L.responses(buf);
  assert.strictEqual(rs.length, 1);
  assert.strictEqual(rs[0].headers.connection, 'close');
});

t.test('HTTP then an upgrade on the same connection, frames sent behind the request head', async () => {
  const req = 'GET /x HTTP/1.1\r\nHost: x\r\n\r\n' + L.upgradeRequest();
  const data = Buffer.concat([Buffer.from(req), L.frame(1, 'first'), L.frame(2, Buffer.from([1, 2, 3]))]);
  const buf = await L.raw(srv.port, data, {
    until: (b) => {
      const i = b.indexOf('HTTP/1.1 101');
      if (i < 0) return false;
      const f = L.framesAfter101(b.subarray(i));
      return f && f.length >= 2;
    },
  });
  const i = buf.indexOf('HTTP/1.1 101');
  assert.ok(buf.toString().startsWith('HTTP/1.1 426'), 'plain request answered first');
  const frames = L.framesAfter101(buf.subarray(i));
  assert.deepStrictEqual(frames.map((f) => [f.opcode, f.payload.toString('hex')]),
    [[1, Buffer.from('first').toString('hex')], [2, '010203']]);
});

t.test('an unmasked client frame is a protocol error: close 1002', async () => {
  const data = Buffer.concat([Buffer.from(L.upgradeRequest()), L.frame(1, 'x', { mask: false })]);
  const buf = await L.raw(srv.port, data);
  const frames = L.framesAfter101(buf);
  assert.strictEqual(frames.length, 1);
  assert.strictEqual(frames[0].opcode, 8);
  assert.strictEqual(frames[0].payload.readUInt16BE(0), 1002);
});

t.test('a request split at every byte still upgrades', async () => {
  const req = L.upgradeRequest({ key: 'dGhlIHNhbXBsZSBub25jZQ==' });
  const buf = await L.raw(srv.port, null, { chunks: [...req].map((c) => Buffer.from(c)), until: until101, ms: 15000 });
  assert.match(buf.toString(), /s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
});
