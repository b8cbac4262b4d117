'use strict';
// Message size limits: over the limit the endpoint fails the connection with 1009 (RFC 6455
// 7.4.1), and it does so from the frame header without waiting for (or buffering) the payload.
// Cases run against an endpoint started with --max-message 65536 unless they say "default".

const { OP } = require('../lib/frames');
const { asciiText, binaryData } = require('../lib/data');

const LIMIT = 65536;
const DEFAULT_LIMIT = 16 * 1024 * 1024;

function limits(add) {
  const opts = { endpoint: 'limit' };

  add('65536-byte binary in one frame (at the limit) is echoed', async (t) => {
    const p = await t.open();
    await p.echo(OP.BINARY, binaryData(LIMIT));
    await p.closeHandshake();
  }, opts);

  add('65536-byte text in 64 fragments (at the limit) is echoed', async (t) => {
    const p = await t.open();
    const data = asciiText(LIMIT);
    p.write(p.fragments(OP.TEXT, data, new Array(64).fill(1024)));
    await p.expectText(data);
    await p.closeHandshake();
  }, opts);

  add('two 65536-byte messages in a row (the limit is per message)', async (t) => {
    const p = await t.open();
    p.write(p.binary(binaryData(LIMIT, 1)),
            p.fragments(OP.BINARY, binaryData(LIMIT, 2), [LIMIT / 2, LIMIT / 2]));
    await p.expectBinary(binaryData(LIMIT, 1));
    await p.expectBinary(binaryData(LIMIT, 2));
    await p.closeHandshake();
  }, opts);

  add('ping of 125 bytes is answered on a limited server', async (t) => {
    const p = await t.open();
    p.write(p.ping(asciiText(125)));
    await p.expectPong(asciiText(125));
    await p.closeHandshake();
  }, opts);

  add('65537-byte binary in one frame -> close 1009', async (t) => {
    const p = await t.open();
    await p.echo(OP.TEXT, 'valid before');
    p.write(p.binary(binaryData(LIMIT + 1)));
    await p.expectFail(1009);
  }, opts);

  add('65537-byte text in one frame -> close 1009', async (t) => {
    const p = await t.open();
    p.write(p.text(asciiText(LIMIT + 1)));
    await p.expectFail(1009);
  }, opts);

  add('65537 bytes across fragments (65536 + 1) -> close 1009', async (t) => {
    const p = await t.open();
    p.write(p.fragments(OP.BINARY, binaryData(LIMIT + 1), [LIMIT, 1]));
    await p.expectFail(1009);
  }, opts);

  add('65537 bytes across 65 text fragments -> close 1009', async (t) => {
    const p = await t.open();
    p.write(p.fragments(OP.TEXT, asciiText(LIMIT + 1), [...new Array(64).fill(1024), 1]));
    await p.expectFail(1009);
  }, opts);

  add('header announcing 65537 bytes, no payload sent -> close 1009 within 1 s', async (t) => {
    const p = await t.open();
    p.write(p.binary('', { length: LIMIT + 1 }));
    await p.expectFail(1009, 1000);
  }, opts);

  add('header announcing 2^40 bytes, no payload sent -> close 1009 within 1 s', async (t) => {
    const p = await t.open();
    p.write(p.binary('', { length: 1n << 40n }));
    await p.expectFail(1009, 1000);
  }, opts);

  add('second fragment over the limit, payload withheld -> close 1009 within 1 s',
      async (t) => {
        const p = await t.open();
        p.write(p.binary(binaryData(60000), { fin: false }), p.cont('', { length: 10000 }));
        await p.expectFail(1009, 1000);
      }, opts);

  add('default limit: 16 MiB binary message is echoed intact', async (t) => {
    const p = await t.open();
    await p.echo(OP.BINARY, binaryData(DEFAULT_LIMIT, 3), 25000);
    await p.closeHandshake();
  }, { timeout: 30000 });

  add('default limit: 16 MiB text message is echoed intact', async (t) => {
    const p = await t.open();
    await p.echo(OP.TEXT, asciiText(DEFAULT_LIMIT), 25000);
    await p.closeHandshake();
  }, { timeout: 30000 });

  add('default limit: 8 MiB binary in 128 fragments of 64 KiB', async (t) => {
    const p = await t.open();
    const data = binaryData(8 << 20, 5);
    p.write(p.fragments(OP.BINARY, data, new Array(128).fill(65536)));
    await p.expectBinary(data, 20000);
    await p.closeHandshake();
  }, { timeout: 30000 });

  add('default limit: 4 MiB text in 65536 fragments of 64 bytes', async (t) => {
    const p = await t.open();
    const data = asciiText(4 << 20);
    p.write(p.fragments(OP.TEXT, data, new Array(65536).fill(64)));
    await p.expectText(data, 20000);
    await p.closeHandshake();
  }, { timeout: 30000 });

  add('default limit: header announcing 16 MiB + 1, no payload sent -> close 1009 within 1 s',
      async (t) => {
        const p = await t.open();
        p.write(p.binary('', { length: DEFAULT_LIMIT + 1 }));
        await p.expectFail(1009, 1000);
      });
}

module.exports = { LIMIT, limits };
