'use strict';
// permessage-deflate (RFC 7692) on a server started with --deflate: negotiation (the first offer
// the server can honour, malformed and impossible offers declined, answers within the offer),
// compressed messages in every shape (fragmented, split across TCP writes, with control frames in
// between, the RFC's own example payloads, context takeover across messages, no context takeover,
// empty, uncompressed ones in between) echoed and compressed back, and the failures: RSV1 where it
// may not be (1002), data that does not inflate or text that is not UTF-8 once inflated (1007),
// and a message that inflates past the limit (1009, at once).

const crypto = require('crypto');
const { OP, RSV1, RSV2, RSV3, closePayload } = require('../lib/frames');
const { asciiText, binaryData, prng } = require('../lib/data');
const { LIMIT } = require('./limits');
const { fail } = require('../lib/peer');

const PMD = 'permessage-deflate';
const hex = (s) => Buffer.from(s.replace(/ /g, ''), 'hex');

/* Open a connection offering `offer` (default: what browsers offer) and check the answer. */
async function openDeflate(t, answer = PMD, offer = `${PMD}; client_max_window_bits`, opts = {}) {
  const p = await t.open({ ...opts, extensions: offer });
  const got = p.head.headers['sec-websocket-extensions'];
  const want = answer === null ? undefined : [answer];
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    fail(`offer "${offer}": expected ${answer === null ? 'no extension' : `"${answer}"`} in the ` +
         `101, got ${got ? JSON.stringify(got) : 'none'}`);
  }
  return p;
}

/* Send data as one compressed message and expect it echoed, compressed. */
async function echoCompressed(p, op, data) {
  p.write(p.compressed(op, data));
  const ev = await p.expectMessage(op, data);
  if (!ev.compressed) fail(`the echo of ${data.length} bytes came back uncompressed`);
  return ev;
}

/* Random printable text (compresses poorly) from a seed. */
function noisyText(n, seed) {
  const next = prng(seed);
  return Buffer.from(Array.from({ length: n }, () => 32 + (next() % 95)));
}

function negotiation(add) {
  const cases = [
    ['bare offer', PMD, PMD],
    ['offer with client_max_window_bits (no value)', `${PMD}; client_max_window_bits`, PMD],
    ['offer with client_max_window_bits=15', `${PMD}; client_max_window_bits=15`, PMD],
    ['both no_context_takeover parameters',
     `${PMD}; server_no_context_takeover; client_no_context_takeover`,
     `${PMD}; server_no_context_takeover; client_no_context_takeover`],
    ['server_max_window_bits=10', `${PMD}; server_max_window_bits=10`,
     `${PMD}; server_max_window_bits=10`],
    ['quoted value server_max_window_bits="12"', `${PMD}; server_max_window_bits="12"`,
     `${PMD}; server_max_window_bits=12`],
    ['client_max_window_bits=9', `${PMD}; client_max_window_bits=9`,
     `${PMD}; client_max_window_bits=9`],
    ['an unknown extension first, then permessage-deflate', `x-webkit-deflate-frame, ${PMD}`, PMD],
    ['a malformed offer (duplicate parameter) first, then a valid one',
     `${PMD}; server_no_context_takeover; server_no_context_takeover, ${PMD}; ` +
     'client_no_context_takeover', `${PMD}; client_no_context_takeover`],
    ['an impossible offer (server_max_window_bits=8) first, then a valid one',
     `${PMD}; server_max_window_bits=8, ${PMD}`, PMD],
    ['offers on two header lines', [`x-foo; bar=1`, `${PMD}; server_max_window_bits=11`],
     `${PMD}; server_max_window_bits=11`],
  ];
  for (const [name, offer, answer] of cases) {
    add(`negotiation: ${name} -> "${answer}", then compressed echo`, async (t) => {
      const p = await openDeflate(t, answer, offer);
      await echoCompressed(p, OP.TEXT, asciiText(3000));
      await echoCompressed(p, OP.BINARY, binaryData(3000));
      await p.closeHandshake();
    });
  }

  const declined = [
    ['unknown parameter', `${PMD}; mystery=1`],
    ['duplicate parameter', `${PMD}; client_max_window_bits; client_max_window_bits`],
    ['server_max_window_bits without a value', `${PMD}; server_max_window_bits`],
    ['window bits 16', `${PMD}; server_max_window_bits=16`],
    ['window bits 7', `${PMD}; client_max_window_bits=7`],
    ['window bits with a leading zero', `${PMD}; server_max_window_bits=010`],
    ['a value on server_no_context_takeover', `${PMD}; server_no_context_takeover=1`],
    ['server_max_window_bits=8 (zlib cannot compress with it)', `${PMD}; server_max_window_bits=8`],
  ];
  for (const [name, offer] of declined) {
    add(`negotiation: ${name} is declined -> no extension, RSV1 fails with 1002`, async (t) => {
      const p = await openDeflate(t, null, offer);
      await p.echo(OP.TEXT, 'plain still works');
      p.write(p.text('compressed?', { rsv: RSV1 }));
      await p.expectFail(1002);
    });
  }
}

