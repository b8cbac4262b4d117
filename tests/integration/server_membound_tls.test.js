'use strict';
// Static files over TLS are read in 16 KiB slices as the socket drains, never whole: a 1 GiB
// sparse file requested by 20 TLS clients that stop reading raises the server's RSS by a few MiB
// at most; each client then reads a little and is closed, and files still arrive byte-exact. A
// ping flood over TLS from a peer that does not read leaves one pong pending, as over TCP.
const assert = require('assert');
const L = require('./server_lib');
const M = require('./membound_lib');
const { makeCerts } = require('../tls/certs');

L.noQuarantine();
const t = L.suite('server_membound_tls', { timeoutMs: 120000 });
const SIZE = 1 << 30;
const BOUND = 16 << 20;

let pki;
let ca;

t.test('a 1 GiB file to 20 TLS clients that do not read: RSS bounded, then served', async () => {
  pki = makeCerts();
  ca = pki.read(pki.ca);
  const { dir, data } = M.makeRoot(t, SIZE, 8 << 20);
  const srv = await L.serve(['--root', dir, '--quiet', '--handshake-timeout', '60000',
    '--tls-cert', pki.server.cert, '--tls-key', pki.server.key]);
  t.cleanup(() => srv.stop('SIGKILL'));
  await M.slowBigFile(srv, { clients: 20, size: SIZE, bound: BOUND, sample: 256 * 1024, tls: true, ca });
  await M.fullDownloads(srv, data, SIZE, { tls: true, ca });
  assert.strictEqual(srv.child.exitCode, null, 'the server is up');
});

t.test('50 000 pings over TLS, never read: one pong pending, RSS bounded, then a valid stream', async () => {
  const srv = await L.serve(['--echo', '--quiet', '--tls-cert', pki.server.cert, '--tls-key', pki.server.key]);
  t.cleanup(() => srv.stop('SIGKILL'));
  await M.pingFlood(srv, 50000, 4 << 20, { tls: true, ca });
});
