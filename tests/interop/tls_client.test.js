'use strict';
// wsk's client over wss:// against Node's `ws` on an https server (a peer we did not write), with
// the throw-away PKI of tests/tls/make_certs.sh: messages both ways, 16 MiB both ways while the
// server stalls its reading (the client's SSL_write must wait and retry), SNI and ALPN as the
// server sees them, each kind of bad certificate refused with a message that names it, --insecure,
// session resumption on reconnection, a TLS handshake that never completes, wss:// to a server
// that does not speak TLS, and which of these failures stop the reconnection by default.

const assert = require('assert');
const net = require('net');
const h = require('./lib/harness');
const { probe, wskConnect, fnv, pattern } = require('./lib/client_probe');
const { startServer } = require('./lib/ws_server');
const { makeCerts } = require('../tls/certs');

const t = h.suite('tls_client', { timeoutMs: 120000 });
const pki = makeCerts();
const servers = {};

const tlsOptions = (pair) => ({ cert: pki.read(pair.cert), key: pki.read(pair.key), ALPNProtocols: ['http/1.1'] });
const url = (name, p = '/echo', host = 'localhost') => `wss://${host}:${servers[name].port}${p}`;
const lastRequest = (name) => servers[name].seen.requests[servers[name].seen.requests.length - 1];
const lastTls = (name) => servers[name].seen.tls[servers[name].seen.tls.length - 1];

t.test('start ws servers over TLS: good, expired, wrong host, self-signed; and a plain one', async () => {
  servers.good = await startServer({ tls: tlsOptions(pki.server) });
  servers.expired = await startServer({ tls: tlsOptions(pki.expired) });
  servers.wrongHost = await startServer({ tls: tlsOptions(pki.wrongHost) });
  servers.selfSigned = await startServer({ tls: tlsOptions(pki.selfSigned) });
  servers.plain = await startServer();
});

t.test('wsk connect --ca: text both ways, clean close; SNI and ALPN as the server saw them', async () => {
  const c = wskConnect([url('good'), '--ca', pki.ca, '-x', 'hello', '-x', 'h\u00e9llo \u2713', '--wait', '0.5']);
  assert.strictEqual(await c.wait(), 0, `stderr: ${c.stderr.join(' | ')}`);
  assert.deepStrictEqual(c.lines, ['hello', 'h\u00e9llo \u2713']);
  assert.strictEqual(lastTls('good').servername, 'localhost', 'SNI');
  assert.strictEqual(lastTls('good').alpn, 'http/1.1', 'ALPN');
  await h.sleep(100);
  assert.strictEqual(servers.good.seen.closes.pop().code, 1000);
});

t.test('wsk connect --ca DIR: a hashed CA directory', async () => {
  const c = wskConnect([url('good'), '--ca', pki.caDir, '-x', 'by directory', '--wait', '0.3']);
  assert.strictEqual(await c.wait(), 0, c.stderr.join(' | '));
  assert.deepStrictEqual(c.lines, ['by directory']);
});

t.test('wsk connect --binary, and a close code from the server', async () => {
  const c = wskConnect([url('good'), '--ca', pki.ca, '--binary', '-x', 'abc', '--wait', '0.3']);
  assert.strictEqual(await c.wait(), 0);
  assert.deepStrictEqual(c.lines, ['< [binary 3 bytes] 616263']);
  const d = wskConnect([url('good', '/close4000'), '--ca', pki.ca]);
  d.end();
  assert.strictEqual(await d.wait(), 1);
  assert.ok(d.stderr.some((l) => /closed with code 4000 \(server says bye\)/.test(l)), d.stderr.join(' | '));
});

t.test('an IP literal is checked against the IP in the certificate, without SNI', async () => {
  const p = probe(url('good', '/echo', '127.0.0.1'), ['--ca', pki.ca]);
  await p.next(/^open /);
  assert.strictEqual(lastTls('good').servername, false, 'no SNI for an address');
  p.send('text over an address');
  await p.next(/^message text 15 [0-9a-f]+ over an address$/);
  p.send('stop 1000');
  await p.next(/^close 1000 1/);
  p.end();
  assert.strictEqual(await p.wait(), 0);
});

t.test('16 MiB each way while the server stalls its reading (client retries SSL_write)', async () => {
  const n = 16 * 1024 * 1024;
  const p = probe(url('good'), ['--ca', pki.ca, '--max-message', String(64 * 1024 * 1024)]);
  await p.next(/^open /);
  const sock = lastRequest('good').socket;
  sock.pause();
  p.send(`big binary ${n}`);
  await h.sleep(700);
  sock.resume();
  await p.next(new RegExp(`^message binary ${n} ${fnv(pattern('binary', n))} `), 60000);
  p.send(`big text ${n}`);
  await p.next(new RegExp(`^message text ${n} ${fnv(pattern('text', n))} abcdef`), 60000);
  p.send('stop 1000');
  await p.next(/^close 1000 1/);
  p.end();
  assert.strictEqual(await p.wait(), 0);
});

