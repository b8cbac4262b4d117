'use strict';
// UTF-8 in text messages (RFC 6455 5.6, 8.1; RFC 3629): valid text in any split is delivered,
// invalid text fails the connection with 1007 as soon as the bytes seen cannot be valid.

const { OP } = require('../lib/frames');
const { utf8Of, hex } = require('../lib/data');

const b = (...bytes) => Buffer.from(bytes);
const cat = (...parts) => Buffer.concat(parts.map((x) => Buffer.from(x)));

// Text mixing 1-, 2-, 3- and 4-byte characters.
const MIXED = 'plain, ünïcödé, ελληνικά, русский, 日本語テキスト, 한국어, emoji 🦊🚀🎉, math 𝛑𝜀 ∞≠≤';
// Every byte boundary class: 'a' (1), 'é' (2), '€' (3), '😀' (4), 'z' (1) = 11 bytes.
const CLASSES = 'aé€😀z';

const INVALID = [];
function bad(name, bytes, { atEnd = false } = {}) {
  INVALID.push({ name, bytes: atEnd ? cat('ok ', bytes) : cat('ok ', bytes, ' tail') });
}

for (let c = 0x80; c <= 0xbf; c++) bad(`lone continuation byte ${hex(b(c))}`, b(c));
bad('lead C0 (never valid) + continuation', b(0xc0, 0x80));
bad('lead C1 (never valid) + continuation', b(0xc1, 0xbf));
for (let c = 0xf5; c <= 0xff; c++) bad(`byte ${hex(b(c))} (never valid)`, b(c, 0x80, 0x80, 0x80));
bad("overlong '/' C0 AF", b(0xc0, 0xaf));
bad("overlong '/' E0 80 AF", b(0xe0, 0x80, 0xaf));
bad("overlong '/' F0 80 80 AF", b(0xf0, 0x80, 0x80, 0xaf));
bad("overlong '/' F8 80 80 80 AF", b(0xf8, 0x80, 0x80, 0x80, 0xaf));
bad("overlong '/' FC 80 80 80 80 AF", b(0xfc, 0x80, 0x80, 0x80, 0x80, 0xaf));
bad('overlong U+07FF in 3 bytes E0 9F BF', b(0xe0, 0x9f, 0xbf));
bad('overlong U+FFFF in 4 bytes F0 8F BF BF', b(0xf0, 0x8f, 0xbf, 0xbf));
bad('overlong NUL E0 80 80', b(0xe0, 0x80, 0x80));
bad('overlong NUL F0 80 80 80', b(0xf0, 0x80, 0x80, 0x80));
for (const [hi, lo] of [[0xa0, 0x80], [0xad, 0xbf], [0xae, 0x80], [0xaf, 0xbf], [0xb0, 0x80],
                        [0xbe, 0x80], [0xbf, 0xbf]]) {
  bad(`surrogate ED ${hex(b(hi))} ${hex(b(lo))}`, b(0xed, hi, lo));
}
bad('surrogate pair ED A0 80 ED B0 80 (CESU-8)', b(0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80));
bad('surrogate pair ED AF BF ED BF BF', b(0xed, 0xaf, 0xbf, 0xed, 0xbf, 0xbf));
bad('U+110000 F4 90 80 80', b(0xf4, 0x90, 0x80, 0x80));
bad('U+1FFFFF F7 BF BF BF', b(0xf7, 0xbf, 0xbf, 0xbf));
bad('5-byte form F8 88 80 80 80', b(0xf8, 0x88, 0x80, 0x80, 0x80));
bad('6-byte form FC 84 80 80 80 80', b(0xfc, 0x84, 0x80, 0x80, 0x80, 0x80));
bad('2-byte lead followed by ASCII C3 41', b(0xc3, 0x41));
bad('3-byte lead, continuation, ASCII E2 82 41', b(0xe2, 0x82, 0x41));
bad('4-byte lead, two continuations, ASCII F0 9F 98 41', b(0xf0, 0x9f, 0x98, 0x41));
bad('extra continuation after a complete character C3 A9 80', b(0xc3, 0xa9, 0x80));
bad('two leads in a row E2 E2 82 AC', b(0xe2, 0xe2, 0x82, 0xac));
for (const bytes of [b(0xc2), b(0xdf), b(0xe0, 0xa0), b(0xe2, 0x82), b(0xef, 0xbf), b(0xf0),
                     b(0xf0, 0x9f), b(0xf0, 0x9f, 0x98), b(0xf4, 0x8f, 0xbf)]) {
  bad(`truncated sequence ${hex(bytes)} at message end`, bytes, { atEnd: true });
}

