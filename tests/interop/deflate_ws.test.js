'use strict';
// permessage-deflate (RFC 7692) against Node's `ws`, a peer we did not write, in both directions:
//   - ws clients, with each of their offer options, against `wsk serve --echo` with --deflate in
//     several configurations (default, no context takeover, 9-bit windows and memLevel 1, a
//     threshold), and a ws client that offers nothing;
//   - broadcast to a mix of compressed (with and without context takeover) and plain clients, and
//     (server_fixture) prepared messages after deferred upgrades;
//   - our client (build/tests/client_probe --deflate) against ws servers with
//     serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits and
//     clientMaxWindowBits (8 too: we then send uncompressed), threshold 0;
//   - deflate bombs from raw peers on both sides (1009, with the memory bounded by max_message),
//     and server answers that break our offer (the handshake fails and says why).
//   - wsk connect --deflate against wsk serve --deflate and a ws server; echoes over TLS (wss://).
// Text and binary of several sizes up to 1 MiB, compressible and not; that compression really
// happened is checked from the bytes that crossed the socket.

const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const net = require('net');
const zlib = require('zlib');
const h = require('./lib/harness');
const { Peer, connect } = require('./lib/ws_peer');
const { probe, wskConnect, fnv, pattern } = require('./lib/client_probe');
const { buildFrame, FrameReader, OP, RSV1 } = require('../conformance/lib/frames');
const { makeCerts } = require('../tls/certs');

const { WebSocketServer } = h.peer('ws');
const t = h.suite('deflate_ws', { timeoutMs: 240000 });
const MiB = 1024 * 1024;
const SIZES = [0, 1, 125, 126, 1000, 65535, 65536, 200000, MiB];

// Payloads: compressible text, random printable text, random binary.
function payloads(n) {
  const random = crypto.randomBytes(n);
  const printable = Buffer.from(random.map((b) => 32 + (b % 95)));
  return [
    { data: pattern('text', n), binary: false },
    { data: printable, binary: false },
    { data: random, binary: true },
  ];
}

