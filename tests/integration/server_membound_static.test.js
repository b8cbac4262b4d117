'use strict';
// Static files are sent in slices as the socket drains (sendfile), never read into memory: a
// 1 GiB sparse file requested by 100 clients that stop reading (some pipelining more requests
// behind it) raises the server's RSS by a few MiB at most; each client then reads a little and is
// closed, and the server goes on serving byte-exact files.
const assert = require('assert');
const L = require('./server_lib');
const M = require('./membound_lib');

L.noQuarantine();
const t = L.suite('server_membound_static', { timeoutMs: 120000 });
const SIZE = 1 << 30;
const BOUND = 16 << 20;

t.test('a 1 GiB file to 100 clients that do not read: RSS bounded, then served', async () => {
  const { dir, data } = M.makeRoot(t, SIZE, 8 << 20);
  const srv = await L.serve(['--root', dir, '--quiet', '--handshake-timeout', '60000']);
  t.cleanup(() => srv.stop('SIGKILL'));
  await M.slowBigFile(srv, { clients: 100, size: SIZE, bound: BOUND, sample: 256 * 1024 });
  await M.fullDownloads(srv, data, SIZE);
  assert.strictEqual(srv.child.exitCode, null, 'the server is up');
});
