'use strict';
// The client's opening handshake (RFC 6455 4.1, 4.2.2): its request (checked for every
// connection of every case by the harness: GET, HTTP/1.1, the request target, Host, Upgrade,
// Connection, a fresh 16-byte key, version 13, the subprotocol offer, no extension offer), nothing
// sent before the 101, and every answer it must refuse. A refused answer fails the handshake: the
// client closes TCP without sending a single frame and exits 1 with a one-line reason.

const crypto = require('crypto');
const { OP } = require('../lib/frames');
const { acceptFor } = require('../lib/handshake');
const { fail, sleep } = require('../lib/peer');
const { asciiText } = require('../lib/data');

/* A response head from its lines. */
const head = (...lines) => `${lines.map((l) => `${l}\r\n`).join('')}\r\n`;

const SWITCHING = 'HTTP/1.1 101 Switching Protocols';

/* A response with a body and its Content-Length. */
const withBody = (status, body) => head(status, `Content-Length: ${Buffer.byteLength(body)}`) + body;

/* The lines of a good 101 for key, with changes: { Name: value } replaces the standard header of
 * that name (null drops it), `extra` lines are appended, `status` replaces the status line. */
function answer101(key, { headers = {}, extra = [], status = SWITCHING } = {}) {
  const merged = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Accept': acceptFor(key),
                   ...headers };
  const lines = Object.entries(merged).filter(([, v]) => v !== null).map(([n, v]) => `${n}: ${v}`);
  return head(status, ...lines, ...extra);
}

/* Bad answers: [name, (key) => response text, reason pattern, client options]. */
const REFUSED = [
  ['200 OK with a body', () => withBody('HTTP/1.1 200 OK', 'hello'), /200/],
  ['400 Bad Request', () => head('HTTP/1.1 400 Bad Request', 'Content-Length: 0'), /400/],
  ['403 Forbidden with a multi-line body (reason stays one line)',
   () => withBody('HTTP/1.1 403 Forbidden', 'line one\nline two\r\nend\n'), /403/],
  ['404 without Content-Length, body until the server closes',
   () => head('HTTP/1.1 404 Not Found') + 'nothing here', /404/],
  ['426 Upgrade Required with Sec-WebSocket-Version: 13',
   () => head('HTTP/1.1 426 Upgrade Required', 'Sec-WebSocket-Version: 13', 'Content-Length: 0'), /426/],
  ['302 Found (redirects are not followed)',
   () => head('HTTP/1.1 302 Found', 'Location: ws://127.0.0.1:1/', 'Content-Length: 0'), /302/],
  ['500 Internal Server Error', () => head('HTTP/1.1 500 Internal Server Error', 'Content-Length: 0'),
   /500/],
  ['HTTP/1.0 101', (key) => answer101(key, { status: 'HTTP/1.0 101 Switching Protocols' }), /./],
  ['101 without Sec-WebSocket-Accept',
   (key) => answer101(key, { headers: { 'Sec-WebSocket-Accept': null } }), /Accept/],
  ['101 with the Accept of another key',
   (key) => answer101(key, { headers: { 'Sec-WebSocket-Accept':
     acceptFor(crypto.randomBytes(16).toString('base64')) } }), /Accept/],
  ['101 with the Accept in lower case',
   (key) => answer101(key, { headers: { 'Sec-WebSocket-Accept': acceptFor(key).toLowerCase() } }),
   /Accept/],
  ['101 with the SHA-1 of the key without the GUID',
   (key) => answer101(key, { headers: { 'Sec-WebSocket-Accept':
     crypto.createHash('sha1').update(key).digest('base64') } }), /Accept/],
  ['101 with the key itself as Accept',
   (key) => answer101(key, { headers: { 'Sec-WebSocket-Accept': key } }), /Accept/],
  ['101 with two Sec-WebSocket-Accept headers',
   (key) => answer101(key, { extra: [`Sec-WebSocket-Accept: ${acceptFor(key)}`] }), /Accept/],
  ['101 without Upgrade', (key) => answer101(key, { headers: { Upgrade: null } }), /Upgrade/],
  ['101 with Upgrade: h2c', (key) => answer101(key, { headers: { Upgrade: 'h2c' } }), /Upgrade/],
  ['101 with Upgrade: websocket, h2c (not websocket)',
   (key) => answer101(key, { headers: { Upgrade: 'websocket, h2c' } }), /Upgrade/],
  ['101 without Connection', (key) => answer101(key, { headers: { Connection: null } }), /Connection/],
  ['101 with Connection: keep-alive',
   (key) => answer101(key, { headers: { Connection: 'keep-alive' } }), /Connection/],
  ['101 selecting a subprotocol although none was offered',
   (key) => answer101(key, { extra: ['Sec-WebSocket-Protocol: chat'] }), /subprotocol/],
  ['101 selecting a subprotocol that was not offered',
   (key) => answer101(key, { extra: ['Sec-WebSocket-Protocol: superchat'] }), /subprotocol/,
   { protocols: ['chat'] }],
  ['101 selecting the offered subprotocol in another case',
   (key) => answer101(key, { extra: ['Sec-WebSocket-Protocol: Chat'] }), /subprotocol/,
   { protocols: ['chat'] }],
  ['101 selecting two subprotocols at once',
   (key) => answer101(key, { extra: ['Sec-WebSocket-Protocol: chat, superchat'] }), /subprotocol/,
   { protocols: ['chat', 'superchat'] }],
  ['101 accepting permessage-deflate that was not offered',
   (key) => answer101(key, { extra: ['Sec-WebSocket-Extensions: permessage-deflate'] }), /extension/],
  ['101 accepting an unknown extension',
   (key) => answer101(key, { extra: ['Sec-WebSocket-Extensions: x-custom; level=3'] }), /extension/],
  ['an SSH banner instead of HTTP', () => 'SSH-2.0-OpenSSH_9.6\r\n\r\n', /HTTP/],
  ['a 101 head over 8 KiB',
   (key) => answer101(key, { extra: Array.from({ length: 90 },
                                               (_, i) => `X-Filler-${i}: ${asciiText(100)}`) }),
   /8 KiB|head/],
];