// RFC 7692 7.2.1: raw DEFLATE ended with a sync flush, without its 00 00 ff ff tail.
function deflateMessage(buf) {
  const out = zlib.deflateRawSync(buf, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.deepStrictEqual([...out.subarray(out.length - 4)], [0, 0, 0xff, 0xff]);
  return out.subarray(0, out.length - 4);
}

// Every size and kind through a ws client connected to an echo server; returns the socket's
// byte counts for a 1 MiB compressible message each way.
async function echoAll(peer) {
  for (const n of SIZES) {
    for (const { data, binary } of payloads(n)) {
      await peer.send(data, { binary });
      const m = await peer.next(20000);
      assert.strictEqual(m.isBinary, binary);
      assert.ok(m.data.equals(data), `echo of ${n} ${binary ? 'binary' : 'text'} bytes differs`);
    }
  }
  const sock = peer.ws._socket;
  const before = { read: sock.bytesRead, written: sock.bytesWritten };
  await peer.send(pattern('text', MiB));
  const m = await peer.next(20000);
  assert.ok(m.data.equals(pattern('text', MiB)));
  return { read: sock.bytesRead - before.read, written: sock.bytesWritten - before.written };
}

// A ws client and the Sec-WebSocket-Extensions of the 101 it got (ws.extensions only names them).
async function connectWithAnswer(url, perMessageDeflate) {
  const peer = new Peer(url, { perMessageDeflate });
  let answer = '';
  peer.ws.on('upgrade', (res) => { answer = res.headers['sec-websocket-extensions'] || ''; });
  await h.within(5000, `connecting to ${url}`, peer.opened);
  return { peer, answer };
}

function vmHwm(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

// ---- ws clients -> wsk serve --deflate -------------------------------------------------------

const SERVERS = [
  { name: 'default', args: ['--deflate'] },
  { name: 'no context takeover', args: ['--deflate-no-context-takeover'] },
  { name: 'window 9, memLevel 1', args: ['--deflate-window', '9', '--deflate-mem-level', '1'] },
  { name: 'threshold 1000', args: ['--deflate', '--deflate-threshold', '1000'] },
];
const CLIENTS = [
  { name: 'default offer', opts: { threshold: 0 } },
  { name: 'no context takeover both ways',
    opts: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true } },
  { name: 'windows 10 / 11', opts: { threshold: 0, serverMaxWindowBits: 10, clientMaxWindowBits: 11 } },
];

// What wsk must answer to a ws offer (parameters in wsk's order).
function expectedAnswer(server, client) {
  const p = ['permessage-deflate'];
  const snct = server.args.includes('--deflate-no-context-takeover') ||
               client.opts.serverNoContextTakeover;
  const cnct = server.args.includes('--deflate-no-context-takeover') ||
               client.opts.clientNoContextTakeover;
  const bits = server.args.includes('--deflate-window') ? 9 : 15;
  if (snct) p.push('server_no_context_takeover');
  if (cnct) p.push('client_no_context_takeover');
  if (client.opts.serverMaxWindowBits) {
    p.push(`server_max_window_bits=${Math.min(bits, client.opts.serverMaxWindowBits)}`);
  }
  const cbits = Math.min(bits, client.opts.clientMaxWindowBits || 15);
  if (cbits < 15) p.push(`client_max_window_bits=${cbits}`);
  return p.join('; ');
}

for (const server of SERVERS) {
  t.test(`ws clients -> wsk serve --echo ${server.args.join(' ')} (${server.name})`, async () => {
    const srv = await h.startWsk(['--echo', '--quiet', ...server.args]);
    try {
      for (const client of CLIENTS) {
        const { peer, answer } = await connectWithAnswer(srv.url, client.opts);
        assert.strictEqual(answer, expectedAnswer(server, client), client.name);
        const bytes = await echoAll(peer);
        // 1 MiB of a 26-letter pattern compresses to a few KB each way.
        assert.ok(bytes.read < 64 * 1024, `${client.name}: wsk sent ${bytes.read} bytes for 1 MiB`);
        assert.ok(bytes.written < 64 * 1024, `${client.name}: ws sent ${bytes.written} bytes`);
        await peer.close(1000);
      }
      // A client that offers nothing gets a plain connection; one that asks for a server window
      // of 8 (which zlib cannot produce) is declined and also gets a plain connection.
      for (const opts of [false, { serverMaxWindowBits: 8 }]) {
        const { peer, answer } = await connectWithAnswer(srv.url, opts);
        assert.strictEqual(answer, '');
        await peer.send('plain');
        assert.strictEqual((await peer.next()).data.toString(), 'plain');
        await peer.close(1000);
      }
    } finally {
      const { code } = await srv.proc.stop('SIGTERM');
      assert.strictEqual(code, 0);
    }
  });
}

t.test('broadcast to compressed (with and without takeover) and plain clients', async () => {
  const srv = await h.startWsk(['--broadcast', '--quiet', '--deflate']);
  try {
    const sender = await connect(srv.url, { perMessageDeflate: false });
    const receivers = [
      await connect(srv.url, { perMessageDeflate: { serverNoContextTakeover: true } }),
      await connect(srv.url, { perMessageDeflate: { serverNoContextTakeover: true } }),
      await connect(srv.url, { perMessageDeflate: { serverMaxWindowBits: 10 } }),
      await connect(srv.url, { perMessageDeflate: {} }),
      await connect(srv.url, { perMessageDeflate: false }),
    ];
    const before = receivers.map((r) => r.ws._socket.bytesRead);
    const sent = [];
    for (let i = 0; i < 20; i++) {
      const n = [10, 5000, 100000][i % 3];
      const data = Buffer.from(`message ${i} `.repeat(Math.ceil(n / 12)).slice(0, n));
      sent.push(data);
      await sender.send(data);
    }
    for (const r of receivers) {
      for (const data of sent) {
        const m = await r.next(10000);
        assert.ok(m.data.equals(data), `broadcast message ${m.data.slice(0, 12)} differs`);
      }
    }
    const total = sent.reduce((a, b) => a + b.length, 0);
    const got = receivers.map((r, i) => r.ws._socket.bytesRead - before[i]);
    for (let i = 0; i < 4; i++) assert.ok(got[i] < total / 5, `receiver ${i} read ${got[i]} of ${total}`);
    assert.ok(got[4] > total, `the plain receiver read ${got[4]} bytes`);
    for (const p of [sender, ...receivers]) await p.close(1000);
  } finally {
    assert.strictEqual((await srv.proc.stop('SIGTERM')).code, 0);
  }
});

t.test('server_fixture --deflate: deferred upgrades, prepared messages to mixed clients', async () => {
  const file = h.executable(`${h.BUILD}/tests/server_fixture`);
  const fx = h.start(file, ['--deflate', '--defer', '100', '--broadcast-prepared']);
  try {
    const port = Number((await fx.waitLine('stderr', /listening on 127\.0\.0\.1:(\d+)/))[1]);
    const url = `ws://127.0.0.1:${port}/`;
    const clients = [];
    for (const opts of [{ serverNoContextTakeover: true }, {}, false]) {
      clients.push(await connectWithAnswer(url, opts ? { threshold: 0, ...opts } : false));
    }
    assert.deepStrictEqual(clients.map((c) => c.answer),
                           ['permessage-deflate; server_no_context_takeover', 'permessage-deflate', '']);
    const sent = [];
    for (let i = 0; i < 12; i++) {
      const data = Buffer.from(`prepared ${i} `.repeat(200 * (i % 4)));
      sent.push(data);
      await clients[i % 3].peer.send(data);
      for (const { peer } of clients) {
        const m = await peer.next(10000);
        assert.ok(m.data.equals(data), `prepared message ${i} differs`);
      }
    }
    for (const { peer } of clients) await peer.close(1000);
  } finally {
    await fx.stop('SIGTERM');
  }
});

t.test('over TLS: ws client <-> wsk serve --deflate --tls-cert, and client_probe <-> it', async () => {
  const pki = makeCerts();
  const srv = await h.startWsk(['--echo', '--quiet', '--deflate', '--tls-cert', pki.server.cert,
                                '--tls-key', pki.server.key]);
  try {
    const peer = new Peer(srv.url, { perMessageDeflate: { threshold: 0 }, ca: pki.read(pki.ca) });
    await h.within(5000, 'the wss:// connection', peer.opened);
    const bytes = await echoAll(peer);
    assert.ok(bytes.read < 64 * 1024 && bytes.written < 64 * 1024, JSON.stringify(bytes));
    await peer.close(1000);
    const p = probe(srv.url, ['--deflate', 'on', '--ca', pki.ca]);
    await p.next(/^open/);
    p.send(`big text ${MiB}`);
    await p.next(new RegExp(`^message text ${MiB} ${fnv(pattern('text', MiB))} `), 20000);
    p.send('stop 1000');
    await p.next(/^close 1000 1/);
    assert.strictEqual(await p.wait(), 0);
  } finally {
    assert.strictEqual((await srv.proc.stop('SIGTERM')).code, 0);
  }
});

t.test('raw client: a deflate bomb closes with 1009 and the server never holds it', async () => {
  const srv = await h.startWsk(['--echo', '--quiet', '--deflate', '--max-message', '1m']);
  try {
    const bomb = deflateMessage(Buffer.alloc(64 * MiB));
    assert.ok(bomb.length < MiB); // the frame itself is within max_message
    const baseline = vmHwm(srv.proc.pid);
    const sock = net.connect(srv.port, '127.0.0.1');
    const reader = new FrameReader({ expectMasked: false });
    let head = Buffer.alloc(0);
    const frames = [];
    const ended = new Promise((resolve) => sock.on('close', resolve));
    sock.on('data', (d) => {
      if (head !== null) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        assert.match(head.subarray(0, end).toString(), /^HTTP\/1\.1 101 [^]*\r\nSec-WebSocket-Extensions: permessage-deflate$/i);
        d = head.subarray(end + 4);
        head = null;
      }
      frames.push(...reader.push(d));
    });
    sock.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
               `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n` +
               'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n');
    sock.write(buildFrame({ op: OP.BINARY, rsv: RSV1, payload: bomb, mask: true }));
    await h.within(10000, 'the server to close the connection', ended);
    assert.strictEqual(frames.length, 1, `frames: ${JSON.stringify(frames.map((f) => f.op))}`);
    assert.strictEqual(frames[0].op, OP.CLOSE);
    assert.strictEqual(frames[0].payload.readUInt16BE(0), 1009);
    const growth = vmHwm(srv.proc.pid) - baseline;
    assert.ok(growth < 16 * MiB, `the server's peak RSS grew by ${growth} bytes for a 64 MiB bomb`);
  } finally {
    assert.strictEqual((await srv.proc.stop('SIGTERM')).code, 0);
  }
});

