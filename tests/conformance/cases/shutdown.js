'use strict';
// Server-initiated close: on SIGTERM `wsk serve` closes every client with 1001 (going away),
// waits for the answers, closes TCP (the server closes first, RFC 6455 7.1.1) and exits 0.

const { OP } = require('../lib/frames');
const { fail } = require('../lib/peer');

function shutdown(add) {
  add('SIGTERM: each of 3 clients gets close 1001, server closes TCP, exits 0', async (t) => {
    const s = await t.startServer();
    const peers = [];
    for (let i = 0; i < 3; i++) peers.push(await t.open({ port: s.port }));
    for (const [i, p] of peers.entries()) await p.echo(OP.TEXT, `client ${i}`);
    process.kill(s.child.pid, 'SIGTERM');
    await Promise.all(peers.map(async (p) => {
      await p.expectClose([1001], 3000);
      p.write(p.close(1001));
      await p.expectTcpClose();
    }));
    const exit = await Promise.race([s.exited, new Promise((r) => setTimeout(r, 3000, null))]);
    if (!exit) fail('server still running 3 s after SIGTERM and all clients closed');
    if (exit.code !== 0) fail(`server exited with ${exit.signal || `code ${exit.code}`}, expected 0`);
  }, { timeout: 20000 });
}

module.exports = { shutdown };
