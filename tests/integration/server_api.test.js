'use strict';
// The server's C API through tests/helpers/server_fixture: keepalive pings and dead-peer
// detection, idle and handshake timeouts, deferred upgrades (accepted, rejected, client gone),
// max_connections, subprotocol selection and extra 101 headers, backpressure (high water,
// on_drain and its low-water mark, hard limit), protocol errors reported by on_error then
// on_close(1006), prepared messages sent with wsk_server_foreach; the request accessors (query,
// cookie, raw target, repeated headers, peer port), rejections with headers, the hand-back of
// the user data of upgrades that never open (on_upgrade_abort), path routes.
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const path = require('path');
const L = require('./server_lib');

const t = L.suite('server_api', { timeoutMs: 120000 });
const fixture = (args) => L.start(path.join(L.BUILD, 'tests', 'server_fixture'), args);

// A raw client that completes the upgrade; resolves { s, buf() } once the 101 is in.
async function rawWs(port, extra = Buffer.alloc(0)) {
  const s = net.connect(port, '127.0.0.1');
  const chunks = [];
  s.on('data', (d) => chunks.push(d));
  s.on('error', () => {});
  s.ended = new Promise((r) => s.on('close', r));
  await new Promise((r) => s.on('connect', r));
  s.write(Buffer.concat([Buffer.from(L.upgradeRequest()), extra]));
  const buf = () => Buffer.concat(chunks);
  for (let i = 0; i < 200 && buf().indexOf('\r\n\r\n') < 0; i++) await L.sleep(10);
  return { s, buf };
}

// The first stdout line of f that matches re (waits up to 5 s).
async function waitLine(f, re) {
  for (let i = 0; i < 500; i++) {
    const l = f.stdout.find((x) => re.test(x));
    if (l) return l;
    await L.sleep(10);
  }
  throw new Error(`no stdout line ${re}; got ${JSON.stringify(f.stdout.slice(-5))}`);
}

// Send text on a new connection; resolves { buf, localPort } once the peer closed or `until`.
function exchange(port, text, until = (b) => L.responses(b).length === 1) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const got = [];
    const timer = setTimeout(() => { s.destroy(); reject(new Error('exchange timed out')); }, 5000);
    const done = () => { clearTimeout(timer); const localPort = s.localPort; s.destroy(); resolve({ buf: Buffer.concat(got), localPort }); };
    s.on('connect', () => s.write(text));
    s.on('data', (d) => { got.push(d); if (until(Buffer.concat(got))) done(); });
    s.on('close', done);
    s.on('error', () => {});
  });
}

async function withFixture(args, fn) {
  const f = await fixture(args);
  try {
    await fn(f);
  } finally {
    await f.stop('SIGKILL');
  }
}

t.test('keepalive: a live client stays; a silent peer is dropped after one interval (1006)', () =>
  withFixture(['--ping', '200'], async (f) => {
    const live = await L.client(`ws://127.0.0.1:${f.port}/`);
    const dead = await rawWs(f.port);
    const t0 = Date.now();
    await dead.s.ended; // the server terminated it: no pong to the first ping
    const dt = Date.now() - t0;
    // The ping timer ticks for the whole server: the first ping comes 0-200 ms after the open, the
    // drop one interval later.
    assert.ok(dt >= 150 && dt < 2000, `dropped after ${dt} ms`);
    const frames = L.framesAfter101(dead.buf());
    assert.ok(frames.length >= 1 && frames.every((x) => x.opcode === 9), 'it got pings');
    await f.waitStdout('close 1006 0 ');
    assert.ok(f.stdout.some((l) => /^error -110 no pong/.test(l)), f.stdout.join('|'));
    await L.sleep(300);
    assert.strictEqual(live.ws.readyState, 1, 'the ws client answers pings and stays open');
    live.ws.close(1000);
    await live.closed;
  }));

