'use strict';
// Fragmentation (RFC 6455 5.4): messages in many frames, control frames between fragments,
// and every way to break the fragment sequence.

const { OP, closePayload } = require('../lib/frames');
const { asciiText, binaryData, prng } = require('../lib/data');

function evenSizes(total, count) {
  return Array.from({ length: count }, () => Math.ceil(total / count));
}

function fragmentation(add) {
  for (const [kind, op, make] of [['text', OP.TEXT, asciiText], ['binary', OP.BINARY, binaryData]]) {
    for (const count of [2, 3, 50]) {
      add(`${kind} message in ${count} fragments`, async (t) => {
        const p = await t.open();
        const data = make(1000);
        p.write(p.fragments(op, data, evenSizes(1000, count)));
        await p.expectMessage(op, data);
        await p.closeHandshake();
      });
    }

    add(`${kind} message in 1000 one-byte fragments`, async (t) => {
      const p = await t.open();
      const data = make(1000);
      p.write(p.fragments(op, data, new Array(1000).fill(1)));
      await p.expectMessage(op, data);
      await p.closeHandshake();
    });

    add(`${kind} fragments in separate TCP writes 20 ms apart`, async (t) => {
      const p = await t.open();
      const data = make(300);
      await p.writeParts(p.fragments(op, data, [100, 100, 100]), 20);
      await p.expectMessage(op, data);
      await p.closeHandshake();
    });

    add(`${kind} fragments of 125, 126 and 65536 bytes`, async (t) => {
      const p = await t.open();
      const data = make(125 + 126 + 65536);
      p.write(p.fragments(op, data, [125, 126, 65536]));
      await p.expectMessage(op, data);
      await p.closeHandshake();
    });

    add(`ping between ${kind} fragments -> pong first, then the message`, async (t) => {
      const p = await t.open();
      const data = make(30);
      const [a, b] = p.fragments(op, data, [10, 20]);
      p.write(a, p.ping('between'), b);
      await p.expectPong('between');
      await p.expectMessage(op, data);
      await p.closeHandshake();
    });
  }

  add('ping between fragments sent 50 ms apart: pong arrives before the last fragment', async (t) => {
    const p = await t.open();
    const [a, b] = p.fragments(OP.TEXT, 'fragmented text', [5, 10]);
    p.write(a, p.ping('between'));
    await p.expectPong('between');
    p.write(b);
    await p.expectText('fragmented text');
    await p.closeHandshake();
  });

  add('three pings between every pair of fragments -> pongs in order, then the message', async (t) => {
    const p = await t.open();
    const frags = p.fragments(OP.BINARY, binaryData(40), [10, 10, 10, 10]);
    const parts = [];
    frags.forEach((f, i) => {
      parts.push(f);
      if (i < frags.length - 1) for (let k = 0; k < 3; k++) parts.push(p.ping(`p${i}.${k}`));
    });
    p.write(parts);
    for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) await p.expectPong(`p${i}.${k}`);
    await p.expectBinary(binaryData(40));
    await p.closeHandshake();
  });

  add('ping written one byte per write between two fragments', async (t) => {
    const p = await t.open();
    const [a, b] = p.fragments(OP.TEXT, asciiText(300), [150, 150]);
    p.write(a);
    await p.writeChunked(p.ping(asciiText(125)), 1, 1);
    p.write(b);
    await p.expectPong(asciiText(125));
    await p.expectText(asciiText(300));
    await p.closeHandshake();
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    add(`random mix of fragmented messages and pings in random TCP splits (seed ${seed})`,
        async (t) => {
          const p = await t.open();
          const rnd = prng(seed);
          const frames = [];
          const expected = [];
          for (let m = 0; m < 40; m++) {
            const op = rnd() % 2 ? OP.TEXT : OP.BINARY;
            const len = rnd() % 4 === 0 ? rnd() % 70000 : rnd() % 300;
            const data = op === OP.TEXT ? asciiText(len) : binaryData(len, m);
            const sizes = Array.from({ length: 1 + (rnd() % 6) }, () => rnd() % (len + 1));
            p.fragments(op, data, sizes).forEach((f, i) => {
              frames.push(f);
              if (i < sizes.length - 1 && rnd() % 2) {
                const ping = binaryData(rnd() % 126, m + i);
                frames.push(p.ping(ping));
                expected.push(['pong', ping]);
              }
            });
            expected.push([op, data]);
          }
          const stream = Buffer.concat(frames);
          const parts = [];
          for (let off = 0; off < stream.length;) {
            const n = 1 + (rnd() % (rnd() % 3 === 0 ? 20 : 5000));
            parts.push(stream.subarray(off, off + n));
            off += n;
          }
          await p.writeParts(parts, 0);
          for (const [kind, data] of expected) {
            if (kind === 'pong') await p.expectPong(data);
            else await p.expectMessage(kind, data);
          }
          await p.closeHandshake();
        });
  }

  add('unsolicited pong between fragments is ignored', async (t) => {
    const p = await t.open();
    const [a, b] = p.fragments(OP.TEXT, 'hello world', [5, 6]);
    p.write(a, p.pong('stray'), b);
    await p.expectText('hello world');
    await p.closeHandshake();
  });

  add('empty first and last fragments around data', async (t) => {
    const p = await t.open();
    p.write(p.text('', { fin: false }), p.cont('middle', { fin: false }), p.cont(''));
    await p.expectText('middle');
    await p.closeHandshake();
  });

  add('text message of three empty fragments -> empty text', async (t) => {
    const p = await t.open();
    p.write(p.text('', { fin: false }), p.cont('', { fin: false }), p.cont(''));
    await p.expectText('');
    await p.closeHandshake();
  });

  add('binary message of two empty fragments -> empty binary', async (t) => {
    const p = await t.open();
    p.write(p.binary('', { fin: false }), p.cont(''));
    await p.expectBinary('');
    await p.closeHandshake();
  });

  add('fragmented message, then single-frame message, then fragmented again', async (t) => {
    const p = await t.open();
    p.write(p.fragments(OP.TEXT, 'one two', [3, 4]), p.binary('solo'),
            p.fragments(OP.BINARY, 'three four', [5, 5]));
    await p.expectText('one two');
    await p.expectBinary('solo');
    await p.expectBinary('three four');
    await p.closeHandshake();
  });

  add('continuation with FIN=1 and nothing to continue -> close 1002', async (t) => {
    const p = await t.open();
    await p.echo(OP.TEXT, 'valid before');
    p.write(p.cont('orphan'));
    await p.expectFail(1002);
  });

  add('continuation with FIN=0 and nothing to continue -> close 1002', async (t) => {
    const p = await t.open();
    await p.echo(OP.TEXT, 'valid before');
    p.write(p.cont('orphan', { fin: false }));
    await p.expectFail(1002);
  });

  add('continuation right after a complete fragmented message -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.fragments(OP.TEXT, 'complete', [4, 4]));
    await p.expectText('complete');
    p.write(p.cont('one too many'));
    await p.expectFail(1002);
  });

  add('continuation as the very first frame -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.cont('first'));
    await p.expectFail(1002);
  });

  for (const [inner, innerOp] of [['text', OP.TEXT], ['binary', OP.BINARY]]) {
    for (const [outer, outerOp] of [['text', OP.TEXT], ['binary', OP.BINARY]]) {
      add(`${inner} frame inside an open fragmented ${outer} message -> close 1002`, async (t) => {
        const p = await t.open();
        p.write(p.frame({ op: outerOp, payload: 'open', fin: false }),
                p.frame({ op: innerOp, payload: 'intruder' }));
        await p.expectFail(1002);
      });
    }
  }

  add('text frame with FIN=0 inside an open fragmented text message -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.text('open', { fin: false }), p.text('again', { fin: false }));
    await p.expectFail(1002);
  });

  add('fragmented pong -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.pong('frag', { fin: false }), p.cont('mented'));
    await p.expectFail(1002);
  });

  add('fragmented close -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.frame({ op: OP.CLOSE, payload: closePayload(1000), fin: false }), p.cont(''));
    await p.expectFail(1002);
  });

  add('fragmented ping inside an open fragmented text message -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.text('open', { fin: false }), p.ping('frag', { fin: false }), p.cont('x'));
    await p.expectFail(1002);
  });
}

module.exports = { fragmentation };