function messages(add) {
  add('compressed text and binary of many sizes are echoed compressed', async (t) => {
    const p = await openDeflate(t);
    for (const n of [0, 1, 125, 126, 4096, 65535, 65536, 300000]) {
      await echoCompressed(p, OP.TEXT, asciiText(n));
      await echoCompressed(p, OP.TEXT, noisyText(n, n));
      await echoCompressed(p, OP.BINARY, binaryData(n, n & 0xff));
    }
    await p.closeHandshake();
  }, { timeout: 30000 });

  add('a compressible 1 MiB text crosses the wire in a few KB both ways', async (t) => {
    const p = await openDeflate(t);
    const data = asciiText(1 << 20);
    const frame = p.compressed(OP.TEXT, data);
    if (frame.length > 16384) fail(`our own compressor made ${frame.length} bytes`);
    p.write(frame);
    const ev = await p.expectText(data);
    if (!ev.compressed || ev.wireLength > 16384) {
      fail(`the echo took ${ev.wireLength} bytes on the wire (compressed: ${ev.compressed})`);
    }
    await p.closeHandshake();
  });

  // RFC 7692 7.2.3: each of these payloads is "Hello" (the second only after the first).
  const examples = [
    ['7.2.3.1 one block', ['f2 48 cd c9 c9 07 00']],
    ['7.2.3.2 context takeover', ['f2 48 cd c9 c9 07 00', 'f2 00 11 00 00']],
    ['7.2.3.3 stored block', ['00 05 00 fa ff 48 65 6c 6c 6f 00']],
    ['7.2.3.4 BFINAL set', ['f3 48 cd c9 c9 07 00 00']],
    ['7.2.3.5 two blocks', ['f2 48 05 00 00 00 ff ff ca c9 c9 07 00']],
  ];
  for (const [name, payloads] of examples) {
    add(`RFC 7692 ${name}: "Hello"`, async (t) => {
      const p = await openDeflate(t);
      for (const payload of payloads) {
        p.write(p.text(hex(payload), { rsv: RSV1 }));
        await p.expectText('Hello');
      }
      await p.closeHandshake();
    });
  }

  add('7.2.3.1 split into fragments of 1, 2 and 4 bytes (RSV1 on the first only)', async (t) => {
    const p = await openDeflate(t);
    const z = hex('f2 48 cd c9 c9 07 00');
    p.write(p.text(z.subarray(0, 1), { rsv: RSV1, fin: false }),
            p.cont(z.subarray(1, 3), { fin: false }), p.cont(z.subarray(3)));
    await p.expectText('Hello');
    await p.closeHandshake();
  });

  add('compressed message in 5 fragments, a ping between them, 7-byte TCP writes', async (t) => {
    const p = await openDeflate(t);
    const data = asciiText(20000);
    const frames = p.compressedFragments(OP.TEXT, data, 5);
    await p.writeChunked([...frames.slice(0, 2), p.ping('mid'), ...frames.slice(2)], 7, 0);
    await p.expectPong('mid');
    await p.expectText(data);
    await p.closeHandshake();
  });

  add('compressed fragments whose split falls inside a UTF-8 character', async (t) => {
    const p = await openDeflate(t);
    const data = Buffer.from('ünïcödé 日本語 🦊🚀 '.repeat(300));
    p.write(p.compressedFragments(OP.TEXT, data, 17));
    await p.expectText(data);
    await p.closeHandshake();
  });

  add('context takeover: 30 messages, each compressed against the ones before', async (t) => {
    const p = await openDeflate(t);
    let wire = 0;
    for (let i = 0; i < 30; i++) {
      const data = Buffer.concat([asciiText(2000), Buffer.from(` message ${i}`)]);
      const frame = p.compressed(OP.TEXT, data);
      wire += frame.length;
      p.write(frame);
      await p.expectText(data);
    }
    if (wire > 30 * 200) fail(`the messages took ${wire} bytes: our compressor did not refer back`);
    await p.closeHandshake();
  });

  add('client_no_context_takeover agreed: messages compressed on their own', async (t) => {
    const p = await openDeflate(t, `${PMD}; client_no_context_takeover`,
                                `${PMD}; client_no_context_takeover`);
    for (let i = 0; i < 10; i++) await echoCompressed(p, OP.TEXT, asciiText(1000 + i));
    await p.closeHandshake();
  });

  add('server_no_context_takeover agreed: each server message inflates on its own', async (t) => {
    const p = await openDeflate(t, `${PMD}; server_no_context_takeover`,
                                `${PMD}; server_no_context_takeover`);
    // The peer inflates the server's messages without earlier ones: a back-reference fails it.
    for (let i = 0; i < 10; i++) await echoCompressed(p, OP.TEXT, asciiText(1000));
    await p.closeHandshake();
  });

  add('server_max_window_bits=9 agreed: server messages inflate with 512 bytes', async (t) => {
    const p = await openDeflate(t, `${PMD}; server_max_window_bits=9`,
                                `${PMD}; server_max_window_bits=9`);
    for (let i = 0; i < 5; i++) await echoCompressed(p, OP.BINARY, binaryData(5000, i));
    await p.closeHandshake();
  });

  add('uncompressed messages between compressed ones are echoed', async (t) => {
    const p = await openDeflate(t);
    await echoCompressed(p, OP.TEXT, asciiText(500));
    await p.echo(OP.TEXT, 'not compressed');
    await p.echo(OP.BINARY, binaryData(70000));
    await echoCompressed(p, OP.TEXT, asciiText(600));
    p.write(p.fragments(OP.TEXT, asciiText(5000), [1000, 1000]));
    await p.expectText(asciiText(5000));
    await echoCompressed(p, OP.TEXT, asciiText(700));
    await p.closeHandshake();
  });

  add('empty compressed message (payload 00), empty RSV1 payload: empty messages', async (t) => {
    const p = await openDeflate(t);
    p.write(p.text(hex('00'), { rsv: RSV1 }), p.binary(Buffer.alloc(0), { rsv: RSV1 }));
    await p.expectText('');
    await p.expectBinary(Buffer.alloc(0));
    await echoCompressed(p, OP.TEXT, 'after');
    await p.closeHandshake();
  });

  add('a compressed message inflating to exactly the limit is echoed', async (t) => {
    const p = await openDeflate(t);
    await echoCompressed(p, OP.BINARY, Buffer.alloc(LIMIT));
    await p.closeHandshake();
  }, { endpoint: 'limit' });
}

