'use strict';
// The `wsk` command line as a new user meets it: a bad argument is one line of error plus where
// the options are (exit 2), --help documents the exit statuses 0, 1 and 2, a second server on a
// port in use fails with "Address already in use" in every mode (--threads included), --root must
// be a directory, the server says how many connections it closes and that it stopped,
// `wsk connect --handshake-timeout` and `--close-timeout`, and the access log of `wsk serve --log text|json`.
const assert = require('assert');
const net = require('net');
const path = require('path');
const { spawnSync } = require('child_process');
const L = require('./server_lib');

const t = L.suite('cli', { timeoutMs: 90000 });
const wsk = path.join(L.BUILD, 'wsk');
const run = (args) => spawnSync(wsk, args, { encoding: 'utf8', timeout: 10000 });

t.test('a bad argument: one line of error and where the options are, exit 2', () => {
  const cases = [
    [['serve', '--port', 'x'], 'serve', /bad port 'x'/],
    [['serve', '--bogus'], 'serve', /unknown option '--bogus'/],
    [['serve', '--echo', '--broadcast'], 'serve', /choose one of --echo and --broadcast/],
    [['serve', '--log', 'xml'], 'serve', /bad --log 'xml'/],
    [['connect'], 'connect', /a URL is required/],
    [['connect', 'ws://127.0.0.1:1/', '--wait', '-1'], 'connect', /bad --wait '-1'/],
    [['connect', 'ws://127.0.0.1:1/', '--nope'], 'connect', /unknown option '--nope'/],
    [['bench', '-z', 'ws://127.0.0.1:1/'], 'bench', /unknown option/],
    [['bench'], 'bench', /a URL is required/],
    [['bench', 'echo', 'ws://127.0.0.1:1/', 'ws://127.0.0.1:2/'], 'bench', /several URLs: fanout only/],
    [['bench', 'fanout', ...Array(9).fill('ws://127.0.0.1:1/')], 'bench', /at most 8 URLs/],
    [['bench', 'nope', 'ws://127.0.0.1:1/'], 'bench', /unknown mode 'nope'/],
  ];
  for (const [args, cmd, what] of cases) {
    const r = run(args);
    assert.strictEqual(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.strictEqual(r.stdout, '');
    const lines = r.stderr.split('\n');
    assert.deepStrictEqual(lines.length, 2, `${args.join(' ')}: ${JSON.stringify(r.stderr)}`);
    assert.match(lines[0], what);
    assert.ok(lines[0].startsWith(`wsk ${cmd}: `) && lines[0].endsWith(`; try 'wsk ${cmd} --help'`), lines[0]);
  }
  const r = run(['nope']);
  assert.strictEqual(r.status, 2);
  assert.strictEqual(r.stderr, "wsk: unknown command 'nope'; try 'wsk --help'\n");
});

t.test('--help documents the exit statuses; wsk --help lists --version as an option', () => {
  for (const args of [['--help'], ['serve', '--help'], ['connect', '--help'], ['bench', '--help']]) {
    const r = run(args);
    assert.strictEqual(r.status, 0, args.join(' '));
    assert.match(r.stdout, /Exit status: 0 on success .*, 1 on failure [^]*2 for bad usage/, args.join(' '));
  }
  const top = run(['--help']).stdout;
  const commands = top.slice(top.indexOf('commands:'), top.indexOf('options:'));
  assert.ok(top.indexOf('options:') > 0 && !commands.includes('--version'), top);
  assert.match(top.slice(top.indexOf('options:')), /--version +print the version/);
});

// A second server on the port of a running one: refused whatever the thread counts.
t.test('a port in use: "Address already in use" in every mode, --threads included', async () => {
  for (const [first, second] of [[[], []], [['--threads', '2'], ['--threads', '2']],
    [['--threads', '2'], []], [[], ['--threads', '3']]]) {
    const srv = await L.serve(['--echo', ...first]);
    try {
      const r = run(['serve', '--host', '127.0.0.1', '--port', String(srv.port), ...second]);
      assert.strictEqual(r.status, 1, `${first} then ${second}: ${r.stderr}`);
      assert.match(r.stderr, /Address already in use/);
      assert.doesNotMatch(r.stderr, /listening/);
    } finally {
      await srv.stop();
    }
  }
});

t.test('--root given a file is refused', () => {
  const r = run(['serve', '--port', '0', '--root', path.join(L.SRC, 'README.md')]);
  assert.strictEqual(r.status, 1, r.stderr);
  assert.match(r.stderr, /README\.md: Not a directory/);
});

t.test('shutdown: "closing N connections", then "stopped", with one thread and with two', async () => {
  for (const threads of ['1', '2']) {
    const srv = await L.serve(['--echo', '--threads', threads]);
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await L.client(`ws://127.0.0.1:${srv.port}/`));
    const exit = await srv.stop('SIGTERM');
    assert.strictEqual(exit.code, 0);
    for (const c of clients) assert.strictEqual((await c.closed).code, 1001);
    const tail = srv.stderr.slice(-2);
    assert.deepStrictEqual(tail, ['wsk: closing 3 connections', 'wsk: stopped'], srv.stderr.join('\n'));
  }
});