// Each bad certificate is refused, and the message says which rule it broke.
const refusals = [
  ['expired', ['--ca', pki.ca], /certificate verify failed: certificate has expired/],
  ['wrongHost', ['--ca', pki.ca], /certificate verify failed: hostname mismatch/],
  ['selfSigned', ['--ca', pki.ca], /certificate verify failed: self-signed certificate/],
  ['good', [], /certificate verify failed: unable to get local issuer certificate/], // system CAs only
];
for (const [name, args, why] of refusals) {
  t.test(`refused: ${name} ${args.length ? 'with --ca' : 'without --ca'} -> ${why.source.split(': ').pop()}`, async () => {
    const before = servers[name].seen.requests.length;
    const c = wskConnect([url(name), ...args, '-x', 'never sent']);
    assert.strictEqual(await c.wait(), 1);
    const line = c.stderr.find((l) => why.test(l));
    assert.ok(line, `stderr: ${c.stderr.join(' | ')}`);
    assert.match(line, new RegExp(`^wsk connect: TLS handshake with localhost \\(127\\.0\\.0\\.1:${servers[name].port}\\) failed: `));
    assert.strictEqual(servers[name].seen.requests.length, before, 'no upgrade request was sent');
    const p = probe(url(name), args);
    await p.next(new RegExp(`^error ${-5009} TLS handshake .*${why.source.split(': ').pop()}`));
    await p.next(/^close 1006 0/);
    p.end();
    assert.strictEqual(await p.wait(), 0);
  });
}

t.test('--insecure: the self-signed server is accepted, with a warning', async () => {
  const c = wskConnect([url('selfSigned'), '--insecure', '-x', 'unverified', '--wait', '0.3']);
  assert.strictEqual(await c.wait(), 0, c.stderr.join(' | '));
  assert.deepStrictEqual(c.lines, ['unverified']);
  assert.ok(c.stderr.some((l) => /warning: --insecure/.test(l)), c.stderr.join(' | '));
});

t.test('reconnection resumes the TLS session (session ticket)', async () => {
  const p = probe(url('good', '/close1001'), ['--ca', pki.ca, '--reconnect', '--initial-delay', '20',
                                             '--jitter', '0']);
  const before = servers.good.seen.tls.length;
  await p.next(/^open /);
  await p.next(/^close 1001 1/);
  await p.next(/^open /);
  const [first, second] = servers.good.seen.tls.slice(before);
  assert.strictEqual(first.reused, false);
  assert.strictEqual(second.reused, true, 'the second connection resumed the session');
  p.send('stop 1000');
  p.end();
  assert.strictEqual(await p.wait(), 0);
});

t.test('a server that never answers the TLS hello: handshake_timeout_ms', async () => {
  const sockets = [];
  const mute = net.createServer((s) => sockets.push(s));
  await new Promise((resolve) => mute.listen(0, '127.0.0.1', resolve));
  const port = mute.address().port;
  const p = probe(`wss://127.0.0.1:${port}/`, ['--ca', pki.ca, '--handshake-timeout', '300']);
  await p.next(new RegExp(`^error -110 the TLS handshake with 127\\.0\\.0\\.1:${port} did not complete within 300 ms`));
  await p.next(/^close 1006 0/);
  p.end();
  assert.strictEqual(await p.wait(), 0);
  for (const s of sockets) s.destroy();
  mute.close();
});

t.test('wss:// to a server without TLS: a TLS error, not a hang', async () => {
  const p = probe(`wss://127.0.0.1:${servers.plain.port}/echo`, ['--ca', pki.ca]);
  const m = await p.next(/^error (-\d+) (.*)/);
  assert.strictEqual(Number(m[1]), -5009, m[0]);
  assert.match(m[2], /^TLS handshake with 127\.0\.0\.1:\d+ failed: /);
  await p.next(/^close 1006 0/);
  p.end();
  assert.strictEqual(await p.wait(), 0);
});

t.test('with --reconnect: a certificate that does not verify stops the retries; a TLS error that is not about the certificate is retried', async () => {
  const p = probe(url('selfSigned'), ['--ca', pki.ca, '--reconnect', '--initial-delay', '20',
                                      '--jitter', '0', '--why']);
  await p.next(/^error -5009 TLS handshake .*self-signed certificate/);
  await p.next(/^why tls-verify 0 closing$/);
  await p.next(/^close 1006 0/);
  await p.next(/^ended tls-verify 1006 stopped$/);
  await p.next(/^done$/);
  assert.ok(!p.lines.some((l) => l.startsWith('reconnect')), p.lines.join('\n'));
  assert.strictEqual(await p.wait(), 0);

  const q = probe(`wss://127.0.0.1:${servers.plain.port}/echo`, ['--ca', pki.ca, '--reconnect',
    '--initial-delay', '20', '--jitter', '0', '--max-attempts', '1', '--why']);
  await q.next(/^why tls 0 closing$/);
  await q.next(/^ended tls 1006 waiting$/);
  await q.next(/^reconnect 1 20$/);
  await q.next(/^why tls 0 closing$/);
  await q.next(/^ended tls 1006 stopped$/); // max_attempts
  await q.next(/^done$/);
  assert.strictEqual(await q.wait(), 0);
});

t.test('wsk_client_set_url from ws:// to wss://: the next attempt speaks TLS, verified with the CA option', async () => {
  const gone = await h.freePort();
  const p = probe(`ws://127.0.0.1:${gone}/`, ['--ca', pki.ca, '--reconnect', '--initial-delay', '20',
                                            '--jitter', '0', '--next-url', url('good')]);
  await p.next(/^reconnect 1 20$/);
  await p.next(/^open /);
  assert.strictEqual(lastTls('good').servername, 'localhost');
  p.send('text over tls now');
  await p.next(/^message text \d+ \w+ over tls now$/);
  p.end();
  assert.strictEqual(await p.wait(), 0);
});

t.after(async () => {
  for (const s of Object.values(servers)) await s.close();
});

t.run();
