'use strict';
// The opening handshake (RFC 6455 4.1, 4.2), spoken as raw HTTP.
//
// A request without "Upgrade: websocket" is plain HTTP, not a failed upgrade: it must get
// whatever a plain GET gets from this server (and never 101). Once a request names the websocket
// upgrade, every broken rule is answered with an error status: 405 for a method other than GET,
// 426 with "Sec-WebSocket-Version: 13" for a missing or other version, 431 for a head over 8 KiB,
// 400 for the rest.

const crypto = require('crypto');
const { OP, buildFrame, closePayload } = require('../lib/frames');
const { fail } = require('../lib/peer');
const { acceptFor, newKey } = require('../lib/handshake');

async function expectStatus(t, opts, status) {
  const head = await t.http(await t.request(opts));
  if (head.status !== status) fail(`expected status ${status}, got ${head.status} ${head.reason}`);
  return head;
}

async function plainStatus(t) {
  const port = await t.port();
  return (await t.http(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)).status;
}

const b64 = (n) => crypto.randomBytes(n).toString('base64');

function handshake(add) {
  add('valid upgrade -> 101 with Upgrade, Connection and the right Sec-WebSocket-Accept', async (t) => {
    const p = await t.open();
    await p.echo(OP.TEXT, 'hello');
    await p.closeHandshake();
  });

  add('Sec-WebSocket-Accept for the sample key of RFC 6455 section 1.3', async (t) => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    if (acceptFor(key) !== 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=') fail('the suite computes accept wrongly');
    const p = await t.open({ key });
    await p.closeHandshake();
  });

  for (const method of ['POST', 'PUT', 'DELETE']) {
    add(`${method} upgrade request -> 405`, (t) => expectStatus(t, { method }, 405));
  }

  add('HTTP/1.0 upgrade request -> 400', (t) => expectStatus(t, { version: '1.0' }, 400));

  add('upgrade request without Host -> 400', (t) => expectStatus(t, { headers: { Host: null } }, 400));

  add('upgrade request with two Host headers -> 400', async (t) =>
    expectStatus(t, { extra: [`Host: 127.0.0.1:${await t.port()}`] }, 400));

  add('request without an Upgrade header is plain HTTP (same status as a plain GET)', async (t) => {
    const want = await plainStatus(t);
    if (want === 101) fail('a plain GET got 101');
    await expectStatus(t, { headers: { Upgrade: null } }, want);
  });

  add('request with "Upgrade: h2c" is plain HTTP (same status as a plain GET)', async (t) => {
    const want = await plainStatus(t);
    await expectStatus(t, { headers: { Upgrade: 'h2c' } }, want);
  });

  add('"Connection: keep-alive" without the upgrade token -> 400', (t) =>
    expectStatus(t, { headers: { Connection: 'keep-alive' } }, 400));

  add('no Connection header -> 400', (t) => expectStatus(t, { headers: { Connection: null } }, 400));

  add('no Sec-WebSocket-Key -> 400', (t) =>
    expectStatus(t, { headers: { 'Sec-WebSocket-Key': null } }, 400));

  add('Sec-WebSocket-Key of 15 bytes -> 400', (t) =>
    expectStatus(t, { headers: { 'Sec-WebSocket-Key': b64(15) } }, 400));

  add('Sec-WebSocket-Key of 17 bytes -> 400', (t) =>
    expectStatus(t, { headers: { 'Sec-WebSocket-Key': b64(17) } }, 400));

  add('Sec-WebSocket-Key that is not base64 -> 400', (t) =>
    expectStatus(t, { headers: { 'Sec-WebSocket-Key': 'not!base64!at!all!here==' } }, 400));

  add('two Sec-WebSocket-Key headers -> 400', (t) =>
    expectStatus(t, { extra: [`Sec-WebSocket-Key: ${b64(16)}`] }, 400));

  for (const [what, value] of [['missing', null], ['12', '12'], ['14', '14'], ['empty', '']]) {
    add(`Sec-WebSocket-Version ${what} -> 426 with "Sec-WebSocket-Version: 13"`, async (t) => {
      const head = await expectStatus(t, { headers: { 'Sec-WebSocket-Version': value } }, 426);
      const v = (head.headers['sec-websocket-version'] || []).join(',').split(',').map((s) => s.trim());
      if (!v.includes('13')) fail(`426 must name version 13, got ${JSON.stringify(v)}`);
    });
  }

  add('header block over 8 KiB -> 431', (t) =>
    expectStatus(t, { extra: [`X-Filler: ${'f'.repeat(9000)}`] }, 431));

  add('header block of 6 KiB is accepted', async (t) => {
    const p = await t.open({ extra: [`X-Filler: ${'f'.repeat(6000)}`] });
    await p.closeHandshake();
  });

  add('header names and tokens are case-insensitive', async (t) => {
    const key = newKey();
    const p = await t.open({ key, headers: { UPGRADE: 'WebSocket', connection: 'keep-alive, Upgrade',
                                             'SEC-WEBSOCKET-KEY': key, 'sec-websocket-version': '13' } });
    await p.echo(OP.TEXT, 'case-insensitive');
    await p.closeHandshake();
  });

  add('frames pipelined in the same TCP write as the request are processed', async (t) => {
    const pipelined = Buffer.concat([buildFrame({ op: OP.TEXT, payload: 'early', mask: true }),
                                     buildFrame({ op: OP.PING, payload: 'early ping', mask: true })]);
    const p = await t.open({ pipelined });
    await p.expectText('early');
    await p.expectPong('early ping');
    await p.closeHandshake();
  });

  add('request, message and close in one TCP write -> 101, echo, close', async (t) => {
    const pipelined = Buffer.concat([buildFrame({ op: OP.BINARY, payload: 'hi', mask: true }),
                                     buildFrame({ op: OP.CLOSE, payload: closePayload(1000),
                                                  mask: true })]);
    const p = await t.open({ pipelined });
    await p.expectBinary('hi');
    await p.expectClose([1000]);
    await p.expectTcpClose();
  });

  add('request head written one byte per TCP write -> 101', async (t) => {
    const p = await t.open({ chunk: 1 });
    await p.echo(OP.TEXT, 'slow handshake');
    await p.closeHandshake();
  });

  add('garbage instead of an HTTP request -> 400', async (t) => {
    const head = await t.http('\x16\x03\x01 this is not HTTP at all\r\n\r\n');
    if (head.status !== 400) fail(`expected status 400, got ${head.status} ${head.reason}`);
  });

  add('unknown extension offered -> 101 without Sec-WebSocket-Extensions', async (t) => {
    const p = await t.open({ headers: { 'Sec-WebSocket-Extensions': 'x-unknown-extension; foo=1' } });
    await p.closeHandshake();
  });

  add('subprotocols offered -> 101 selects none or one of them', async (t) => {
    const protocols = ['x-one', 'x-two'];
    const p = await t.open({ headers: { 'Sec-WebSocket-Protocol': protocols.join(', ') }, protocols });
    await p.closeHandshake();
  });
}

module.exports = { handshake };