// ---- our client -> ws servers with perMessageDeflate -----------------------------------------

// A ws echo server with the given perMessageDeflate options; counts the bytes it read.
function wsServer(perMessageDeflate) {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate, maxPayload: 64 * MiB });
  const seen = { sockets: [], closes: [] };
  wss.on('connection', (ws, req) => {
    seen.sockets.push(req.socket);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code) => seen.closes.push(code));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `ws://127.0.0.1:${server.address().port}/`,
    seen,
    close: () => new Promise((done) => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.close(() => done());
    }),
  })));
}

const WS_SERVERS = [
  { name: 'default', opts: { threshold: 0 } },
  { name: 'server and client no context takeover',
    opts: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true } },
  { name: 'server window 10, client window 9',
    opts: { threshold: 0, serverMaxWindowBits: 10, clientMaxWindowBits: 9 } },
  { name: 'client window 8 (we send uncompressed)', opts: { threshold: 0, clientMaxWindowBits: 8 } },
];
const PROBE_SPECS = ['on', 'snct,cnct', 'sbits=12,cbits=11,mem=1'];

for (const ws of WS_SERVERS) {
  t.test(`client_probe --deflate -> ws server (${ws.name})`, async () => {
    const srv = await wsServer(ws.opts);
    try {
      for (const spec of PROBE_SPECS) {
        const p = probe(srv.url, ['--deflate', spec, '--response-header', 'Sec-WebSocket-Extensions']);
        const open = await p.next(/^open proto= Sec-WebSocket-Extensions=(.*)$/);
        assert.match(open[1], /^permessage-deflate/, `${spec}: ${open[1]}`);
        if (spec.includes('snct')) assert.match(open[1], /server_no_context_takeover/);
        for (const n of SIZES) {
          for (const kind of ['text', 'binary']) {
            p.send(`big ${kind} ${n}`);
            await p.next(new RegExp(`^message ${kind} ${n} ${fnv(pattern(kind, n))} `), 20000);
          }
        }
        p.send('text h\u00e9llo \u2713 \ud83c\udf0d');
        await p.next(/^message text 15 \w+ h\u00e9llo \u2713 \ud83c\udf0d$/);
        const sock = srv.seen.sockets[srv.seen.sockets.length - 1];
        const before = sock.bytesRead;
        p.send(`big text ${MiB}`);
        await p.next(new RegExp(`^message text ${MiB} `), 20000);
        const read = sock.bytesRead - before;
        if (ws.opts.clientMaxWindowBits === 8) assert.ok(read > MiB, `${spec}: ws read ${read}`);
        else assert.ok(read < 64 * 1024, `${spec}: ws read ${read} bytes for 1 MiB`);
        p.send('stop 1000');
        await p.next(/^close 1000 1/);
        assert.strictEqual(await p.wait(), 0);
        assert.ok(!p.lines.some((l) => l.startsWith('error')), p.lines.join('\n'));
      }
    } finally {
      await srv.close();
    }
  });
}

