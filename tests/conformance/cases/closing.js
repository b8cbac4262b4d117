'use strict';
// The closing handshake (RFC 6455 5.5.1, 7.1, 7.4): a close is answered with a close, then the
// server closes TCP first (the client waits for it); invalid close frames fail the connection.
//
// A close without status code may be answered with an empty close or with 1000: 5.5.1 only says
// the answer "typically echos the status code it received", and there is none to echo.

const { OP, closePayload } = require('../lib/frames');
const { asciiText, binaryData } = require('../lib/data');
const { sleep } = require('../lib/peer');

const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                     3000, 3999, 4000, 4999];
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

function closing(add, target) {
  add('close without payload -> close (empty or 1000), then the server closes TCP', async (t) => {
    const p = await t.open();
    await p.closeHandshake(null);
  });

  add('close 1000 with a reason -> close 1000, server closes TCP', async (t) => {
    const p = await t.open();
    await p.closeHandshake(1000, 'bye now');
  });

  add('close written one byte per TCP write', async (t) => {
    const p = await t.open();
    await p.writeChunked(p.close(1000, 'slowly'), 1, 2);
    await p.expectCloseEnd([1000]);
  });

  add('close after a message -> echo, then close', async (t) => {
    const p = await t.open();
    p.write(p.text('last words'), p.close(1000));
    await p.expectText('last words');
    await p.expectCloseEnd([1000]);
  });

  add('256 KiB message, close and ping in one write -> echo, close, no pong', async (t) => {
    const p = await t.open();
    const data = binaryData(256 * 1024);
    p.write(p.binary(data), p.close(1000), p.ping('too late'));
    await p.expectBinary(data);
    await p.expectCloseEnd([1000]);
  });

  for (const code of VALID_CODES) {
    add(`close with valid code ${code} -> close ${code}`, async (t) => {
      const p = await t.open();
      await p.closeHandshake(code);
    });
  }

  for (const code of INVALID_CODES) {
    add(`close with invalid code ${code} -> close 1002`, async (t) => {
      const p = await t.open();
      p.write(p.frame({ op: OP.CLOSE, payload: closePayload(code) }));
      await p.expectFail(1002);
    });
  }

  add('close with a 1-byte payload -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.frame({ op: OP.CLOSE, payload: Buffer.from([0x03]) }));
    await p.expectFail(1002);
  });

  add('close with a 123-byte reason (125-byte payload) -> close 1000', async (t) => {
    const p = await t.open();
    await p.closeHandshake(1000, asciiText(123));
  });

  add('close with a 123-byte multi-byte UTF-8 reason -> close 1000', async (t) => {
    const p = await t.open();
    const reason = Buffer.from('€'.repeat(41));
    await p.closeHandshake(1000, reason);
  });

  add('close with a 124-byte reason (126-byte payload) -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.close(1000, asciiText(124)));
    await p.expectFail(1002);
  });

  add('close reason with invalid UTF-8 -> close 1007', async (t) => {
    const p = await t.open();
    p.write(p.close(1000, Buffer.from([0x6f, 0x6b, 0xed, 0xa0, 0x80])));
    await p.expectFail(1007);
  });

  add('close reason truncated inside a character -> close 1007', async (t) => {
    const p = await t.open();
    p.write(p.close(1000, Buffer.from([0x6f, 0x6b, 0xe2, 0x82])));
    await p.expectFail(1007);
  });

  add('data after close is ignored (nothing echoed)', async (t) => {
    const p = await t.open();
    p.write(p.close(1000), p.text('after close'), p.binary('after close'));
    await p.expectCloseEnd([1000]);
  });

  add('ping after close is not answered', async (t) => {
    const p = await t.open();
    p.write(p.close(1000), p.ping('after close'));
    await p.expectCloseEnd([1000]);
  });

  add('second close is ignored (one close back)', async (t) => {
    const p = await t.open();
    p.write(p.close(1000), p.close(1001));
    await p.expectCloseEnd([1000]);
  });

  add('invalid frame after close is ignored (no second close)', async (t) => {
    const p = await t.open();
    p.write(p.close(1000), p.frame({ op: 5, payload: 'garbage' }));
    await p.expectCloseEnd([1000]);
  });

  add('fragment, close, final fragment -> close echoed, message dropped', async (t) => {
    const p = await t.open();
    p.write(p.text('first half ', { fin: false }), p.close(1000), p.cont('second half'));
    await p.expectCloseEnd([1000]);
  });

  const other = target === 'server' ? 'the client' : 'the server';
  add(`close followed at once by ${other} half-closing TCP -> close back, TCP closed`,
      async (t) => {
        const p = await t.open();
        p.write(p.close(1000));
        p.socket.end();
        await p.expectClose([1000]);
        await p.expectTcpClose();
      });

  add(`${other} half-closes TCP without a close frame -> ${target} closes TCP`, async (t) => {
    const p = await t.open();
    await p.echo(OP.TEXT, 'before FIN');
    p.socket.end();
    await p.expectTcpClose();
  });

  add('client vanishes mid-frame: the server goes on serving others', async (t) => {
    const gone = await t.open();
    gone.write(gone.text(asciiText(100)).subarray(0, 40));
    await sleep(50);
    gone.destroy();
    const p = await t.open();
    await p.echo(OP.TEXT, 'still here');
    await p.closeHandshake();
  }, { only: 'server' });

  add('client resets TCP mid-message: the server goes on serving others', async (t) => {
    const gone = await t.open();
    gone.write(gone.binary(binaryData(10), { fin: false }));
    await sleep(50);
    gone.socket.resetAndDestroy();
    const p = await t.open();
    await p.echo(OP.BINARY, binaryData(10));
    await p.closeHandshake();
  }, { only: 'server' });

  add('close while a fragmented message is open -> close echoed, message dropped', async (t) => {
    const p = await t.open();
    p.write(p.text('never ', { fin: false }), p.cont('finished', { fin: false }), p.close(1000));
    await p.expectCloseEnd([1000]);
  });
}

module.exports = { closing };
