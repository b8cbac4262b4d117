'use strict';
// Base framing (RFC 6455 5.2, 5.3, 5.6): every payload length encoding, masking, TCP splits.
// Frames masked the wrong way for their direction (unmasked from a client, masked from a server)
// fail the connection with 1002.

const { OP } = require('../lib/frames');
const { asciiText, binaryData, human } = require('../lib/data');
const { fail } = require('../lib/peer');

const SIZES = [0, 1, 125, 126, 127, 65535, 65536, 1 << 20];

function framing(add, target) {
  for (const [kind, op, make] of [['text', OP.TEXT, asciiText], ['binary', OP.BINARY, binaryData]]) {
    for (const n of SIZES) {
      add(`${kind} message of ${human(n)} in one frame`, async (t) => {
        const p = await t.open();
        await p.echo(op, make(n), 8000);
        await p.closeHandshake();
      });
    }
  }

  add('three empty messages in a row (text, binary, text)', async (t) => {
    const p = await t.open();
    p.write(p.text(''), p.binary(''), p.text(''));
    await p.expectText('');
    await p.expectBinary('');
    await p.expectText('');
    await p.closeHandshake();
  });

  add('text message written one byte per TCP write', async (t) => {
    const p = await t.open();
    const data = asciiText(40);
    await p.writeChunked(p.text(data), 1, 2);
    await p.expectText(data);
    await p.closeHandshake();
  });

  for (const n of [0, 1, 125, 126, 127, 128, 65535, 65536]) {
    add(`text message of ${human(n)} in back-to-back one-byte TCP writes`, async (t) => {
      const p = await t.open();
      const data = asciiText(n);
      await p.writeChunked(p.text(data), 1, 0);
      await p.expectText(data);
      await p.closeHandshake();
    });
  }

  add('binary message with 16-bit length written one byte per TCP write', async (t) => {
    const p = await t.open();
    const data = binaryData(300);
    await p.writeChunked(p.binary(data), 1, 1);
    await p.expectBinary(data);
    await p.closeHandshake();
  });

  add('64-bit length header one byte per write, then the payload', async (t) => {
    const p = await t.open();
    const data = binaryData(70000);
    const frame = p.binary(data);
    await p.writeChunked(frame.subarray(0, 14), 1, 5);
    await p.writeChunked(frame.subarray(14), 7000, 5);
    await p.expectBinary(data);
    await p.closeHandshake();
  });

  add('header and payload in separate writes 50 ms apart', async (t) => {
    const p = await t.open();
    const data = asciiText(200);
    const frame = p.text(data);
    await p.writeParts([frame.subarray(0, 8), frame.subarray(8)], 50);
    await p.expectText(data);
    await p.closeHandshake();
  });

  add('100 messages in one TCP write are echoed in order', async (t) => {
    const p = await t.open();
    const msgs = [];
    for (let i = 0; i < 100; i++) {
      const op = i % 3 === 2 ? OP.BINARY : OP.TEXT;
      const data = op === OP.TEXT ? asciiText(i * 7 % 300) : binaryData(i * 13, i);
      msgs.push([op, data]);
    }
    p.write(msgs.map(([op, data]) => p.frame({ op, payload: data })));
    for (const [op, data] of msgs) await p.expectMessage(op, data);
    await p.closeHandshake();
  });

  add('100 messages and a ping in the middle in one TCP write', async (t) => {
    const p = await t.open();
    const frames = [];
    for (let i = 0; i < 100; i++) {
      frames.push(p.text(`message ${i}`));
      if (i === 49) frames.push(p.ping('halfway'));
    }
    p.write(frames);
    for (let i = 0; i < 100; i++) {
      await p.expectText(`message ${i}`);
      if (i === 49) await p.expectPong('halfway');
    }
    await p.closeHandshake();
  });

  const crowd = target === 'server' ? 50 : 10; // (clients under test are processes)
  add(`${crowd} connections at once, each echoing 20 messages`, async (t) => {
    const peers = await Promise.all(Array.from({ length: crowd }, () => t.open()));
    peers.forEach((p, i) => p.write(Array.from({ length: 20 }, (_, k) => p.text(`c${i} m${k}`))));
    await Promise.all(peers.map(async (p, i) => {
      for (let k = 0; k < 20; k++) await p.expectText(`c${i} m${k}`);
      await p.closeHandshake();
    }));
  });

  add('mask key of all zero bytes is still a masked frame', async (t) => {
    const p = await t.open();
    p.write(p.text('zero key', { mask: Buffer.alloc(4) }));
    await p.expectText('zero key');
    await p.closeHandshake();
  }, { only: 'server' });

  const wrongly = target === 'server' ? 'unmasked' : 'masked';
  const from = target === 'server' ? 'a client' : 'a server';
  add(`${wrongly} text frame from ${from} -> close 1002`, async (t) => {
    const p = await t.open();
    await p.echo(OP.TEXT, 'right first');
    p.write(p.text('wrongly masked', { mask: !p.masking }));
    await p.expectFail(1002);
  });

  add(`${wrongly} ping from ${from} -> close 1002`, async (t) => {
    const p = await t.open();
    p.write(p.ping('wrongly masked', { mask: !p.masking }));
    await p.expectFail(1002);
  });

  for (const [kind, make] of [['binary', (p) => p.binary(Buffer.from([1, 2, 3]), { mask: true })],
                              ['close', (p) => p.close(1000, '', { mask: true })],
                              ['empty text', (p) => p.text('', { mask: true })],
                              ['continuation', (p) => [p.text('open', { fin: false }),
                                                       p.cont('masked', { mask: true })]]]) {
    add(`masked ${kind} frame from a server -> close 1002`, async (t) => {
      const p = await t.open();
      p.write(make(p));
      await p.expectFail(1002);
    }, { only: 'client' });
  }

  add('masked text frame with an all-zero key from a server -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.text('zero key', { mask: Buffer.alloc(4) }));
    await p.expectFail(1002);
  }, { only: 'client' });

  add('100 messages echoed: every frame masked with a key of its own', async (t) => {
    const p = await t.open();
    p.write(Array.from({ length: 100 }, (_, i) => p.binary(Buffer.alloc(i % 7, i))));
    for (let i = 0; i < 100; i++) await p.expectBinary(Buffer.alloc(i % 7, i));
    await p.closeHandshake();
    if (p.keys.size !== 101) fail(`expected 101 frames with 101 mask keys, saw ${p.keys.size} keys`);
  }, { only: 'client' });

  add('non-minimal 16-bit length for 5 bytes -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.text('hello', { lengthForm: 16 }));
    await p.expectFail(1002);
  });

  add('non-minimal 64-bit length for 200 bytes -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.binary(binaryData(200), { lengthForm: 64 }));
    await p.expectFail(1002);
  });

  add('64-bit length with the top bit set -> close 1002 without waiting for payload', async (t) => {
    const p = await t.open();
    p.write(p.binary('', { length: 1n << 63n, lengthForm: 64 }));
    await p.expectFail(1002, 1000);
  });
}

module.exports = { framing };
