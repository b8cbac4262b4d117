'use strict';
// Allocation failures: in a failmalloc build (cmake -DWSK_FAILMALLOC=ON, with ASan+UBSan; `make
// failmalloc`), make the n-th allocation of the library fail during a scripted session, for every
// n from 1 to the number of allocations the session makes (and a few more), on one server process:
//   a connection that sends nothing (dropped at the 300 ms handshake timeout, which needs the
//   timer of the server's deadlines); a plain HTTP request (on_http reads its long query
//   parameter); a WebSocket upgrade with a subprotocol (and user data); a text message; a 100 kB
//   binary message in 3 fragments; an 8 MB message (its echo is more than the socket takes at
//   once, so it is queued); a ping; the closing handshake.
// Each session must either complete, or end cleanly for the client that met the failure: an HTTP
// error status (500, 503), a close with 1011, or a dropped connection (1006). Never a hang, a
// corrupted stream (wrong echo, protocol error) or a crash. A witness WebSocket opened before the
// first failure must keep working throughout, and at the end the server must exit 0 on SIGTERM with
// no sanitizer report (leaks included); then all of it again with permessage-deflate.
// The same for a client session (tests/helpers/failmalloc_client: wsk_connect, a text and a
// 100 kB message echoed by a ws server, the closing handshake), each n on a fresh loop: the session
// completes, or wsk_connect refuses, or on_error then exactly one on_close; no hang, no wrong echo,
// no leak. The client sessions too run again with permessage-deflate.
// Usage: node tests/failmalloc/run.js BUILD_DIR   (or with WSK_BUILD set)
if (process.argv[2]) process.env.WSK_BUILD = process.argv[2];
console.log(`# event loop: ${process.env.WSK_LOOP_BACKEND || 'default'}`);
const assert = require('assert');
const path = require('path');
const L = require('../integration/server_lib');
const WebSocket = require('ws');

const SESSION_MS = 5000;

async function silentStep(port) {
  const t0 = Date.now();
  const buf = await L.raw(port, '', { ms: SESSION_MS });
  assert.strictEqual(buf.length, 0, 'nothing is sent to a silent connection');
  assert.ok(Date.now() - t0 < 2000, `dropped after ${Date.now() - t0} ms`);
  return 'silent dropped';
}

// (a query parameter longer than the request's inline memory: decoding it allocates)
const TOKEN = 'a%20b'.repeat(100);

function httpStep(port) {
  return L.raw(port, `GET /x?token=${TOKEN} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`, { ms: SESSION_MS })
    .then((buf) => {
      if (buf.length === 0) return 'http dropped';
      const text = buf.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      assert.ok(m, `not an HTTP answer: ${JSON.stringify(text.slice(0, 80))}`);
      if (m[1] === '200') assert.ok(text.endsWith('\r\n\r\nhello\n'), 'the 200 carries its body');
      else assert.ok(['500', '503'].includes(m[1]), `HTTP ${m[1]}`);
      return `http ${m[1]}`;
    });
}

// The WebSocket part: 'ok', 'refused STATUS' or 'closed CODE at STEP'. Rejects on a hang or on
// anything a failed allocation must never cause.
function wsStepWith(port, perMessageDeflate) {
  const big = Buffer.alloc(100000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  const large = Buffer.alloc(8 << 20, 0x5a);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, ['echo'], { perMessageDeflate });
    let step = 'handshake';
    const fail = (why) => {
      clearTimeout(timer);
      ws.terminate();
      reject(new Error(`${why} (step ${step})`));
    };
    const timer = setTimeout(() => fail(`no progress within ${SESSION_MS} ms`), SESSION_MS);
    ws.on('unexpected-response', (req, res) => {
      clearTimeout(timer);
      req.destroy();
      if (![500, 503].includes(res.statusCode)) fail(`upgrade answered ${res.statusCode}`);
      else resolve(`refused ${res.statusCode}`);
    });
    ws.on('error', () => {}); // 'close' follows
    ws.on('open', () => {
      if (ws.protocol !== 'echo') return fail(`subprotocol ${JSON.stringify(ws.protocol)}`);
      if (perMessageDeflate && ws.extensions !== 'permessage-deflate') return fail('no deflate');
      step = 'text';
      ws.send('hello');
    });
    ws.on('message', (data, isBinary) => {
      if (step === 'text') {
        if (isBinary || data.toString() !== 'hello') return fail('wrong text echo');
        step = 'fragments';
        ws.send(big.subarray(0, 30000), { binary: true, fin: false });
        ws.send(big.subarray(30000, 60000), { binary: true, fin: false });
        ws.send(big.subarray(60000), { binary: true, fin: true });
      } else if (step === 'fragments') {
        if (!isBinary || !data.equals(big)) return fail('wrong binary echo');
        step = 'large';
        ws.send(large);
      } else if (step === 'large') {
        if (!isBinary || !data.equals(large)) return fail('wrong large echo');
        step = 'ping';
        ws.ping('p');
      } else {
        fail('unexpected message');
      }
    });
    ws.on('pong', (d) => {
      if (step !== 'ping' || d.toString() !== 'p') return fail('unexpected pong');
      step = 'close';
      ws.close(1000, 'done');
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      if (step === 'close' && code === 1000) return resolve('ok');
      if (code !== 1011 && code !== 1006) return fail(`closed with ${code}`);
      resolve(`closed ${code} at ${step}`);
    });
  });
}