function clientHandshake(add) {
  add('the request follows RFC 6455 4.1 and a 101 opens the connection', async (t) => {
    const p = await t.open();
    await p.echo(OP.TEXT, 'opened');
    await p.closeHandshake();
  });

  add('request target with path and query is sent as given', async (t) => {
    const p = await t.open({ target: '/some/path%20x/?q=a%2Fb&r=1' });
    await p.closeHandshake();
  });

  add('two clients send different keys', async (t) => {
    const [a, b] = await Promise.all([t.spawn(), t.spawn()]);
    if (a.key === b.key) fail(`both clients sent the key ${a.key}`);
    await Promise.all([a, b].map(async (c) => c.accept().closeHandshake()));
  });

  add('the client sends nothing before the 101 (500 ms of silence)', async (t) => {
    const c = await t.spawn();
    await sleep(500);
    const p = c.accept();
    await p.echo(OP.BINARY, Buffer.from([0, 1, 2]));
    await p.closeHandshake();
  });

  add('101 head written one byte per TCP write', async (t) => {
    const c = await t.spawn();
    const bytes = Buffer.from(answer101(c.key));
    for (let i = 0; i < bytes.length; i++) {
      c.answer(bytes.subarray(i, i + 1));
      await sleep(1);
    }
    const p = c.takeOver();
    await p.echo(OP.TEXT, 'after a slow 101');
    await p.closeHandshake();
  });

  add('101 and a text frame in one TCP write -> the frame is echoed', async (t) => {
    const c = await t.spawn();
    c.answer(Buffer.concat([Buffer.from(answer101(c.key)), Buffer.from([0x81, 2, 0x68, 0x69])]));
    const p = c.takeOver();
    await p.expectText('hi');
    await p.closeHandshake();
  });

  add('101, a ping and a close in one TCP write -> pong, close echoed', async (t) => {
    const c = await t.spawn();
    const p = c.takeOver();
    c.answer(Buffer.concat([Buffer.from(answer101(c.key)), p.ping('early'), p.close(1000)]));
    await p.expectPong('early');
    await p.expectCloseEnd([1000]);
  });

  add('101 with Upgrade: WebSocket, Connection: keep-alive, Upgrade and odd spacing is accepted',
      async (t) => {
        const c = await t.spawn();
        c.answer(head('HTTP/1.1 101 Web Socket Protocol Handshake', 'upgrade:WebSocket',
                      'CONNECTION:   keep-alive,  Upgrade  ',
                      `sec-websocket-accept: ${acceptFor(c.key)}`, 'Server: crafted', 'X-Extra: 1'));
        const p = c.takeOver();
        await p.echo(OP.TEXT, 'accepted');
        await p.closeHandshake();
      });

  add('subprotocols offered and one selected -> open, the client names it', async (t) => {
    const c = await t.spawn({ protocols: ['chat', 'superchat'] });
    const p = c.accept({ headers: ['Sec-WebSocket-Protocol: superchat'] });
    await p.echo(OP.TEXT, 'with a subprotocol');
    await p.closeHandshake();
    await c.proc.exited;
    if (t.kind === 'wsk' && !/subprotocol superchat/.test(c.proc.stderr())) {
      fail(`the client did not report the subprotocol: ${c.proc.stderr()}`);
    }
  });

  add('subprotocols offered and none selected -> open without one', async (t) => {
    const p = await t.open({ protocols: ['chat'] });
    await p.echo(OP.TEXT, 'no subprotocol');
    await p.closeHandshake();
  });

  for (const [name, make, reason, opts] of REFUSED) {
    add(`${name} -> handshake failed, no frame, exit 1`, async (t) => {
      const c = await t.spawn(opts);
      c.answer(make(c.key));
      if (/without Content-Length/.test(name)) c.sock.end();
      await c.expectHandshakeFailure(reason);
    });
  }

  add('the server closes TCP without answering -> handshake failed, exit 1', async (t) => {
    const c = await t.spawn();
    c.sock.end();
    await c.expectHandshakeFailure(/closed|answer/);
  });

  add('the server closes TCP in the middle of the 101 head -> handshake failed, exit 1', async (t) => {
    const c = await t.spawn();
    c.answer(answer101(c.key).slice(0, 40));
    c.sock.end();
    await c.expectHandshakeFailure(/closed|answer/);
  });

  add('the server resets TCP without answering -> handshake failed, exit 1', async (t) => {
    const c = await t.spawn();
    c.sock.resetAndDestroy();
    await c.expectHandshakeFailure(/./);
  });
}

module.exports = { clientHandshake };
