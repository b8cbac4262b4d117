'use strict';
// examples/just_ws_server (the seed's justWsServer.js in C): plain HTTP gets "I am connected!",
// a WebSocket client is welcomed, every message it sends is printed on stdout, SIGTERM shuts down.
const assert = require('assert');
const path = require('path');
const http = require('http');
const L = require('./server_lib');

const t = L.suite('server_example');
let srv;

t.test('start just_ws_server on a kernel-picked port', async () => {
  srv = await L.start(path.join(L.BUILD, 'examples', 'just_ws_server'), ['0'],
    { portPattern: /listening on http:\/\/localhost:(\d+)/ });
  t.cleanup(() => srv.stop('SIGKILL'));
});

t.test('plain HTTP: 200 "I am connected!"', async () => {
  const body = await new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: srv.port, path: '/anything' }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode, body: b }));
    }).on('error', reject);
  });
  assert.deepStrictEqual(body, { status: 200, body: 'I am connected!' });
});

t.test('WebSocket: welcome message, then messages printed one per line', async () => {
  const c = await L.client(`ws://localhost:${srv.port}`);
  assert.strictEqual((await c.next()).data.toString(), 'Welcome to the websocket server!!!');
  const msg = "I'm so excited I'm connected to the server. It's like my country just won the World Cup!";
  c.ws.send(msg);
  c.ws.send('second ✓');
  await srv.waitStdout(msg);
  await srv.waitStdout('second ✓');
  assert.deepStrictEqual(srv.stdout, [msg, 'second ✓']);
  const closed = c.closed;
  process.kill(srv.child.pid, 'SIGTERM');
  assert.strictEqual((await closed).code, 1001);
  assert.strictEqual((await srv.exited).code, 0);
});
