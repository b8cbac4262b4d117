'use strict';
// `wsk connect` driven through pipes, against `wsk serve --echo` and Node's `ws` server:
// -x with --wait or the server's close, interactive lines (text and --binary), --echo, request
// headers / subprotocol / Origin, --show-frames on stderr with stdout left to the messages,
// --reconnect across a server restart, Ctrl-C, and the exit status with its one-line reason.

const assert = require('assert');
const h = require('./lib/harness');
const { wskConnect } = require('./lib/client_probe');
const { startServer } = require('./lib/ws_server');

const t = h.suite('client_cli', { timeoutMs: 120000 });

let echo; // wsk serve --echo
let ws; // the ws server
t.test('setup: wsk serve --echo and a ws server', async () => {
  echo = await h.startWsk(['--echo', '--quiet']);
  ws = await startServer();
  ws.url = (p) => `ws://127.0.0.1:${ws.port}${p}`;
});

t.test('-x sends in order, prints the answers, closes after --wait', async () => {
  const t0 = Date.now();
  const c = wskConnect([echo.url, '-x', 'one', '-x', 'h\u00e9 two', '-x', '', '--wait', '0.5']);
  assert.strictEqual(await c.wait(), 0, c.stderr.join(' | '));
  assert.deepStrictEqual(c.lines, ['one', 'h\u00e9 two', '']);
  assert.ok(Date.now() - t0 >= 500, 'exited before --wait');
  assert.deepStrictEqual(c.stderr, []);
});

t.test('-x exits at the server\'s close, before --wait', async () => {
  const t0 = Date.now();
  const c = wskConnect([ws.url('/close1001'), '-x', 'hello', '--wait', '20']);
  assert.strictEqual(await c.wait(), 0, c.stderr.join(' | '));
  assert.ok(Date.now() - t0 < 5000);
});

t.test('-x --binary sends binary; binary answers are flagged hex', async () => {
  const c = wskConnect([echo.url, '--binary', '-x', 'hello', '--wait', '0.3']);
  assert.strictEqual(await c.wait(), 0, c.stderr.join(' | '));
  assert.deepStrictEqual(c.lines, ['< [binary 5 bytes] 68656c6c6f']);
});

t.test('interactive: stdin lines out, answers in, end of stdin closes with 1000 and exits 0', async () => {
  const c = wskConnect([ws.url('/echo')]);
  c.write('first line\n');
  await c.next(/^first line$/);
  c.write('second\r\nthird ');
  await c.next(/^second$/);
  c.write('part\n');
  await c.next(/^third part$/);
  const closes = ws.seen.closes.length;
  c.end();
  assert.strictEqual(await c.wait(), 0, c.stderr.join(' | '));
  await h.sleep(50);
  assert.strictEqual(ws.seen.closes.length, closes + 1);
  assert.strictEqual(ws.seen.closes[closes].code, 1000);
});

t.test('interactive --binary, and a line that is not UTF-8 is refused as text', async () => {
  let c = wskConnect([echo.url, '--binary']);
  c.write('bin\n');
  await c.next(/^< \[binary 3 bytes\] 62696e$/);
  c.end();
  assert.strictEqual(await c.wait(), 0);
  c = wskConnect([echo.url]);
  c.write(Buffer.from([0xff, 0x0a]));
  await c.stderrMatch(/not sent: the line is not valid UTF-8/);
  c.write('ok\n');
  await c.next(/^ok$/);
  c.end();
  assert.strictEqual(await c.wait(), 0);
});

t.test('lines typed before the connection opens are sent once it does', async () => {
  const c = wskConnect([ws.url('/echo')]);
  c.write('early 1\nearly 2\n');
  await c.next(/^early 1$/);
  await c.next(/^early 2$/);
  c.end();
  assert.strictEqual(await c.wait(), 0);
});

t.test('--echo sends every message back with its opcode and exits at the server\'s close', async () => {
  const before = ws.seen.echoed.length;
  const c = wskConnect([ws.url('/push'), '--echo']);
  assert.strictEqual(await c.wait(), 0, c.stderr.join(' | '));
  const got = ws.seen.echoed.slice(before);
  assert.deepStrictEqual(got.map((m) => [m.data.toString('hex'), m.isBinary]), [
    [Buffer.from('push text \u00e9').toString('hex'), false], ['0001feff', true], ['', false]]);
  assert.deepStrictEqual(c.lines, ['push text \u00e9', '< [binary 4 bytes] 0001feff', '']);
});

t.test('-H, --subprotocol and --origin reach the server', async () => {
  const c = wskConnect([ws.url('/private/info'), '-H', 'X-Token: secret', '--subprotocol', 'chat.v1',
    '--subprotocol', 'chat.v2', '--origin', 'http://cli.test', '-x', 'x', '--wait', '0.3']);
  assert.strictEqual(await c.wait(), 0, c.stderr.join(' | '));
  const info = JSON.parse(c.lines[0]);
  assert.deepStrictEqual(info, { origin: 'http://cli.test', token: 'secret', offered: 'chat.v1, chat.v2',
                                 path: '/private/info' });
  assert.ok(c.stderr.includes('wsk connect: connected, subprotocol chat.v2'), c.stderr.join(' | '));
});

