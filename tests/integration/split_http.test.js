'use strict';
// The HTTP path of `wsk serve` split at every position: each request shape the server handles
// (GET, HEAD, a body, one over 4 KiB, pipelined requests, the upgrade request followed by a
// frame, refused requests) is sent on one connection per split point, in two writes (two TCP
// segments, 10 ms apart, so that the server reads them separately), and the answer must be byte
// for byte the answer to the same bytes sent in one write. One server, many connections at once.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const L = require('./server_lib');

const t = L.suite('split_http', { timeoutMs: 60000 });
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'wsk-split-http-'));
t.cleanup(() => fs.rmSync(base, { recursive: true, force: true }));

const PARALLEL = 64; // connections at a time
const PAUSE_MS = 10; // between the two writes

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const req = (lines, body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`;
const get = (target, close) => req([`GET ${target} HTTP/1.1`, 'Host: x', ...(close ? ['Connection: close'] : [])]);
// A masked text frame with a fixed key, so that every connection sends the same bytes.
function maskedText(text) {
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const payload = Buffer.from(text);
  const out = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), key, payload]);
  for (let i = 0; i < payload.length; i++) out[6 + i] ^= key[i & 3];
  return out;
}
const upgrade = (version) => req(['GET /chat HTTP/1.1', 'Host: x', 'Upgrade: websocket',
  'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, `Sec-WebSocket-Version: ${version}`]);

// name -> { bytes, status: the statuses of the answers in order, open: a WebSocket follows (the
// server keeps the connection open) }
const SHAPES = {
  GET: { bytes: get('/hello.txt', true), status: [200] },
  HEAD: { bytes: req(['HEAD /hello.txt HTTP/1.1', 'Host: x', 'Connection: close']), status: [200] },
  'body, then a request': {
    bytes: req(['POST /form HTTP/1.1', 'Host: x', 'Content-Length: 27'], 'name=split&where=everywhere') +
           get('/hello.txt', true),
    status: [405, 200],
  },
  // over 4 KiB: the part that waits for the rest is kept in a buffer of its own, not copied
  'body over 4 KiB, then a request': {
    bytes: req(['POST /form HTTP/1.1', 'Host: x', 'Content-Length: 4500'], 'b'.repeat(4500)) +
           get('/hello.txt', true),
    status: [405, 200],
  },
  pipelined: { bytes: get('/hello.txt') + get('/missing') + get('/', true), status: [200, 404, 200] },
  'upgrade and a frame': {
    bytes: Buffer.concat([Buffer.from(upgrade(13)), maskedText('split anywhere')]),
    status: [101],
    open: true,
  },
  'refused: Content-Length with Transfer-Encoding': {
    bytes: req(['POST /form HTTP/1.1', 'Host: x', 'Content-Length: 5', 'Transfer-Encoding: chunked'], 'hello'),
    status: [400],
  },
  'refused: upgrade of another version': { bytes: upgrade(8), status: [426] },
};

let srv;

// The 101 and the echo of the frame are in.
const echoed = (b) => (L.framesAfter101(b) || []).length >= 1;

// The answer to the pieces sent in separate writes: until the server closes, or when it keeps
// the connection open, until the 101 and the echo.
async function exchange(pieces, open) {
  const c = await L.segments(srv.port);
  await c.send(pieces, PAUSE_MS);
  if (open) await c.until(echoed, 5000);
  else await c.closed;
  c.s.destroy();
  return c.buf();
}

t.test('set up a root and the server', async () => {
  const root = path.join(base, 'root');
  fs.mkdirSync(root);
  fs.writeFileSync(path.join(root, 'hello.txt'), 'hello, split world\n');
  fs.writeFileSync(path.join(root, 'index.html'), '<p>index</p>');
  srv = await L.serve(['--echo', '--root', root, '--quiet']);
  t.cleanup(() => srv.stop('SIGKILL'));
});

for (const [name, shape] of Object.entries(SHAPES)) {
  t.test(`${name}: split at every position, the same answer as unsplit`, async () => {
    const bytes = Buffer.from(shape.bytes);
    const ref = await exchange([bytes], shape.open);
    if (shape.open) {
      assert.match(ref.toString('latin1'), /^HTTP\/1\.1 101 /);
      assert.deepStrictEqual(L.framesAfter101(ref).map((f) => String(f.payload)), ['split anywhere']);
    } else {
      assert.deepStrictEqual(L.responses(ref).map((r) => r.status), shape.status, `${name} unsplit`);
    }
    const failures = [];
    for (let at = 1; at < bytes.length; at += PARALLEL) {
      const batch = [];
      for (let k = at; k < Math.min(at + PARALLEL, bytes.length); k++) {
        batch.push(exchange([bytes.subarray(0, k), bytes.subarray(k)], shape.open).then((got) => {
          if (!got.equals(ref)) failures.push(`split at ${k}: ${JSON.stringify(got.toString('latin1').slice(0, 120))}`);
        }, (e) => failures.push(`split at ${k}: ${e.message}`)));
      }
      await Promise.all(batch);
    }
    assert.deepStrictEqual(failures, [], `${failures.length} of ${bytes.length - 1} split points answered differently`);
    assert.ok(srv.child.exitCode === null && srv.child.signalCode === null, 'the server is running');
  });
}