const VALID_POINTS = [0x0000, 0x007f, 0x0080, 0x07ff, 0x0800, 0xd7ff, 0xe000, 0xfdd0, 0xfeff,
                      0xfffd, 0xfffe, 0xffff, 0x10000, 0x1fffe, 0x10fffe, 0x10ffff];

function u(cp) {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

function utf8(add) {
  add('valid multi-byte text in one frame', async (t) => {
    const p = await t.open();
    await p.echo(OP.TEXT, MIXED);
    await p.closeHandshake();
  });

  add('valid multi-byte text in 7-byte fragments (splits inside characters)', async (t) => {
    const p = await t.open();
    const data = Buffer.from(MIXED);
    p.write(p.fragments(OP.TEXT, data, new Array(Math.ceil(data.length / 7)).fill(7)));
    await p.expectText(data);
    await p.closeHandshake();
  });

  add('valid text split into 2 fragments at every byte offset', async (t) => {
    const p = await t.open();
    const data = Buffer.from(CLASSES);
    for (let k = 0; k <= data.length; k++) p.write(p.fragments(OP.TEXT, data, [k, data.length - k]));
    for (let k = 0; k <= data.length; k++) await p.expectText(data);
    await p.closeHandshake();
  });

  add('valid text split inside a character with a ping between the fragments', async (t) => {
    const p = await t.open();
    const data = Buffer.from(CLASSES);
    const [a, c] = p.fragments(OP.TEXT, data, [8, 3]); // 2 of the 4 bytes of the emoji
    p.write(a, p.ping('mid-character'), c);
    await p.expectPong('mid-character');
    await p.expectText(data);
    await p.closeHandshake();
  });

  add('valid text with every byte in its own fragment', async (t) => {
    const p = await t.open();
    const data = Buffer.from(MIXED);
    p.write(p.fragments(OP.TEXT, data, new Array(data.length).fill(1)));
    await p.expectText(data);
    await p.closeHandshake();
  });

  add('valid text in one frame written one byte per TCP write', async (t) => {
    const p = await t.open();
    const data = Buffer.from(CLASSES + CLASSES);
    await p.writeChunked(p.text(data), 1, 2);
    await p.expectText(data);
    await p.closeHandshake();
  });

  for (const [name, cut] of [['2-byte', 2], ['3-byte', 4], ['4-byte after 1 byte', 7],
                             ['4-byte after 2 bytes', 8], ['4-byte after 3 bytes', 9]]) {
    add(`valid text, TCP write split inside a ${name} character`, async (t) => {
      const p = await t.open();
      const data = Buffer.from(CLASSES);
      const frame = p.text(data);
      const at = frame.length - data.length + cut; // header length + offset in the payload
      await p.writeParts([frame.subarray(0, at), frame.subarray(at)], 30);
      await p.expectText(data);
      await p.closeHandshake();
    });
  }

  for (const cp of VALID_POINTS) {
    add(`valid code point ${u(cp)} (${hex(utf8Of(cp))})`, async (t) => {
      const p = await t.open();
      const data = cat('<', utf8Of(cp), '>');
      await p.echo(OP.TEXT, data);
      await p.closeHandshake();
    });
  }

  add('binary message with invalid UTF-8 is echoed unchanged', async (t) => {
    const p = await t.open();
    await p.echo(OP.BINARY, b(0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xff, 0xfe));
    await p.closeHandshake();
  });

  for (const { name, bytes } of INVALID) {
    add(`invalid text: ${name} -> close 1007`, async (t) => {
      const p = await t.open();
      await p.echo(OP.TEXT, 'valid before');
      p.write(p.text(bytes));
      await p.expectFail(1007);
    });
  }

  add('invalid sequence in the second of three fragments -> close 1007', async (t) => {
    const p = await t.open();
    p.write(p.text('valid ', { fin: false }), p.cont(b(0x61, 0xed, 0xa0, 0x80), { fin: false }),
            p.cont('never sent'));
    await p.expectFail(1007);
  });

  add('invalid sequence split across two fragments (F4 | 90 80 80) -> close 1007', async (t) => {
    const p = await t.open();
    p.write(p.text(b(0x61, 0xf4), { fin: false }), p.cont(b(0x90, 0x80, 0x80)));
    await p.expectFail(1007);
  });

  add('fragmented text ending in a truncated character -> close 1007', async (t) => {
    const p = await t.open();
    p.write(p.text(b(0x61, 0xe2, 0x82), { fin: false }), p.cont(''));
    await p.expectFail(1007);
  });

  add('valid fragments then a final fragment with a lone continuation -> close 1007', async (t) => {
    const p = await t.open();
    p.write(p.fragments(OP.TEXT, cat('fine ', 'also fine ', b(0x80)), [5, 10, 1]));
    await p.expectFail(1007);
  });

  add('fail fast: 1000-byte frame, 10 bytes sent with an invalid sequence -> 1007 within 1 s',
      async (t) => {
        const p = await t.open();
        const first10 = cat('hello', b(0xed, 0xa0, 0x80), 'xy');
        p.write(p.text(first10, { length: 1000 }));
        await p.expectFail(1007, 1000);
      });

  add('fail fast: byte FF at the start of a 1000-byte frame -> 1007 within 1 s', async (t) => {
    const p = await t.open();
    p.write(p.text(b(0xff), { length: 1000 }));
    await p.expectFail(1007, 1000);
  });

  add('fail fast: invalid first fragment (FIN=0), nothing more sent -> 1007 within 1 s',
      async (t) => {
        const p = await t.open();
        p.write(p.text(cat('hello ', b(0xc0, 0xaf)), { fin: false }));
        await p.expectFail(1007, 1000);
      });

  add('fail fast: valid first fragment, invalid second fragment (FIN=0) -> 1007 within 1 s',
      async (t) => {
        const p = await t.open();
        p.write(p.text('valid ', { fin: false }), p.cont(b(0xf8, 0x88), { fin: false }));
        await p.expectFail(1007, 1000);
      });

  add('fail fast: fragment ending in F4, next fragment starting with 90 (FIN=0) -> 1007 within 1 s',
      async (t) => {
        const p = await t.open();
        p.write(p.text(b(0x61, 0xf4), { fin: false }), p.cont(b(0x90, 0x80), { fin: false }));
        await p.expectFail(1007, 1000);
      });

  add('fail fast: 4-byte lead then ASCII in a 100-byte frame, rest withheld -> 1007 within 1 s',
      async (t) => {
        const p = await t.open();
        p.write(p.text(cat('abc', b(0xf0, 0x9f, 0x41)), { length: 100 }));
        await p.expectFail(1007, 1000);
      });

  add('fail fast: invalid bytes written one per TCP write, frame never completed', async (t) => {
    const p = await t.open();
    const frame = p.text(cat('ab', b(0xe0, 0x80)), { length: 500 });
    await p.writeChunked(frame, 1, 5);
    await p.expectFail(1007, 1000);
  });
}

module.exports = { utf8 };