async function command(srv, line, answer) {
  const before = srv.stdout.length;
  srv.child.stdin.write(line + '\n');
  await L.sleep(0);
  for (let i = 0; i < 500; i++) {
    const got = srv.stdout.slice(before).find((l) => l.startsWith(answer));
    if (got) return got;
    await L.sleep(10);
  }
  throw new Error(`no "${answer}" answer to "${line}"`);
}

async function witnessEcho(w, text) {
  w.ws.send(text);
  const m = await w.next(SESSION_MS);
  assert.strictEqual(m.data.toString(), text, 'the witness connection still echoes');
}

// The server sessions; with `deflate` (ws perMessageDeflate options) the server has
// permessage-deflate on, and zlib's allocations fail in turn too.
async function serverSessions(deflate) {
  const bin = path.join(L.BUILD, 'tests', 'failmalloc_server');
  const srv = await L.start(bin, deflate ? ['--deflate'] : [], { stdin: 'pipe' });
  const wsStep = (port) => wsStepWith(port, deflate);
  t.cleanup(() => srv.stop('SIGKILL'));
  const witness = await L.client(`ws://127.0.0.1:${srv.port}/`, { perMessageDeflate: false });
  await witnessEcho(witness, 'warm-up');

  // How many allocations does one session make?
  await command(srv, 'arm 0', 'armed 0');
  assert.strictEqual(await silentStep(srv.port), 'silent dropped');
  assert.strictEqual(await httpStep(srv.port), 'http 200');
  assert.strictEqual(await wsStep(srv.port), 'ok');
  await L.sleep(50);
  const total = Number((await command(srv, 'count', 'count ')).split(' ')[1]);
  assert.ok(total > 5, `the session made ${total} allocations`);
  console.log(`# one session makes ${total} allocations`);

  const outcomes = {};
  for (let n = 1; n <= total + 5; n++) {
    await command(srv, `arm ${n}`, `armed ${n}`);
    let out;
    try {
      out = `${await silentStep(srv.port)}, ${await httpStep(srv.port)}, ${await wsStep(srv.port)}`;
    } catch (e) {
      throw new Error(`allocation ${n} failed: ${e.message}\nserver stderr: ${srv.stderr.join('\n')}`);
    }
    outcomes[out] = (outcomes[out] || 0) + 1;
    await witnessEcho(witness, `witness ${n}`);
    assert.strictEqual(srv.child.exitCode, null, 'the server is running');
  }
  for (const [k, v] of Object.entries(outcomes)) console.log(`# ${v} x ${k}`);

  await command(srv, 'arm 0', 'armed 0');
  assert.strictEqual(`${await silentStep(srv.port)}, ${await httpStep(srv.port)}, ` +
    `${await wsStep(srv.port)}`, 'silent dropped, http 200, ok');
  witness.ws.close(1000);
  await witness.closed;
  const exit = await srv.stop('SIGTERM');
  const reports = srv.stderr.filter((l) => /Sanitizer|runtime error|leak/i.test(l));
  assert.deepStrictEqual(reports, [], srv.stderr.join('\n'));
  assert.strictEqual(exit.code, 0, `exit ${JSON.stringify(exit)}`);
}

const t = L.suite('failmalloc', { timeoutMs: 1200000 });
t.test('the n-th allocation fails, for every n of a scripted session', () => serverSessions(false));
t.test('the same with permessage-deflate', () => serverSessions({ threshold: 0 }));

// The client sessions against a ws echo server; with `deflate` both offer permessage-deflate.
async function clientSessions(deflate) {
  const { WebSocketServer } = WebSocket;
  const wss = await new Promise((resolve) => {
    const w = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate },
                                  () => resolve(w));
  });
  wss.on('connection', (ws) => ws.on('message', (d, binary) => ws.send(d, { binary })));
  t.cleanup(() => wss.close());
  const url = `ws://127.0.0.1:${wss.address().port}/`;
  const bin = path.join(L.BUILD, 'tests', 'failmalloc_client');
  const run = (first, last) => new Promise((resolve, reject) => {
    const args = [url, String(first), String(last), ...(deflate ? ['--deflate'] : [])];
    const child = require('child_process').execFile(bin, args, { timeout: 300000 },
      (err, stdout, stderr) => {
        if (err && err.code !== 1) return reject(new Error(`${err.message}\n${stderr}`));
        resolve({ code: err ? err.code : 0, lines: stdout.trim().split('\n'), stderr });
      });
    child.on('error', reject);
  });
  const first = await run(0, 0);
  const m = /^0 ok (\d+)$/.exec(first.lines[0]);
  assert.ok(m, first.lines.join('\n'));
  const total = Number(m[1]);
  console.log(`# one client session makes ${total} allocations`);
  const r = await run(1, total + 5);
  const reports = r.stderr.split('\n').filter((l) => /Sanitizer|runtime error|leak/i.test(l));
  assert.deepStrictEqual(reports, [], r.stderr);
  assert.deepStrictEqual(r.lines.filter((l) => / bad /.test(l)), [], 'no session went bad');
  assert.strictEqual(r.code, 0);
  const kinds = {};
  for (const l of r.lines) {
    const k = l.split(' ').slice(1, 3).join(' ').replace(/^ok \d+$/, 'ok');
    kinds[k] = (kinds[k] || 0) + 1;
  }
  for (const [k, v] of Object.entries(kinds)) console.log(`# ${v} x ${k}`);
  assert.ok(r.lines.some((l) => / failed /.test(l)), 'some allocations did fail');
}

t.test('the n-th allocation of a client session fails, for every n', () => clientSessions(false));
t.test('the same with permessage-deflate', () => clientSessions({ threshold: 0 }));
