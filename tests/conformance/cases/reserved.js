'use strict';
// Reserved bits and reserved opcodes (RFC 6455 5.2): without a negotiated extension any RSV bit
// fails the connection, and so does any opcode 3-7 or 11-15. Each bad frame follows a valid
// message whose echo must come back first.

const { OP, RSV1, RSV2, RSV3, closePayload } = require('../lib/frames');

const BITS = [['RSV1', RSV1], ['RSV2', RSV2], ['RSV3', RSV3], ['RSV1+RSV2+RSV3', RSV1 | RSV2 | RSV3]];

/* The bad frame(s) for each frame type, built by peer p with RSV bits rsv. */
const CARRIERS = {
  text: (p, rsv) => [p.text('with rsv', { rsv })],
  binary: (p, rsv) => [p.binary(Buffer.from([1, 2, 3]), { rsv })],
  ping: (p, rsv) => [p.ping('with rsv', { rsv })],
  pong: (p, rsv) => [p.pong('with rsv', { rsv })],
  close: (p, rsv) => [p.frame({ op: OP.CLOSE, payload: closePayload(1000), rsv })],
  continuation: (p, rsv) => [p.text('open ', { fin: false }), p.cont('with rsv', { rsv })],
};

function reservedBits(add) {
  for (const [bitName, rsv] of BITS) {
    for (const [kind, make] of Object.entries(CARRIERS)) {
      add(`${bitName} on a ${kind} frame -> close 1002`, async (t) => {
        const p = await t.open();
        await p.echo(OP.TEXT, 'valid before');
        p.write(make(p, rsv));
        await p.expectFail(1002);
      });
    }
  }

  for (const [bitName, rsv] of BITS.slice(0, 3)) {
    add(`text, ${bitName} text, ping in one write -> echo, then close 1002, no pong`, async (t) => {
      const p = await t.open();
      p.write(p.text('valid before'), p.text('with rsv', { rsv }), p.ping('never answered'));
      await p.expectText('valid before');
      await p.expectFail(1002);
    });
  }
}

function reservedOpcodes(add) {
  for (const op of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
    add(`reserved opcode ${op} -> close 1002`, async (t) => {
      const p = await t.open();
      await p.echo(OP.TEXT, 'valid before');
      p.write(p.frame({ op, payload: op < 8 ? 'reserved data' : '' }));
      await p.expectFail(1002);
    });
  }

  for (const op of [5, 13]) {
    add(`text, opcode ${op} with payload, ping in one write -> echo, then close 1002`, async (t) => {
      const p = await t.open();
      p.write(p.text('valid before'), p.frame({ op, payload: 'payload' }), p.ping('never answered'));
      await p.expectText('valid before');
      await p.expectFail(1002);
    });
  }

  add('reserved opcode 3 inside an open fragmented message -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.text('open ', { fin: false }), p.frame({ op: 3, payload: 'x' }));
    await p.expectFail(1002);
  });

  add('reserved opcode 11 with FIN=0 -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.frame({ op: 11, payload: '', fin: false }));
    await p.expectFail(1002);
  });
}

module.exports = { reservedBits, reservedOpcodes };
