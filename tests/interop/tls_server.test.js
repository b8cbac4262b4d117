'use strict';
// `wsk serve --tls-cert` against Node's TLS stack (a peer we did not write): ws clients over wss://
// that trust the throw-away test CA (tests/tls/make_certs.sh), HTTPS static files on the same port,
// TLS versions, ALPN and session tickets, 16 MiB both ways while the client stalls its reading
// (the server's SSL_write must wait and retry), a client that does not trust the certificate,
// plain HTTP and garbage on the TLS port, a handshake that never comes, and a clean exit.

const assert = require('assert');
const { spawn } = require('child_process');
const crypto = require('crypto');
const https = require('https');
const net = require('net');
const path = require('path');
const tls = require('tls');
const h = require('./lib/harness');
const { connect, WebSocket } = require('./lib/ws_peer');
const { makeCerts } = require('../tls/certs');

const t = h.suite('tls_server', { timeoutMs: 120000 });
const pki = makeCerts();
const ca = pki.read(pki.ca);
let srv;

const wss = (p = '/') => `wss://localhost:${srv.port}${p}`;

// Read from a socket until it ends; resolves the bytes.
function readToEnd(sock, ms = 3000) {
  return h.within(ms, 'the server to close the connection', new Promise((resolve) => {
    const chunks = [];
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => resolve(Buffer.concat(chunks)));
    sock.on('error', () => resolve(Buffer.concat(chunks)));
  }));
}

function get(urlPath, agent = false) {
  return h.within(5000, `GET ${urlPath}`, new Promise((resolve, reject) => {
    https.get({ host: 'localhost', port: srv.port, path: urlPath, ca, agent }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), socket: res.socket }));
    }).on('error', reject);
  }));
}

t.test('start wsk serve --echo --root web --tls-cert --tls-key', async () => {
  srv = await h.startWsk(['--echo', '--quiet', '--max-message', '32m', '--root', path.join(h.SRC, 'web'),
                          '--tls-cert', pki.server.cert, '--tls-key', pki.server.key]);
  assert.match(srv.url, /^wss:/);
  await srv.proc.waitLine('stderr', new RegExp(`serving .* on https://127\\.0\\.0\\.1:${srv.port}/`));
});

t.test('ws over wss:// with the CA: text, binary, ping, clean close', async () => {
  const p = await connect(wss(), { ca, ALPNProtocols: ['http/1.1'] });
  await p.send('h\u00e9llo over TLS');
  assert.strictEqual(await p.nextText(), 'h\u00e9llo over TLS');
  const bin = crypto.randomBytes(70000);
  await p.send(bin);
  const m = await p.next();
  assert.ok(m.isBinary && m.data.equals(bin));
  const pong = new Promise((resolve) => p.ws.once('pong', resolve));
  p.ws.ping('tls ping');
  assert.strictEqual(String(await h.within(3000, 'pong', pong)), 'tls ping');
  const socket = p.ws._socket;
  assert.strictEqual(socket.alpnProtocol, 'http/1.1', 'ALPN');
  const closed = await p.close(1000, 'bye');
  assert.deepStrictEqual(closed, { code: 1000, reason: 'bye', wasClean: true });
});