function failures(add) {
  add('RSV1 on a continuation frame -> close 1002', async (t) => {
    const p = await openDeflate(t);
    p.write(p.text(hex('f2 48'), { rsv: RSV1, fin: false }),
            p.cont(hex('cd c9 c9 07 00'), { rsv: RSV1 }));
    await p.expectFail(1002);
  });

  add('RSV1 on the continuation of an uncompressed message -> close 1002', async (t) => {
    const p = await openDeflate(t);
    p.write(p.text('open ', { fin: false }), p.cont('more', { rsv: RSV1 }));
    await p.expectFail(1002);
  });

  for (const [kind, make] of [['ping', (p) => p.ping('x', { rsv: RSV1 })],
                              ['pong', (p) => p.pong('x', { rsv: RSV1 })],
                              ['close', (p) => p.frame({ op: OP.CLOSE, payload: closePayload(1000),
                                                         rsv: RSV1 })]]) {
    add(`RSV1 on a ${kind} frame -> close 1002`, async (t) => {
      const p = await openDeflate(t);
      await echoCompressed(p, OP.TEXT, 'valid before');
      p.write(make(p));
      await p.expectFail(1002);
    });
  }

  for (const [name, rsv] of [['RSV2', RSV2], ['RSV3', RSV3], ['RSV1+RSV2', RSV1 | RSV2]]) {
    add(`${name} on a text frame of a compressed connection -> close 1002`, async (t) => {
      const p = await openDeflate(t);
      p.write(p.text(hex('f2 48 cd c9 c9 07 00'), { rsv }));
      await p.expectFail(1002);
    });
  }

  add('RSV1 on a connection that did not offer the extension -> close 1002', async (t) => {
    const p = await t.open();
    p.write(p.text(hex('f2 48 cd c9 c9 07 00'), { rsv: RSV1 }));
    await p.expectFail(1002);
  });

  const corrupt = [
    ['reserved block type 3', 'ff ff ff ff'],
    ['a stored block whose length check fails', '00 05 00 00 00 48 65 6c 6c 6f'],
    ['a distance before the start of the data', '7a 4b 87 f3 e1 00'],
    ['a block that does not end (no end-of-block code)', 'f2 48 cd c9 c9 07'],
  ];
  for (const [name, bytes] of corrupt) {
    add(`compressed data with ${name} -> close 1007`, async (t) => {
      const p = await openDeflate(t);
      await echoCompressed(p, OP.TEXT, 'valid before');
      p.write(p.binary(hex(bytes), { rsv: RSV1 }));
      await p.expectFail(1007);
    });
  }

  const invalidText = [
    ['invalid UTF-8 (C3 28)', Buffer.from([0x61, 0xc3, 0x28, 0x62])],
    ['text cut inside a character', Buffer.from([0x61, 0xe2, 0x82])],
    ['a surrogate (ED A0 80)', Buffer.from([0x61, 0xed, 0xa0, 0x80])],
  ];
  for (const [name, bytes] of invalidText) {
    add(`compressed text with ${name} -> close 1007`, async (t) => {
      const p = await openDeflate(t);
      p.write(p.compressed(OP.TEXT, bytes));
      await p.expectFail(1007);
    });
  }

  add('invalid UTF-8 deep in compressed fragments -> close 1007', async (t) => {
    const p = await openDeflate(t);
    const data = Buffer.concat([asciiText(50000), Buffer.from([0xff]), asciiText(100)]);
    p.write(p.compressedFragments(OP.TEXT, data, 4));
    await p.expectFail(1007);
  });

  add('deflate bomb (16 MiB of zeros in ~16 KB) -> close 1009 at once', async (t) => {
    const p = await openDeflate(t);
    const frame = p.compressed(OP.BINARY, Buffer.alloc(16 << 20));
    if (frame.length > LIMIT) fail(`the bomb is ${frame.length} bytes: over the limit on the wire`);
    p.write(frame);
    await p.expectFail(1009, 1000);
  }, { endpoint: 'limit' });

  add('deflate bomb in fragments, past the limit in the second -> close 1009', async (t) => {
    const p = await openDeflate(t);
    p.write(p.compressedFragments(OP.TEXT, Buffer.alloc(4 << 20, 0x61), 3));
    await p.expectFail(1009);
  }, { endpoint: 'limit' });

  add('compressed payload over the limit on the wire -> close 1009', async (t) => {
    const p = await openDeflate(t);
    p.write(p.compressed(OP.BINARY, crypto.randomBytes(LIMIT + 1000)));
    await p.expectFail(1009);
  }, { endpoint: 'limit' });
}

function deflate(add, target) {
  if (target !== 'server') return;
  negotiation(add);
  messages(add);
  failures(add);
}

module.exports = { deflate };