t.test('wsk connect --handshake-timeout: a server that never answers the upgrade', async () => {
  const silent = net.createServer((s) => s.on('error', () => {}));
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const t0 = Date.now();
    const r = await new Promise((resolve) => {
      const { spawn } = require('child_process');
      const c = spawn(wsk, ['connect', `ws://127.0.0.1:${silent.address().port}/`, '--handshake-timeout', '300'],
        { stdio: ['pipe', 'pipe', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d) => { err += d; });
      const timer = setTimeout(() => c.kill('SIGKILL'), 8000);
      c.on('exit', (code) => { clearTimeout(timer); resolve({ code, err }); });
    });
    assert.strictEqual(r.code, 1, r.err);
    assert.match(r.err, /did not answer the upgrade within 300 ms/);
    assert.ok(Date.now() - t0 < 3000);
  } finally {
    silent.close();
  }
});

t.test('wsk connect --close-timeout: a server that answers close but never closes TCP', async () => {
  // A raw server: the 101, then a close frame back for the client's, and the socket left open.
  const crypto = require('crypto');
  const raw = net.createServer((s) => {
    s.on('error', () => {});
    let head = '';
    let upgraded = false;
    let frames = Buffer.alloc(0);
    s.on('data', (d) => {
      if (upgraded) { // the client's masked frames, short ones: answer its close frame
        frames = Buffer.concat([frames, d]);
        while (frames.length >= 6 && frames.length >= 6 + (frames[1] & 0x7f)) {
          if ((frames[0] & 0x0f) === 8) s.write(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
          frames = frames.subarray(6 + (frames[1] & 0x7f));
        }
        return;
      }
      head += d.toString('latin1');
      const m = /Sec-WebSocket-Key: (\S+)/i.exec(head);
      if (!head.includes('\r\n\r\n') || !m) return;
      upgraded = true;
      const accept = crypto.createHash('sha1')
        .update(m[1] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
              `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
    });
  });
  await new Promise((r) => raw.listen(0, '127.0.0.1', r));
  try {
    const t0 = Date.now();
    const r = await new Promise((resolve) => {
      const { spawn } = require('child_process');
      const c = spawn(wsk, ['connect', `ws://127.0.0.1:${raw.address().port}/`, '-x', 'hi',
                            '--wait', '0', '--close-timeout', '300'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d) => { err += d; });
      const timer = setTimeout(() => c.kill('SIGKILL'), 8000);
      c.on('exit', (code) => { clearTimeout(timer); resolve({ code, err }); });
    });
    assert.strictEqual(r.code, 0, r.err);
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms (the default close timeout is 5000)`);
    const bad = require('child_process').spawnSync(wsk, ['connect', 'ws://127.0.0.1:1/', '--close-timeout', '0']);
    assert.strictEqual(bad.status, 2);
    assert.match(bad.stderr.toString(), /bad --close-timeout '0'/);
  } finally {
    raw.close();
  }
});

t.test('--log json and --log text: one line per upgrade and per close', async () => {
  const srv = await L.serve(['--echo', '--welcome', 'hey', '--log', 'json']);
  const c = await L.client(`ws://127.0.0.1:${srv.port}/chat?room=1`);
  assert.strictEqual((await c.next()).data.toString(), 'hey');
  c.ws.send('hello');
  await c.next();
  c.ws.close(1000);
  await c.closed;
  for (let i = 0; i < 100 && !srv.stderr.some((l) => l.includes('"close"')); i++) await L.sleep(20);
  const events = srv.stderr.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  assert.strictEqual(events.length, 2, srv.stderr.join('\n'));
  const [open, close] = events;
  assert.match(open.remote, /^127\.0\.0\.1:\d+$/);
  assert.deepStrictEqual([open.event, open.path, open.status], ['open', '/chat', 101]);
  assert.deepStrictEqual([close.event, close.path, close.code, close.clean, close.bytes_in, close.bytes_out],
    ['close', '/chat', 1000, true, 5, 8]);
  assert.ok(typeof close.time === 'number' && close.seconds >= 0);
  await srv.stop();

  const txt = await L.serve(['--broadcast', '--log', 'text']);
  const a = await L.client(`ws://127.0.0.1:${txt.port}/a`);
  const b = await L.client(`ws://127.0.0.1:${txt.port}/b`);
  a.ws.send('from a'); // 6 bytes in for a, 6 out for b
  await b.next();
  a.ws.close(1000);
  b.ws.close(1000);
  await a.closed;
  await b.closed;
  for (let i = 0; i < 100 && txt.stderr.filter((l) => / close /.test(l)).length < 2; i++) await L.sleep(20);
  const log = txt.stderr.filter((l) => / (open|close) /.test(l));
  assert.ok(log.some((l) => /^wsk: 127\.0\.0\.1:\d+ open "\/a" 101$/.test(l)), log.join('\n'));
  assert.ok(log.some((l) => /^wsk: 127\.0\.0\.1:\d+ close "\/a" 1000 in=6 out=0 [\d.]+s$/.test(l)), log.join('\n'));
  assert.ok(log.some((l) => /^wsk: 127\.0\.0\.1:\d+ close "\/b" 1000 in=0 out=6 [\d.]+s$/.test(l)), log.join('\n'));
  await txt.stop();
});

t.test('no access log by default', async () => {
  const srv = await L.serve(['--echo']);
  const c = await L.client(`ws://127.0.0.1:${srv.port}/x`);
  c.ws.close(1000);
  await c.closed;
  await srv.stop();
  assert.ok(!srv.stderr.some((l) => /open|close "/.test(l)), srv.stderr.join('\n'));
});
