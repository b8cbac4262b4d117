'use strict';
// Static files are sent in slices as the socket drains (sendfile), never read into memory: a
// 1 GiB sparse file requested by 100 clients that stop reading (some pipelining more requests
// behind it) raises the server's RSS by a few MiB at most; each client then reads a little and is
// closed, and the server goes on serving byte-exact files. A download that outlasts the timeouts
// goes on while the client reads, and is dropped once it stops.
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

t.test('a download longer than the timeouts goes on while read, and is dropped when not', async () => {
  const { dir } = M.makeRoot(t, SIZE, 1024);
  const srv = await L.serve(['--root', dir, '--quiet', '--handshake-timeout', '1000',
    '--close-timeout', '1000']);
  t.cleanup(() => srv.stop('SIGKILL'));
  await Promise.all(['', 'Connection: close\r\n'].map(async (close) => {
    const p = await M.stalled(srv.port, `GET /big.bin HTTP/1.1\r\nHost: x\r\n${close}\r\n`, { keep: 1024 });
    let ended = false;
    p.s.ended.then(() => { ended = true; });
    for (let i = 0; i < 8; i++) { // 1.6 s, past both deadlines
      await p.read(p.got() + (1 << 20));
      await L.sleep(200);
    }
    assert.ok(!ended, `${close || 'keep-alive'}: not cut while the client reads`);
    await L.sleep(2500); // not reading: dropped a timeout after the last progress
    p.s.resume();
    for (let i = 0; i < 300 && !ended; i++) await L.sleep(10);
    assert.ok(ended && p.got() < SIZE, `${close || 'keep-alive'}: dropped once the client stopped`);
  }));
});