t.test('idle timeout: no data for idle_timeout_ms -> close 1001 "idle timeout"', () =>
  withFixture(['--idle', '300'], async (f) => {
    const c = await rawWs(f.port);
    await L.sleep(150);
    c.s.write(L.frame(9, 'keep')); // activity pushes the deadline
    for (let i = 0; i < 200; i++) {
      const fr = L.framesAfter101(c.buf());
      if (fr && fr.some((x) => x.opcode === 8)) break;
      await L.sleep(10);
    }
    const frames = L.framesAfter101(c.buf());
    const close = frames.find((x) => x.opcode === 8);
    assert.ok(close, 'a close frame');
    assert.strictEqual(close.payload.readUInt16BE(0), 1001);
    assert.strictEqual(close.payload.subarray(2).toString(), 'idle timeout');
    assert.ok(f.stdout.some((l) => /^error -110 no data/.test(l)));
    c.s.write(L.frame(8, Buffer.from([0x03, 0xe9])));
    await f.waitStdout('close 1001 1 ');
    c.s.destroy();
  }));

t.test('close timeout: a peer that never answers our close frame is dropped (1006)', () =>
  withFixture(['--idle', '200', '--close-timeout', '300'], async (f) => {
    const c = await rawWs(f.port);
    await c.s.ended; // idle close at ~200 ms, unanswered, dropped ~300 ms later
    await f.waitStdout('close 1006 0 ');
    assert.ok(f.stdout.some((l) => /^error -110 the peer did not answer our close frame/.test(l)), f.stdout.join('|'));
  }));

t.test('on_http: method, percent-decoded path, raw query, headers, body, remote', () =>
  withFixture(['--http'], async (f) => {
    const req = 'POST /a%20b/%C3%A9?x=1%202&y HTTP/1.1\r\nHost: h\r\nX-Test:  spaced value \r\n' +
      'Content-Length: 5\r\n\r\nhello';
    const [r] = L.responses(await L.raw(f.port, req, { until: (b) => L.responses(b).length === 1 }));
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.headers['x-fixture'], '1');
    assert.strictEqual(Buffer.from(r.body, 'latin1').toString(), 'POST|/a b/é|x=1%202&y|spaced value|hello|127.0.0.1');
  }));