t.test('the server sends close_notify after the WebSocket close (seen by openssl s_client)', async () => {
  // Node cannot tell close_notify from a bare TCP FIN; `openssl s_client -msg` prints the alert.
  const sc = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${srv.port}`, '-servername', 'localhost',
                               '-CAfile', pki.ca, '-msg', '-ign_eof'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  sc.stdout.on('data', (d) => { out += d.toString('latin1'); });
  sc.stderr.resume();
  try {
    const key = crypto.randomBytes(16).toString('base64');
    sc.stdin.write(`GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
                   `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await h.sleep(200);
    sc.stdin.end(Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8])); // close 1000, zero mask
    await h.within(5000, 'openssl s_client to end', new Promise((resolve) => sc.on('exit', resolve)));
  } finally {
    sc.kill('SIGKILL');
  }
  assert.match(out, /HTTP\/1\.1 101 /);
  assert.match(out, /<<< TLS 1\.3, Alert \[length 0002\], warning close_notify/);
});

t.test('TLS 1.2 and 1.3 are accepted, TLS 1.1 is refused', async () => {
  for (const v of ['TLSv1.2', 'TLSv1.3']) {
    const p = await connect(wss(), { ca, minVersion: v, maxVersion: v });
    assert.strictEqual(p.ws._socket.getProtocol(), v);
    await p.send(v);
    assert.strictEqual(await p.nextText(), v);
    await p.close(1000);
  }
  const err = await h.within(3000, 'TLS 1.1 refused', new Promise((resolve) => {
    const s = tls.connect({ host: 'localhost', port: srv.port, ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
    s.on('secureConnect', () => resolve(null));
    s.on('error', resolve);
  }));
  assert.ok(err, 'TLS 1.1 handshake must fail');
});

t.test('ALPN: a client that offers only h2 is refused', async () => {
  const err = await h.within(3000, 'h2-only refused', new Promise((resolve) => {
    const s = tls.connect({ host: 'localhost', port: srv.port, ca, ALPNProtocols: ['h2'] });
    s.on('secureConnect', () => resolve(null));
    s.on('error', resolve);
  }));
  assert.ok(err && /no application protocol|alert/i.test(err.message), `got ${err && err.message}`);
});

t.test('session tickets: a second connection resumes the first session', async () => {
  const first = tls.connect({ host: 'localhost', port: srv.port, ca, servername: 'localhost' });
  const session = await h.within(3000, 'a session ticket', new Promise((resolve, reject) => {
    first.once('session', resolve);
    first.once('error', reject);
  }));
  first.end();
  const second = tls.connect({ host: 'localhost', port: srv.port, ca, servername: 'localhost', session });
  await h.within(3000, 'the resumed handshake', new Promise((resolve, reject) => {
    second.once('secureConnect', resolve);
    second.once('error', reject);
  }));
  assert.ok(second.isSessionReused(), 'session reused');
  second.destroy();
});

t.test('HTTPS on the same port: static files, keep-alive', async () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
  const a = await get('/', agent);
  assert.strictEqual(a.status, 200);
  assert.match(a.body.toString(), /<!doctype html>/i);
  const b = await get('/chat.js', agent);
  assert.strictEqual(b.status, 200);
  assert.strictEqual(b.socket, a.socket, 'the second request reused the TLS connection');
  assert.strictEqual((await get('/nope')).status, 404);
  agent.destroy();
});

t.test('16 MiB each way while the client stalls its reading (server retries SSL_write)', async () => {
  const p = await connect(wss(), { ca, maxPayload: 64 * 1024 * 1024 });
  const big = crypto.randomBytes(16 * 1024 * 1024);
  const sock = p.ws._socket;
  await p.send(big);
  sock.pause(); // the echo piles up in the server's queue
  await h.sleep(700);
  sock.resume();
  const m = await p.next(30000);
  assert.ok(m.isBinary, 'binary echo');
  assert.strictEqual(m.data.length, big.length);
  assert.ok(m.data.equals(big), '16 MiB echoed intact');
  await p.send('after the big one');
  assert.strictEqual(await p.nextText(), 'after the big one');
  await p.close(1000);
});

t.test('deferred upgrade: 3 MiB sent in small TLS records before the 101 comes back intact', async () => {
  // The server holds the input while the application decides, then reads it in rounds whose
  // ends cut records: the decrypted rest must be read although epoll does not report it.
  const fixture = h.start(path.join(h.BUILD, 'tests', 'server_fixture'),
                          ['--defer', '300', '--echo', '--tls-cert', pki.server.cert, '--tls-key', pki.server.key],
                          'server_fixture');
  const port = Number((await fixture.waitLine('stderr', /listening on 127\.0\.0\.1:(\d+)/))[1]);
  const size = 3 * 1024 * 1024;
  const payload = crypto.randomBytes(size);
  const mask = crypto.randomBytes(4);
  const head = Buffer.alloc(14);
  head[0] = 0x82;
  head[1] = 0xff;
  head.writeBigUInt64BE(BigInt(size), 2);
  mask.copy(head, 10);
  const frame = Buffer.concat([head, payload.map((b, i) => b ^ mask[i & 3])]);
  const sock = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
  const echo = h.within(20000, 'the echo of 3 MiB', new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let body = -1;
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (body < 0) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        assert.match(buf.subarray(0, end).toString('latin1'), /^HTTP\/1\.1 101 /);
        body = end + 4;
      }
      if (buf.length >= body + 10 + size) resolve(buf.subarray(body));
    });
    sock.on('error', reject);
  }));
  await h.within(3000, 'TLS connect', new Promise((resolve) => sock.once('secureConnect', resolve)));
  sock.write('GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
             `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  for (let off = 0; off < frame.length; off += 1000) { // one small record per write
    sock.write(frame.subarray(off, off + 1000));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const back = await echo;
  assert.deepStrictEqual([...back.subarray(0, 2)], [0x82, 127]);
  assert.ok(back.subarray(10, 10 + size).equals(payload), '3 MiB echoed intact');
  sock.destroy();
  assert.strictEqual((await fixture.stop('SIGTERM')).code, 0);
});

t.test('a client without the CA refuses the certificate; the server goes on', async () => {
  const ws = new WebSocket(wss());
  const err = await h.within(3000, 'the client to refuse', new Promise((resolve) => {
    ws.on('error', resolve);
    ws.on('open', () => resolve(null));
  }));
  assert.ok(err && /self[- ]signed|local issuer|unable to verify/i.test(err.message), `got ${err && err.message}`);
  const p = await connect(wss(), { ca });
  await p.send('still serving');
  assert.strictEqual(await p.nextText(), 'still serving');
  await p.close(1000);
});

t.test('plain HTTP on the TLS port: a 400 in plain text, then the connection ends', async () => {
  for (let i = 0; i < 3; i++) {
    const s = net.connect(srv.port, '127.0.0.1');
    s.write('GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: plain\r\n\r\n');
    const text = (await readToEnd(s)).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.match(text, /use https:\/\//);
    assert.match(text, /Connection: close/i);
  }
  const p = await connect(wss(), { ca });
  await p.send('after plain HTTP');
  assert.strictEqual(await p.nextText(), 'after plain HTTP');
  await p.close(1000);
});

t.test('garbage on the TLS port: closed (an alert at most), the server goes on', async () => {
  const s = net.connect(srv.port, '127.0.0.1');
  s.write(crypto.randomBytes(3000));
  const back = await readToEnd(s);
  assert.ok(back.length < 64, `at most an alert back, got ${back.length} bytes`);
  assert.ok(!back.toString('latin1').startsWith('HTTP/'), 'no HTTP answer to non-HTTP bytes');
  const p = await connect(wss(), { ca });
  await p.close(1000);
});

t.test('a TCP client that never starts the handshake is closed after handshake_timeout_ms', async () => {
  const fixture = h.start(path.join(h.BUILD, 'tests', 'server_fixture'),
                          ['--handshake', '300', '--echo', '--tls-cert', pki.server.cert, '--tls-key', pki.server.key],
                          'server_fixture');
  const port = Number((await fixture.waitLine('stderr', /listening on 127\.0\.0\.1:(\d+)/))[1]);
  const s = net.connect(port, '127.0.0.1');
  const t0 = Date.now();
  await readToEnd(s, 3000);
  const took = Date.now() - t0;
  assert.ok(took >= 250 && took < 2000, `closed after ${took} ms`);
  // A slow handshake in pieces is covered by the same deadline: send half a ClientHello, stall.
  const hello = await new Promise((resolve) => {
    const srvSide = net.createServer((c) => c.once('data', (d) => { resolve(d); c.destroy(); srvSide.close(); }));
    srvSide.listen(0, '127.0.0.1', () => {
      const c = tls.connect({ port: srvSide.address().port, host: '127.0.0.1', rejectUnauthorized: false });
      c.on('error', () => {});
    });
  });
  const s2 = net.connect(port, '127.0.0.1');
  s2.write(hello.subarray(0, 20));
  const t1 = Date.now();
  await readToEnd(s2, 3000);
  assert.ok(Date.now() - t1 < 2000, 'a half ClientHello is dropped at the deadline');
  const stop = await fixture.stop('SIGTERM');
  assert.strictEqual(stop.code, 0);
});

t.test('SIGTERM: clients get 1001, the server exits 0', async () => {
  const p = await connect(wss(), { ca });
  const exit = await srv.proc.stop('SIGTERM');
  const closed = await h.within(5000, 'close', p.closed);
  assert.strictEqual(closed.code, 1001);
  assert.deepStrictEqual(exit, { code: 0, signal: null });
});

t.after(async () => {
  if (srv) await srv.proc.stop('SIGTERM');
});

t.run();