t.test('--show-frames: handshake lines and frame headers on stderr, messages alone on stdout', async () => {
  const c = wskConnect([echo.url, '--show-frames', '-x', 'hello', '--wait', '0.3']);
  assert.strictEqual(await c.wait(), 0, c.stderr.join(' | '));
  assert.deepStrictEqual(c.lines, ['hello']);
  const e = c.stderr;
  assert.strictEqual(e[0], '> GET / HTTP/1.1');
  assert.ok(e.includes(`> Host: 127.0.0.1:${echo.port}`), e.join('\n'));
  assert.ok(e.includes('> Sec-WebSocket-Version: 13'));
  assert.ok(e.includes('< HTTP/1.1 101 Switching Protocols'));
  assert.ok(e.some((l) => /^< Sec-WebSocket-Accept: \S{28}$/.test(l)));
  const frames = e.filter((l) => / frame /.test(l));
  assert.deepStrictEqual(frames, [
    '> frame FIN=1 RSV=000 opcode=0x1 (text) MASK=1 len=5',
    '< frame FIN=1 RSV=000 opcode=0x1 (text) MASK=0 len=5',
    '> frame FIN=1 RSV=000 opcode=0x8 (close) MASK=1 len=2',
    '< frame FIN=1 RSV=000 opcode=0x8 (close) MASK=0 len=2']);
});

t.test('--show-frames shows fragments as they cross the wire', async () => {
  const c = wskConnect([ws.url('/frag'), '--show-frames', '-x', 'x', '--wait', '0.3']);
  assert.strictEqual(await c.wait(), 0, c.stderr.join(' | '));
  const frames = c.stderr.filter((l) => l.startsWith('< frame'));
  assert.deepStrictEqual(frames.slice(0, 5), [
    '< frame FIN=0 RSV=000 opcode=0x1 (text) MASK=0 len=7',
    '< frame FIN=0 RSV=000 opcode=0x0 (continuation) MASK=0 len=11',
    '< frame FIN=1 RSV=000 opcode=0x0 (continuation) MASK=0 len=5',
    '< frame FIN=0 RSV=000 opcode=0x2 (binary) MASK=0 len=3',
    '< frame FIN=1 RSV=000 opcode=0x0 (continuation) MASK=0 len=2']);
  assert.deepStrictEqual(c.lines.slice(0, 2), ['hello, fragmented world', '< [binary 5 bytes] 0102030405']);
});

t.test('exit status and one-line reasons', async () => {
  const cases = [
    [['ws://127.0.0.1:1/', '-x', 'a'], 1, /^wsk connect: connect to 127\.0\.0\.1:1: Connection refused$/],
    [[ws.url('/close4000'), '-x', 'a'], 1, /^wsk connect: closed with code 4000 \(server says bye\)$/],
    [[ws.url('/private/x'), '-x', 'a'], 1,
     /^wsk connect: server refused the upgrade: 401 Unauthorized: token missing or wrong$/],
    [[ws.url('/die')], 1, /^wsk connect: the connection ended without a closing handshake \(1006\)$/],
    [['http://127.0.0.1/', '-x', 'a'], 2, /^wsk connect: not a WebSocket URL/],
    [['ws://user@127.0.0.1/'], 2, /^wsk connect: user info \(user@host\) is not supported/],
    [['ws://127.0.0.1/#frag'], 2, /fragment/],
    [[], 2, /^wsk connect: a URL is required; try 'wsk connect --help'$/],
    [[echo.url, '--bogus'], 2, /^wsk connect: unknown option '--bogus'; try 'wsk connect --help'$/],
    [['ws://no-such-host.invalid/', '-x', 'a'], 1, /^wsk connect: cannot resolve no-such-host\.invalid: /],
  ];
  for (const [args, status, line] of cases) {
    const c = wskConnect(args);
    assert.strictEqual(await c.wait(), status, `${args.join(' ')}: ${c.stderr.join(' | ')}`);
    assert.ok(line.test(c.stderr[0] || ''), `${args.join(' ')}: stderr ${JSON.stringify(c.stderr)}`);
    assert.deepStrictEqual(c.lines, []);
  }
});

t.test('--reconnect: comes back after the server restarts; Ctrl-C closes with 1000', async () => {
  const port = await h.freePort();
  let srv = await h.startWsk(['--echo', '--quiet'], { port });
  const c = wskConnect([srv.url, '--reconnect']);
  c.write('before\n');
  await c.next(/^before$/);
  await srv.proc.stop('SIGTERM'); // closes with 1001: a clean close, reconnection follows
  await c.stderrMatch(/^wsk connect: reconnecting in \d+ ms \(attempt 1\)$/);
  c.write('while down\n');
  srv = await h.startWsk(['--echo', '--quiet'], { port });
  await c.next(/^while down$/, 15000);
  c.write('after\n');
  await c.next(/^after$/);
  process.kill(c.pid, 'SIGINT');
  assert.strictEqual(await c.wait(), 0, c.stderr.join(' | '));
  await srv.proc.stop('SIGTERM');
});

t.test('--reconnect stops after a 401 (another attempt would get it too), and says so', async () => {
  const c = wskConnect([ws.url('/private/x'), '--reconnect']);
  assert.strictEqual(await c.wait(), 1, c.stderr.join(' | '));
  assert.deepStrictEqual(c.stderr, [
    'wsk connect: server refused the upgrade: 401 Unauthorized: token missing or wrong',
    'wsk connect: not reconnecting: the server refused the upgrade with status 401, which another attempt would get too',
    'wsk connect: server refused the upgrade: 401 Unauthorized: token missing or wrong']);
});

t.after(async () => {
  if (echo) await echo.proc.stop('SIGTERM');
  if (ws) await ws.close();
});
t.run();