t.test('descriptor exhaustion (EMFILE): accepting pauses, is reported once through on_server_error (the library prints nothing), and resumes', async () => {
  const bin = path.join(L.BUILD, 'tests', 'server_fixture');
  const f = await L.start('/bin/bash', ['-c', 'ulimit -n 24 && exec "$0"', bin]);
  try {
    const socks = [];
    for (let i = 0; i < 40; i++) {
      const s = net.connect(f.port, '127.0.0.1');
      s.on('error', () => {});
      socks.push(s);
    }
    await L.sleep(500);
    const cpuTicks = () => {
      const stat = fs.readFileSync(`/proc/${f.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(stat[11]) + Number(stat[12]); // utime + stime
    };
    const before = cpuTicks();
    await L.sleep(500);
    const ticks = cpuTicks() - before;
    assert.ok(ticks < 20, `the server spun: ${ticks} ticks in 500 ms`);
    const emfile = f.stderr.filter((l) => /Too many open files/.test(l));
    assert.strictEqual(emfile.length, 1, f.stderr.join('|'));
    assert.match(emfile[0], new RegExp(`^server_fixture: server error ${-24}: accept on port \\d+: `));
    for (const s of socks) s.destroy();
    await L.sleep(300);
    const c = await L.client(`ws://127.0.0.1:${f.port}/`); // accepting again
    c.ws.close();
    await c.closed;
  } finally {
    await f.stop('SIGKILL');
  }
});

t.test('handshake timeout: a partial request head is dropped', () =>
  withFixture(['--handshake', '300'], async (f) => {
    const t0 = Date.now();
    const buf = await L.raw(f.port, 'GET / HTTP/1.1\r\nHost: x\r\n', { ms: 5000 });
    const dt = Date.now() - t0;
    assert.strictEqual(buf.length, 0);
    assert.ok(dt >= 250 && dt < 2000, `closed after ${dt} ms`);
  }));

t.test('deferred upgrade: accepted later; frames sent early are processed after the 101', () =>
  withFixture(['--defer', '200', '--echo'], async (f) => {
    const t0 = Date.now();
    const c = await rawWs(f.port, L.frame(1, 'early bird'));
    for (let i = 0; i < 200; i++) {
      const fr = L.framesAfter101(c.buf());
      if (fr && fr.length) break;
      await L.sleep(10);
    }
    assert.ok(Date.now() - t0 >= 180, 'the 101 waited for the application');
    const frames = L.framesAfter101(c.buf());
    assert.strictEqual(frames[0].payload.toString(), 'early bird');
    // The fixture prints the result once wsk_upgrade_accept returned, which is after the echo
    // went out: its line can reach us after the frame (it did under valgrind).
    await waitLine(f, /^defer-result 0$/);
    c.s.destroy();
  }));

t.test('deferred upgrade: the client leaves first -> accept returns WSK_ECLOSED, no crash', () =>
  withFixture(['--defer', '300'], async (f) => {
    const s = net.connect(f.port, '127.0.0.1');
    await new Promise((r) => s.on('connect', r));
    s.write(L.upgradeRequest());
    await L.sleep(50);
    s.destroy();
    await f.waitStdout('defer-result -5006');
    assert.ok(!f.stdout.some((l) => l.startsWith('open')));
    const c = await L.client(`ws://127.0.0.1:${f.port}/`); // still serving
    c.ws.close();
    await c.closed;
  }));

t.test('deferred upgrade rejected with 401 and a body', () =>
  withFixture(['--defer', '50', '--reject', '401'], async (f) => {
    const [r] = L.responses(await L.raw(f.port, L.upgradeRequest()));
    assert.strictEqual(r.status, 401);
    assert.strictEqual(r.body.trim(), 'not you');
  }));

t.test('max_connections: the third WebSocket gets 503', () =>
  withFixture(['--max-conn', '2'], async (f) => {
    const a = await L.client(`ws://127.0.0.1:${f.port}/`);
    const b = await L.client(`ws://127.0.0.1:${f.port}/`);
    const [r] = L.responses(await L.raw(f.port, L.upgradeRequest()));
    assert.strictEqual(r.status, 503);
    a.ws.close();
    await a.closed;
    await f.waitStdout('close 1005 1 ');
    const c = await L.client(`ws://127.0.0.1:${f.port}/`);
    for (const x of [b, c]) x.ws.close();
    await Promise.all([b.closed, c.closed]);
  }));

t.test('subprotocol chosen from the offer, extra header in the 101', () =>
  withFixture(['--protocol', 'chat.v2', '--header', 'X-Served-By:wsk fixture'], async (f) => {
    const WebSocket = require('ws');
    const ws = new WebSocket(`ws://127.0.0.1:${f.port}/`, ['chat.v1', 'chat.v2']);
    let headers;
    ws.on('upgrade', (res) => { headers = res.headers; });
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    assert.strictEqual(ws.protocol, 'chat.v2');
    assert.strictEqual(headers['x-served-by'], 'wsk fixture');
    await f.waitStdout('open chat.v2');
    ws.close();
  }));

t.test('backpressure: WSK_SEND_QUEUED_HIGH over the high-water mark, on_drain once read', () =>
  withFixture(['--flood', '65536', '--high-water', '1000000'], async (f) => {
    const c = await rawWs(f.port);
    c.s.pause(); // read nothing: the server's queue fills
    await f.waitStdout('open -');
    const high = await new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        const l = f.stdout.find((x) => x.startsWith('high ') || x.startsWith('refused'));
        if (l) { clearInterval(timer); resolve(l); }
      }, 20);
      setTimeout(() => { clearInterval(timer); reject(new Error('no high')); }, 5000);
    });
    assert.match(high, /^high \d+$/);
    assert.ok(Number(high.split(' ')[1]) > 1000000);
    c.s.resume();
    const drain = await waitLine(f, /^drain /); // then the fixture starts the closing handshake
    assert.ok(Number(drain.split(' ')[1]) <= 500000, `${drain}: the default mark is half the high-water mark`);
    for (let i = 0; i < 300; i++) {
      const fr = L.parseFrames(c.buf().subarray(c.buf().indexOf('\r\n\r\n') + 4));
      if (fr.length && fr[fr.length - 1].opcode === 8) break;
      await L.sleep(10);
    }
    const fr = L.parseFrames(c.buf().subarray(c.buf().indexOf('\r\n\r\n') + 4));
    assert.strictEqual(fr[fr.length - 1].opcode, 8, 'everything queued arrived, then the close');
    assert.ok(fr.length > 15, `${fr.length} frames`);
    c.s.destroy();
  }));

t.test('hard limit: a send over it is refused with WSK_EBACKPRESSURE; --drop closes with 1008', () =>
  withFixture(['--flood', '65536', '--high-water', '0', '--hard-limit', '2000000', '--drop'], async (f) => {
    const c = await rawWs(f.port);
    c.s.pause();
    await f.waitStdout('refused -5011');
    assert.ok(f.stdout.some((l) => l.startsWith('error -5011 ')));
    c.s.destroy();
    await f.waitStdout('close 1006 0 ');
  }));

