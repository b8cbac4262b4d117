'use strict';
// Our client against our server (`wsk serve`): messages of every kind and size, pings, close
// codes, the welcome message; the send queue while disconnected (bounded, or refused); abandoning
// an attempt with wsk_client_close; and the blocking wsk_sync layer.

const assert = require('assert');
const net = require('net');
const h = require('./lib/harness');
const { probe, fnv, pattern } = require('./lib/client_probe');

const t = h.suite('client_wsk', { timeoutMs: 120000 });

let echo;
t.test('setup: wsk serve --echo --welcome', async () => {
  echo = await h.startWsk(['--echo', '--quiet', '--welcome', 'hi there']);
});

t.test('welcome, text, binary, 16 MiB, ping, close code echoed', async () => {
  const p = probe(`${echo.url}chat?room=1`);
  await p.next(/^open proto=$/);
  await p.next(/^message text 8 \w+ hi there$/);
  p.send('text \u00e7a va');
  await p.next(/^message text 6 \w+ \u00e7a va$/);
  p.send('binary 0001ff');
  await p.next(/^message binary 3 \w+ 0001ff$/);
  const n = 16 * 1024 * 1024;
  p.send(`big binary ${n}`);
  await p.next(new RegExp(`^message binary ${n} ${fnv(pattern('binary', n))} `), 60000);
  p.send(`big text ${n}`);
  await p.next(new RegExp(`^message text ${n} ${fnv(pattern('text', n))} `), 60000);
  p.send('ping 0123456789');
  await p.next(/^pong 0123456789$/);
  p.send('close 4321 done here');
  await p.next(/^close 4321 1 done here$/);
  await p.next(/^done$/);
  assert.strictEqual(await p.wait(), 0);
});

t.test('sending while not connected: refused without a queue, bounded with one', async () => {
  const port = await h.freePort();
  let p = probe(`ws://127.0.0.1:${port}/`, ['--reconnect', '--initial-delay', '100', '--jitter', '0']);
  await p.next(/^reconnect 1 100$/);
  p.send('text nowhere');
  await p.next(/^send-error -5006$/);
  p.send('stop 1000'); // between attempts: nothing to close, no more attempts
  p.send('state');
  await p.next(/^state open=0 reconnecting=0$/);
  p.send('text still nowhere');
  await p.next(/^send-error -5006$/);
  p.end();
  assert.strictEqual(await p.wait(), 0);

  p = probe(`ws://127.0.0.1:${port}/`, ['--reconnect', '--initial-delay', '100', '--jitter', '0',
    '--queue', '5']);
  await p.next(/^reconnect 1 100$/);
  p.send('text abcdef');
  await p.next(/^send-error -5011$/);
  p.send('text abc');
  p.send('binary 0102');
  p.send('binary 03');
  await p.next(/^send-error -5011$/);
  const srv = await h.startWsk(['--echo', '--quiet'], { port });
  await p.next(/^open/, 10000);
  await p.next(/^message text 3 \w+ abc$/);
  await p.next(/^message binary 2 \w+ 0102$/);
  p.end();
  assert.strictEqual(await p.wait(), 0);
  await srv.proc.stop('SIGTERM');
});

t.test('wsk_client_close during an attempt: on_close 1006 without on_error', async () => {
  const hold = net.createServer(() => {}); // accepts, never answers the upgrade
  await new Promise((resolve) => hold.listen(0, '127.0.0.1', resolve));
  try {
    const p = probe(`ws://127.0.0.1:${hold.address().port}/`);
    await h.sleep(200);
    p.send('stop 1000');
    await p.next(/^close 1006 0 $/);
    await p.next(/^done$/);
    assert.ok(!p.lines.some((l) => l.startsWith('error')), p.lines.join('\n'));
    assert.strictEqual(await p.wait(), 0);
  } finally {
    hold.close();
  }
});

t.test('blocking layer: connect, send, receive, poll, timeout, close', async () => {
  const plain = await h.startWsk(['--echo', '--quiet']);
  try {
    const p = probe(plain.url, ['--sync']);
    assert.strictEqual(await p.wait(20000), 0, p.stderr.join(' | '));
    const big = pattern('binary', 1 << 20);
    assert.deepStrictEqual(p.lines, [
      'sync-open proto=',
      `sync-message text 10 ${fnv(Buffer.from('hello sync'))} hello sync`,
      `sync-message binary 5 ${fnv(Buffer.from([0, 1, 2, 0xfe, 0xff]))} 000102feff`,
      `sync-message binary ${big.length} ${fnv(big)} ${big.subarray(0, 20).toString('hex')}`,
      'sync-poll -110',
      'sync-wait -110',
      'sync-close 0',
    ]);
  } finally {
    await plain.proc.stop('SIGTERM');
  }
});

t.test('blocking layer: connection refused is an error with its reason', async () => {
  const port = await h.freePort();
  const p = probe(`ws://127.0.0.1:${port}/`, ['--sync']);
  assert.strictEqual(await p.wait(), 0);
  assert.deepStrictEqual(p.lines, [`sync-connect-error -5008 connect to 127.0.0.1:${port}: Connection refused`]);
});

t.after(async () => { if (echo) await echo.proc.stop('SIGTERM'); });
t.run();
