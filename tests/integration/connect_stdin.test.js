'use strict';
// `wsk connect` at the end of its input, as wscat and websocat users expect: `echo hi | wsk
// connect URL` prints the answer. After the end of stdin (a pipe, a file, Ctrl-D on a terminal)
// it waits up to --wait seconds, or until the server closes, then closes with 1000; messages that
// arrive while its close is on its way are printed too. --json prints one object per message.
// Real processes: a shell pipeline, a redirected file, and a pseudo-terminal through script(1).
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const L = require('./server_lib');
const { WebSocketServer } = require('ws');

const t = L.suite('connect_stdin', { timeoutMs: 90000 });
const wsk = path.join(L.BUILD, 'wsk');
const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;

// Run a shell command line in its own process group; resolves { code, stdout, stderr, ms }.
// child.stdin is returned through onStart for the terminal test.
function sh(cmd, { onStart, ms = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn('sh', ['-c', cmd], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch (e) { /* gone */ }
      reject(new Error(`${cmd}: no exit within ${ms} ms; stdout ${JSON.stringify(stdout)} stderr ${JSON.stringify(stderr)}`));
    }, ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
    if (onStart) onStart(child, () => stdout);
    else child.stdin.end();
  });
}

// A Node ws server that echoes each message after `delay` ms.
function slowEcho(delay) {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => resolve(wss));
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) =>
      setTimeout(() => ws.readyState === 1 && ws.send(data, { binary: isBinary }), delay)));
  });
}

// A raw server that answers our close frame with a text message first, then its close: the
// message arrives after the client sent its close.
function lateServer() {
  return new Promise((resolve) => {
    const srv = net.createServer((s) => {
      let buf = Buffer.alloc(0), open = false;
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (!open) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const key = /sec-websocket-key: *(\S+)/i.exec(buf.subarray(0, end).toString())[1];
          const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
            .digest('base64');
          s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                  `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
          buf = buf.subarray(end + 4);
          open = true;
        }
        // Small masked client frames (one read may hold several): skip data, answer the close
        // (opcode 8) with a message first.
        while (buf.length >= 2 && buf.length >= 6 + (buf[1] & 0x7f)) {
          const close = (buf[0] & 0x0f) === 8;
          buf = buf.subarray(6 + (buf[1] & 0x7f));
          if (!close) continue;
          s.write(Buffer.concat([Buffer.from([0x81, 10]), Buffer.from('late reply'),
            Buffer.from([0x88, 2, 0x03, 0xe8])]));
          s.end();
        }
      });
      s.on('error', () => {});
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

let echo, late, tmp;
t.test('setup: a ws server that echoes after 300 ms, a late-reply server', async () => {
  echo = await slowEcho(300);
  late = await lateServer();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wsk-stdin-'));
  t.cleanup(() => { echo.close(); late.close(); fs.rmSync(tmp, { recursive: true, force: true }); });
});
const echoUrl = () => `ws://127.0.0.1:${echo.address().port}/`;

t.test('a pipe: echo hi | wsk connect URL prints the answer (default --wait), exits 0', async () => {
  const r = await sh(`echo hi | ${q(wsk)} connect ${echoUrl()}`);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.stdout, 'hi\n');
  assert.ok(r.ms >= 300 && r.ms < 4500, `took ${r.ms} ms`);
});

t.test('a file: every line is sent and every answer printed; --wait bounds the wait', async () => {
  const file = path.join(tmp, 'lines.txt');
  fs.writeFileSync(file, 'one\ntwo\nthree'); // the last line without a newline counts too
  const r = await sh(`${q(wsk)} connect ${echoUrl()} --wait 1 < ${q(file)}`);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.stdout, 'one\ntwo\nthree\n');
  assert.ok(r.ms >= 1000 && r.ms < 4000, `took ${r.ms} ms`);
});

t.test('--wait 0 with answers 300 ms away: nothing arrives, clean exit at once', async () => {
  const r = await sh(`echo hi | ${q(wsk)} connect ${echoUrl()} --wait 0`);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.stdout, '');
});

t.test('a message that arrives after our close frame is printed (deliver_after_close)', async () => {
  const r = await sh(`echo hi | ${q(wsk)} connect ws://127.0.0.1:${late.address().port}/ --wait 0.1`);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.stdout, 'late reply\n');
});

t.test('the server closing ends the wait at once', async () => {
  const wss = await new Promise((resolve) => {
    const s = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => resolve(s));
    s.on('connection', (ws) => ws.on('message', (d) => { ws.send(d, { binary: false }); ws.close(1000); }));
  });
  try {
    const r = await sh(`echo bye | ${q(wsk)} connect ws://127.0.0.1:${wss.address().port}/ --wait 20`);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(r.stdout, 'bye\n');
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
  } finally {
    wss.close();
  }
});

t.test('a terminal (script): a typed line is answered, Ctrl-D waits for answers, exits 0', async () => {
  const r = await sh(`script -qec ${q(`${wsk} connect ${echoUrl()} --wait 1`)} /dev/null`, {
    onStart: async (child, out) => {
      child.stdin.write('typed\n');
      for (let i = 0; i < 100 && (out().match(/typed/g) || []).length < 2; i++) await L.sleep(50);
      child.stdin.write('last\n\x04'); // Ctrl-D right after a line: its answer still comes
      // stdin stays open: the end of input is the terminal's Ctrl-D, not script's stdin closing.
    },
  });
  assert.strictEqual(r.code, 0, r.stderr);
  // The terminal echoes what is typed, then the answer follows: each line twice, CRLF.
  assert.strictEqual(r.stdout.replace(/\r/g, ''), 'typed\ntyped\nlast\nlast\n');
});

t.test('--json: one object per message with time, opcode and data (binary in hex)', async () => {
  const t0 = Date.now() / 1000;
  const r = await sh(`printf 'say "h\\303\\251"\\t\\\\\\n' | ${q(wsk)} connect ${echoUrl()} --wait 0.6 --json && ` +
                     `${q(wsk)} connect ${echoUrl()} --wait 0.6 --json --binary -x 'a"b'`);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes('"data":"say \\"h\u00e9\\"\\u0009\\\\"}'), r.stdout);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepStrictEqual(lines.map((m) => [m.opcode, m.data]),
    [['text', 'say "h\u00e9"\t\\'], ['binary', '612262']]);
  for (const m of lines) assert.ok(m.time >= t0 - 1 && m.time <= Date.now() / 1000 + 1, String(m.time));
});