t.test('protocol error: on_error with a message, then on_close(1006), close 1002 on the wire', () =>
  withFixture([], async (f) => {
    const c = await rawWs(f.port, L.frame(1, 'x', { mask: false }));
    await c.s.ended;
    const frames = L.framesAfter101(c.buf());
    assert.strictEqual(frames[0].payload.readUInt16BE(0), 1002);
    await f.waitStdout('close 1006 0 ');
    const i = f.stdout.findIndex((l) => l.startsWith('error -5001 '));
    assert.ok(i >= 0 && i < f.stdout.indexOf('close 1006 0 '), f.stdout.join('|'));
  }));

t.test('prepared message relayed to every client through wsk_server_foreach', () =>
  withFixture(['--broadcast-prepared'], async (f) => {
    const cs = [];
    for (let i = 0; i < 5; i++) cs.push(await L.client(`ws://127.0.0.1:${f.port}/`));
    cs[2].ws.send(Buffer.alloc(70000, 5));
    for (const c of cs) {
      const m = await c.next();
      assert.strictEqual(m.data.length, 70000);
      assert.strictEqual(m.data[69999], 5);
    }
    for (const c of cs) c.ws.close();
    await Promise.all(cs.map((c) => c.closed));
  }));

t.test('graceful shutdown reports on_close 1001 for every client', () =>
  withFixture([], async (f) => {
    const cs = [];
    for (let i = 0; i < 3; i++) cs.push(await L.client(`ws://127.0.0.1:${f.port}/`));
    process.kill(f.child.pid, 'SIGTERM');
    for (const c of cs) assert.strictEqual((await c.closed).code, 1001);
    assert.strictEqual((await f.exited).code, 0);
    assert.strictEqual(f.stdout.filter((l) => l.startsWith('close 1001 1 ')).length, 3, f.stdout.join('|'));
  }));

t.test('drain_low_water: on_drain waits until the queue is down to the mark (1: empty)', () =>
  withFixture(['--flood', '65536', '--high-water', '1000000', '--drain-low', '1'], async (f) => {
    const c = await rawWs(f.port);
    c.s.pause();
    await waitLine(f, /^high \d+$/);
    c.s.resume();
    assert.strictEqual(await waitLine(f, /^drain /), 'drain 0');
    c.s.destroy();
  }));

t.test('request accessors: form-decoded query, cookie, raw target, every X-Multi line, peer port', () =>
  withFixture(['--inspect'], async (f) => {
    const req = 'GET /a%2Fb/c?x=1&token=a%2Bb+c%21&y HTTP/1.1\r\nHost: h\r\n' +
      'Cookie: theme=dark; sid="s-1"\r\nX-Multi: one\r\nX-Other: no\r\nx-multi: two, three\r\n\r\n';
    const { buf, localPort } = await exchange(f.port, req);
    const [r] = L.responses(buf);
    assert.strictEqual(r.body, `request /a/b/c|/a%2Fb/c?x=1&token=a%2Bb+c%21&y|token=a+b c!|sid=s-1|multi=one,two, three|port=${localPort}`);
    const bad = L.responses((await exchange(f.port, 'GET /?token=%zz HTTP/1.1\r\nHost: h\r\n\r\n')).buf)[0];
    assert.strictEqual(bad.body, `request /|/?token=%zz|token=<error>|sid=<none>|multi=|port=${bad.body.split('port=')[1]}`);
    // The same accessors in on_upgrade.
    const up = await exchange(f.port, L.upgradeRequest({ path: '/ws/%41?token=t1', extra: 'Cookie: sid=abc\r\nX-Multi: m\r\n' }));
    assert.strictEqual(L.responses(up.buf)[0].status, 101);
    await waitLine(f, /^request \/ws\/A\|/);
    assert.ok(f.stdout.includes(`request /ws/A|/ws/%41?token=t1|token=t1|sid=abc|multi=m|port=${up.localPort}`), f.stdout.join('|'));
  }));