t.test('wsk connect --deflate with wsk serve --deflate and with a ws server', async () => {
  const srv = await h.startWsk(['--echo', '--quiet', '--deflate']);
  const ws = await wsServer({ threshold: 0, serverNoContextTakeover: true });
  const text = 'compress me '.repeat(100);
  try {
    for (const [url, answer] of [[srv.url, 'permessage-deflate; server_max_window_bits=11; ' +
                                            'client_max_window_bits=11'],
                                 [ws.url, 'permessage-deflate; server_max_window_bits=11; ' +
                                          'client_max_window_bits=11; server_no_context_takeover']]) {
      const c = wskConnect([url, '--deflate-window', '11', '--show-frames', '-x', text, '-x', 'hi',
                            '--wait', '0.5']);
      assert.strictEqual(await c.wait(), 0, c.stderr.join('\n'));
      assert.deepStrictEqual(c.lines, [text, 'hi']);
      assert.ok(c.stderr.includes(`wsk connect: compressing: ${answer}`), c.stderr.join('\n'));
      const data = c.stderr.filter((l) => / opcode=0x1 /.test(l));
      assert.strictEqual(data.length, 4, data.join('\n'));
      assert.ok(data.every((l) => / RSV=100 /.test(l)), data.join('\n'));
      assert.ok(data.every((l) => Number(/len=(\d+)/.exec(l)[1]) < 40), data.join('\n'));
    }
  } finally {
    await ws.close();
    assert.strictEqual((await srv.proc.stop('SIGTERM')).code, 0);
  }
});

