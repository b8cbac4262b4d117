'use strict';
// How a client connection ends besides the closing handshakes of closing.js (RFC 6455 7.1.1,
// 7.1.7): a server that vanishes or resets, one that never answers the client's close, one that
// never closes TCP after the handshake, and `wsk connect` told to stop by a signal.

const { OP } = require('../lib/frames');
const { asciiText, binaryData } = require('../lib/data');
const { sleep } = require('../lib/peer');

function clientEnding(add) {
  add('the server closes TCP mid-frame -> the client closes TCP, exit 1 (1006)', async (t) => {
    const p = await t.open();
    await p.echo(OP.TEXT, 'before');
    p.write(p.text(asciiText(100)).subarray(0, 40));
    await sleep(20);
    p.socket.end();
    await p.expectTcpClose();
  });

  add('the server closes TCP right after the 101 -> the client closes TCP, exit 1 (1006)',
      async (t) => {
        const p = await t.open();
        p.socket.end();
        await p.expectTcpClose();
      });

  add('the server resets TCP mid-message -> exit 1 with a reason', async (t) => {
    const c = await t.spawn();
    const p = c.accept();
    p.write(p.binary(binaryData(10), { fin: false }));
    await sleep(50);
    p.socket.resetAndDestroy();
    c.expectExit(1, /reset|1006/);
  });

  add('the client fails the connection and the server never answers its close -> ' +
      'the client closes TCP itself (close timeout), exit 1', async (t) => {
    const c = await t.spawn({ args: ['--close-timeout', '5000'] });
    const p = c.accept();
    await p.echo(OP.TEXT, 'valid before');
    p.write(p.frame({ op: 3, payload: 'reserved' }));
    await p.expectClose([1002]);
    await p.expectTcpClose({ ms: 8000 });
    c.expectExit(1, /reserved|opcode/);
  }, { timeout: 20000 });

  add('the server answers close but never closes TCP -> the client closes TCP itself, exit 0',
      async (t) => {
        const p = await t.open({ args: ['--close-timeout', '5000'] });
        p.write(p.close(1000));
        await p.expectClose([1000]);
        await p.expectTcpClose({ ms: 8000 });
      }, { timeout: 20000 });

  add('SIGTERM: the client sends close 1000, waits for the server to close TCP, exit 0',
      async (t) => {
        const c = await t.spawn();
        const p = c.accept();
        await p.echo(OP.TEXT, 'before the signal');
        process.kill(c.proc.child.pid, 'SIGTERM');
        await p.expectClose([1000]);
        p.write(p.close(1000));
        await p.closeTcpFirst();
      });

  add('SIGINT while a message is half received: close 1000, then exit 0', async (t) => {
    const c = await t.spawn();
    const p = c.accept();
    p.write(p.text('first ', { fin: false }));
    await p.written(); // (split delivery: the 101 and the fragment reach the client first)
    await sleep(50);
    process.kill(c.proc.child.pid, 'SIGINT');
    await p.expectClose([1000]);
    p.write(p.cont('and last'), p.close(1000));
    await p.closeTcpFirst();
  });
}

module.exports = { clientEnding };