t.test('rejection with headers: WWW-Authenticate from on_upgrade, Retry-After from a deferred reject', async () => {
  await withFixture(['--reject', '401', '--header', 'WWW-Authenticate:Bearer realm="wsk"'], async (f) => {
    const [r] = L.responses(await L.raw(f.port, L.upgradeRequest()));
    assert.strictEqual(r.status, 401);
    assert.strictEqual(r.headers['www-authenticate'], 'Bearer realm="wsk"');
  });
  await withFixture(['--defer', '50', '--reject', '503', '--header', 'Retry-After:7'], async (f) => {
    const [r] = L.responses(await L.raw(f.port, L.upgradeRequest()));
    assert.strictEqual(r.status, 503);
    assert.strictEqual(r.headers['retry-after'], '7');
    assert.strictEqual(r.body.trim(), 'not you');
  });
});

const aborts = (f) => f.stdout.filter((l) => l === 'abort').length;

t.test('on_upgrade_abort: the user data of a rejected upgrade comes back once; an opened connection keeps it', () =>
  withFixture(['--user-data', '--reject', '403'], async (f) => {
    const [r] = L.responses(await L.raw(f.port, L.upgradeRequest()));
    assert.strictEqual(r.status, 403);
    await f.waitStdout('abort');
    assert.strictEqual(aborts(f), 1);
  }).then(() => withFixture(['--user-data'], async (f) => {
    const c = await L.client(`ws://127.0.0.1:${f.port}/`);
    c.ws.close();
    await c.closed;
    await f.waitStdout('close 1005 1 '); // on_close freed it
    assert.strictEqual(aborts(f), 0);
  })));

t.test('on_upgrade_abort: the client leaves during a deferred upgrade -> once, when the application completes it', () =>
  withFixture(['--user-data', '--defer', '300'], async (f) => {
    const s = net.connect(f.port, '127.0.0.1');
    s.on('error', () => {});
    await new Promise((r) => s.on('connect', r));
    s.write(L.upgradeRequest());
    await L.sleep(50);
    s.destroy();
    await f.waitStdout('defer-result -5006');
    assert.strictEqual(aborts(f), 1);
    assert.ok(f.stdout.indexOf('abort') < f.stdout.indexOf('defer-result -5006'));
  }));

t.test('on_upgrade_abort: a deferred upgrade completed during shutdown gets 503 and hands back once', () =>
  withFixture(['--user-data', '--defer', '300'], async (f) => {
    const got = [];
    const s = net.connect(f.port, '127.0.0.1');
    s.on('data', (d) => got.push(d));
    s.on('error', () => {});
    await new Promise((r) => s.on('connect', r));
    s.write(L.upgradeRequest());
    await L.sleep(100);
    process.kill(f.child.pid, 'SIGTERM'); // shutdown with a 2 s grace period; the accept comes first
    await f.waitStdout('defer-result -5006');
    assert.strictEqual(aborts(f), 1);
    assert.strictEqual((await f.exited).code, 0);
    assert.strictEqual(L.responses(Buffer.concat(got))[0].status, 503);
    s.destroy();
  }));

t.test('routes: first match wins, prefix wildcard, the server callbacks when nothing matches', () =>
  withFixture(['--routes', '--http'], async (f) => {
    const get = async (p) => L.responses(await L.raw(f.port, `GET ${p} HTTP/1.1\r\nHost: h\r\n\r\n`,
      { until: (b) => L.responses(b).length === 1 }))[0].body;
    assert.strictEqual(await get('/exact'), 'exact'); // not "second": the first match wins
    assert.strictEqual(await get('/exact?q=1'), 'exact'); // the query is not part of the path
    assert.strictEqual(await get('/%65xact'), 'exact'); // matched on the decoded path
    assert.strictEqual(await get('/wild/'), 'wild');
    assert.strictEqual(await get('/wild/a/b'), 'wild');
    assert.match(await get('/wild'), /^GET\|\/wild\|/); // the default on_http
    assert.match(await get('/exactly'), /^GET\|\/exactly\|/);
    const [r] = L.responses(await L.raw(f.port, L.upgradeRequest({ path: '/wild/room' }),
      { until: (b) => L.responses(b).length === 1 }));
    assert.strictEqual(r.status, 101);
    await f.waitStdout('route wild'); // the route's on_open
    const d = await L.client(`ws://127.0.0.1:${f.port}/other`);
    await f.waitStdout('open -'); // the server's on_open
    d.ws.close();
    await d.closed;
  }));