// A raw server: answers the upgrade with `extensions`, then calls then(socket, frames) where
// frames collects what the client sends.
function rawServer(extensions, then) {
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    const reader = new FrameReader({ expectMasked: true });
    const frames = [];
    let open = false;
    sock.on('error', () => {});
    sock.on('data', (d) => {
      if (open) {
        frames.push(...reader.push(d));
        return;
      }
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const key = /sec-websocket-key: *(\S+)/i.exec(buf.subarray(0, end).toString())[1];
      const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest('base64');
      sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                 `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: ${extensions}\r\n\r\n`);
      open = true;
      then(sock, frames);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `ws://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((done) => server.close(() => done())),
  })));
}

t.test('raw server: a deflate bomb to our client closes with 1009', async () => {
  const bomb = deflateMessage(Buffer.alloc(64 * MiB));
  let got;
  const srv = await rawServer('permessage-deflate', (sock, frames) => {
    got = frames;
    sock.write(buildFrame({ op: OP.BINARY, rsv: RSV1, payload: bomb }));
  });
  try {
    const p = probe(srv.url, ['--deflate', 'on', '--max-message', String(MiB)]);
    await p.next(/^open/);
    await p.next(/^error -5003 the peer sent a compressed message that inflates past max_message$/);
    await p.next(/^close 1006 0/);
    assert.ok(!p.lines.some((l) => l.startsWith('message')));
    p.end();
    assert.strictEqual(await p.wait(), 0);
    assert.strictEqual(got[0].op, OP.CLOSE);
    assert.strictEqual(got[0].payload.readUInt16BE(0), 1009);
  } finally {
    await srv.close();
  }
});

t.test('raw server: answers that break the offer fail the handshake, saying why', async () => {
  const cases = [
    ['permessage-deflate; client_max_window_bits', /client_max_window_bits/],
    ['permessage-deflate; server_max_window_bits=16', /server_max_window_bits/],
    ['permessage-deflate; server_max_window_bits=12', /larger than the client offered/],
    ['permessage-deflate; mystery', /mystery|unknown/],
    ['permessage-deflate, permessage-deflate', /more than one/],
    ['x-webkit-deflate-frame', /did not offer/],
  ];
  for (const [answer, why] of cases) {
    const srv = await rawServer(answer, () => {});
    try {
      const p = probe(srv.url, ['--deflate', 'sbits=11']);
      const m = await p.next(/^error (-\d+) (.*)$/);
      assert.strictEqual(Number(m[1]), -5007, m[0]);
      assert.match(m[2], /^bad handshake answer: /);
      assert.match(m[2], why, `${answer}: ${m[2]}`);
      await p.next(/^close 1006 0/);
      p.end();
      assert.strictEqual(await p.wait(), 0);
    } finally {
      await srv.close();
    }
  }
});

t.run();
