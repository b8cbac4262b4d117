'use strict';
// Pings and pongs (RFC 6455 5.5, 5.5.2, 5.5.3).

const { OP } = require('../lib/frames');
const { asciiText, binaryData } = require('../lib/data');

function control(add) {
  add('ping with 0 bytes -> pong with 0 bytes', async (t) => {
    const p = await t.open();
    p.write(p.ping(''));
    await p.expectPong('');
    await p.closeHandshake();
  });

  add('ping with 125 bytes -> pong with the same payload', async (t) => {
    const p = await t.open();
    const data = asciiText(125);
    p.write(p.ping(data));
    await p.expectPong(data);
    await p.closeHandshake();
  });

  add('ping with 125 binary bytes (0x80-0xFC) -> same pong', async (t) => {
    const p = await t.open();
    const data = Buffer.from(Array.from({ length: 125 }, (_, i) => 0x80 + i));
    p.write(p.ping(data));
    await p.expectPong(data);
    await p.closeHandshake();
  });

  add('ping written one byte per TCP write', async (t) => {
    const p = await t.open();
    await p.writeChunked(p.ping('slow ping'), 1, 2);
    await p.expectPong('slow ping');
    await p.closeHandshake();
  });

  add('ping with 126 bytes -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.ping(asciiText(126)));
    await p.expectFail(1002);
  });

  add('ping with 65536 bytes (64-bit length) -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.ping(binaryData(65536)));
    await p.expectFail(1002);
  });

  add('pong with 126 bytes -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.pong(asciiText(126)));
    await p.expectFail(1002);
  });

  add('ping with FIN=0 -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.ping('fragmented', { fin: false }));
    await p.expectFail(1002);
  });

  add('ping with FIN=0 followed by its continuation -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.ping('frag', { fin: false }), p.cont('mented'));
    await p.expectFail(1002);
  });

  add('unsolicited empty pong is ignored', async (t) => {
    const p = await t.open();
    p.write(p.pong(''), p.text('after pong'));
    await p.expectText('after pong');
    await p.closeHandshake();
  });

  add('unsolicited pong with payload is ignored', async (t) => {
    const p = await t.open();
    p.write(p.pong('unsolicited'));
    p.write(p.text('after pong'));
    await p.expectText('after pong');
    await p.closeHandshake();
  });

  add('10 pings in one TCP write -> 10 pongs in order', async (t) => {
    const p = await t.open();
    p.write(Array.from({ length: 10 }, (_, i) => p.ping(`ping #${i}`)));
    for (let i = 0; i < 10; i++) await p.expectPong(`ping #${i}`);
    await p.closeHandshake();
  });

  add('10 pings in one-byte TCP writes -> 10 pongs in order', async (t) => {
    const p = await t.open();
    await p.writeChunked(Array.from({ length: 10 }, (_, i) => p.ping(`chopped ${i}`)), 1, 0);
    for (let i = 0; i < 10; i++) await p.expectPong(`chopped ${i}`);
    await p.closeHandshake();
  });

  add('10 pings 10 ms apart -> 10 pongs in order', async (t) => {
    const p = await t.open();
    await p.writeParts(Array.from({ length: 10 }, (_, i) => p.ping(binaryData(i * 12, i))), 10);
    for (let i = 0; i < 10; i++) await p.expectPong(binaryData(i * 12, i));
    await p.closeHandshake();
  });

  add('text then ping in one write -> echo first, then pong', async (t) => {
    const p = await t.open();
    p.write(p.text('first'), p.ping('second'));
    await p.expectText('first');
    await p.expectPong('second');
    await p.closeHandshake();
  });

  add('ping then large binary in one write -> pong first, then echo', async (t) => {
    const p = await t.open();
    const data = binaryData(100000);
    p.write(p.ping('first'), p.frame({ op: OP.BINARY, payload: data }));
    await p.expectPong('first');
    await p.expectBinary(data);
    await p.closeHandshake();
  });
}

module.exports = { control };
