'use strict';
// Regressions of issue 12 (a peer may split its bytes anywhere), over real sockets with the bytes
// in separate TCP segments (write, pause 50 ms, write), against `wsk serve`:
//   (a) a fragmented text message whose first fragment is empty, its continuation in a later
//       segment: echoed as "hi" (the server crashed with SIGSEGV);
//   (b) a keep-alive connection with a big static-file answer still queued, then a request with a
//       body over 4 KiB and `Connection: close` completing in a later segment after the client
//       read part of the answer: the flush of the linger freed the connection's input state while
//       the read path still used it (SIGSEGV). Both answers must be whole once the client reads.
//   (c) a peer that writes after its own close frame (a ping) while it has not read the echo of a
//       big message yet: the server used to close() at once after the closing handshake, so the
//       late ping drew a RST that threw away the part of the echo still in the server's kernel
//       queue. The server now lingers (FIN, input discarded until the peer's FIN): the echo and the
//       close frame arrive whole.
// After each, the server is still running and serves a new connection.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const L = require('./server_lib');

const t = L.suite('split_regress', { timeoutMs: 120000 });
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'wsk-split-'));
t.cleanup(() => fs.rmSync(base, { recursive: true, force: true }));

const headEnd = (b) => b.indexOf('\r\n\r\n');

// The server process is still running (checked after a moment, so that a crash is seen).
async function alive(srv) {
  await L.sleep(100);
  const { exitCode, signalCode } = srv.child;
  assert.ok(exitCode === null && signalCode === null, `the server exited with ${signalCode || exitCode}; ` +
    `stderr: ${srv.stderr.slice(-5).join(' | ')}`);
}

// The server is alive and answers an echo on a new connection.
async function stillServing(srv) {
  await alive(srv);
  const c = await L.client(`ws://127.0.0.1:${srv.port}/`);
  c.ws.send('still there');
  assert.strictEqual(String((await c.next()).data), 'still there');
  c.ws.close();
}

t.test('(a) fragmented text, empty first fragment, continuation in a later segment: echoed', async () => {
  const srv = await L.serve(['--echo', '--quiet']);
  t.cleanup(() => srv.stop('SIGKILL'));
  const c = await L.segments(srv.port);
  c.s.write(L.upgradeRequest());
  await c.until((b) => headEnd(b) >= 0);
  assert.match(c.buf().toString('latin1'), /^HTTP\/1\.1 101 /);
  // 01 80 key (masked empty payload), then 80 82 key + masked "hi", 50 ms apart.
  await c.send([L.frame(0x1, '', { fin: false }), L.frame(0x0, 'hi')]);
  const frames = () => L.framesAfter101(c.buf()) || [];
  await c.until(() => frames().length >= 1, 3000).catch(async (e) => {
    await alive(srv);
    throw e;
  });
  assert.deepStrictEqual(frames().map((f) => [f.opcode, f.fin, String(f.payload)]), [[1, true, 'hi']]);
  c.s.destroy();
  await stillServing(srv);
});

t.test('(b) queued file answer, then a >4 KiB body with Connection: close completing later', async () => {
  // How much of an answer the kernel absorbs (the server's send buffer and our receive buffer) is
  // not known in advance, so each connection asks for another size: on one of them the server's
  // queue holds a small rest when the request completes, after the client read part of the answer.
  const root = path.join(base, 'root');
  fs.mkdirSync(root);
  const sizes = [];
  for (let kb = 1024; kb <= 8192; kb += 256) sizes.push(kb * 1024);
  for (const n of sizes) fs.writeFileSync(path.join(root, `f${n}.bin`), Buffer.alloc(n, 0x61));
  const srv = await L.serve(['--echo', '--root', root, '--quiet']);
  t.cleanup(() => srv.stop('SIGKILL'));
  const body = Buffer.alloc(5000, 0x62);
  const post = Buffer.from(`POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n` +
                           'Connection: close\r\n\r\n');
  const conns = await Promise.all(sizes.map(() => L.segments(srv.port)));
  await Promise.all(conns.map(async (c, i) => {
    c.s.pause(); // do not read: the answer fills the socket, the rest stays in the server's queue
    c.s.write(`GET /f${sizes[i]}.bin HTTP/1.1\r\nHost: x\r\n\r\n`);
    await L.sleep(300);
    c.s.write(Buffer.concat([post, body.subarray(0, 4600)]));
    await L.sleep(100);
    c.s.resume(); // read half a MiB (room in the server's socket, too little to report it writable)
    await c.until((b) => b.length >= 512 * 1024, 5000);
    c.s.pause();
    await L.sleep(100);
    c.s.write(body.subarray(4600));
  }));
  await alive(srv);
  await Promise.all(conns.map(async (c) => {
    c.s.resume();
    await c.closed;
  }));
  await alive(srv);
  conns.forEach((c, i) => {
    const [file, form, ...more] = L.responses(c.buf());
    assert.strictEqual(file.status, 200, `connection ${i}`);
    assert.strictEqual(file.body.length, sizes[i]);
    assert.ok(/^a*$/.test(file.body), `the file answer of connection ${i} is intact`);
    assert.strictEqual(form.status, 405, `connection ${i}: POST to the static root`);
    assert.strictEqual(form.headers.connection, 'close');
    assert.deepStrictEqual(more, []);
  });
  await stillServing(srv);
});

t.test('(c) a ping after the close frame, the echo not read yet: echo and close arrive whole', async () => {
  const srv = await L.serve(['--echo', '--quiet']);
  t.cleanup(() => srv.stop('SIGKILL'));
  const size = 4 * 1024 * 1024; // more than the kernel's buffers take before we read
  const conns = await Promise.all([0, 1, 2].map(() => L.segments(srv.port)));
  await Promise.all(conns.map(async (c) => {
    c.s.write(L.upgradeRequest());
    await c.until((b) => headEnd(b) >= 0);
    c.s.pause(); // the echo fills the socket buffers and waits
    c.s.write(Buffer.concat([L.frame(0x2, Buffer.alloc(size, 0x63)), L.frame(0x8, Buffer.from([0x03, 0xe8]))]));
    await L.sleep(400); // the server echoes what fits, answers the close frame
    c.s.write(L.frame(0x9, 'late')); // RFC 6455 says not to; a peer may anyway
    await L.sleep(200);
    c.s.resume();
    await c.until(() => (L.framesAfter101(c.buf()) || []).length >= 2, 10000);
    c.s.end();
    await c.closed;
    const frames = L.framesAfter101(c.buf());
    assert.deepStrictEqual(frames.map((f) => [f.opcode, f.payload.length]), [[2, size], [8, 2]]);
    assert.ok(frames[0].payload.every((b) => b === 0x63), 'the echo is intact');
  }));
  await stillServing(srv);
});
