'use strict';
// What a peer sends never reaches the terminal raw: wsk connect quotes close reasons, handshake
// lines (--show-frames) and refusals on stderr with their control characters escaped (C0, DEL,
// and C1 in UTF-8), against a Node ws server that puts terminal escape sequences in all three.
const assert = require('assert');
const { spawn } = require('child_process');
const path = require('path');
const L = require('./server_lib');
const { WebSocketServer } = require('ws');

const t = L.suite('connect_log', { timeoutMs: 60000 });
const RAW = /[\x00-\x08\x0b-\x1f\x7f]|\u009b|\r/; // (the line feeds between lines are ours)

function listen(options) {
  return new Promise((resolve) => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options },
      () => resolve(wss));
  });
}

// Run wsk connect to the URL with stdin kept open; resolves { code, stderr } when it exits.
function connect(url, args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(L.BUILD, 'wsk'), ['connect', ...args, url], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('latin1');
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`wsk connect did not exit; stderr: ${JSON.stringify(stderr)}`));
    }, 10000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

t.test('a close reason with escape sequences, CR, LF and a C1 CSI is printed escaped', async () => {
  const wss = await listen();
  wss.on('connection', (ws) => ws.close(4000, '\x1b[2J\x1b]0;owned\x07\r\nfake line\u009b31m'));
  try {
    const r = await connect(`ws://127.0.0.1:${wss.address().port}/`);
    assert.strictEqual(r.code, 1);
    assert.ok(!RAW.test(r.stderr), JSON.stringify(r.stderr));
    assert.ok(r.stderr.includes('closed with code 4000 (\\x1b[2J\\x1b]0;owned\\x07\\x0d\\x0afake line' +
      '\\u009b31m)'), JSON.stringify(r.stderr));
  } finally {
    wss.close();
  }
});

t.test('--show-frames: a response header with a C1 control is printed escaped', async () => {
  const wss = await listen();
  wss.on('headers', (headers) => headers.push('X-Evil: \u009b2J tail')); // written as UTF-8: C2 9B
  wss.on('connection', (ws) => ws.close(1000));
  try {
    const r = await connect(`ws://127.0.0.1:${wss.address().port}/`, ['--show-frames']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.ok(!RAW.test(r.stderr), JSON.stringify(r.stderr));
    assert.ok(r.stderr.includes('< X-Evil: \\u009b2J tail'), JSON.stringify(r.stderr));
  } finally {
    wss.close();
  }
});

t.test('a refusal whose body holds escape sequences is quoted without them', async () => {
  const http = require('http');
  const srv = http.createServer();
  srv.on('upgrade', (req, socket) => {
    const body = '\x1b[31mgo away\x1b[0m\r\n';
    socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const r = await connect(`ws://127.0.0.1:${srv.address().port}/`);
    assert.strictEqual(r.code, 1);
    assert.ok(!RAW.test(r.stderr), JSON.stringify(r.stderr));
    assert.match(r.stderr, /403/);
  } finally {
    srv.close();
  }
});
