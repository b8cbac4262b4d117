'use strict';
// wsk serve --root: static files (index.html, content types, HEAD, If-Modified-Since, 405) and
// every way out of the root refused: "..", %2e%2e, %2f, NUL, and a symbolic link leading out.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const L = require('./server_lib');

const t = L.suite('server_static');
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'wsk-static-'));
const root = path.join(base, 'root');
let srv;
t.cleanup(() => fs.rmSync(base, { recursive: true, force: true }));

const get = async (target, { method = 'GET', headers = '' } = {}) => {
  const buf = await L.raw(srv.port, `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`);
  const text = buf.toString('latin1');
  const [r] = L.responses(buf);
  r.raw = text;
  return r;
};

t.test('set up a root with files, a subdirectory, a secret outside and links', async () => {
  fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), '<h1>hi</h1>');
  fs.writeFileSync(path.join(root, 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(root, 'style.css'), 'body{}');
  fs.writeFileSync(path.join(root, 'data.json'), '{}');
  fs.writeFileSync(path.join(root, 'pic.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  fs.writeFileSync(path.join(root, 'mod.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
  fs.writeFileSync(path.join(root, 'sub', 'index.html'), 'sub index');
  fs.writeFileSync(path.join(root, 'sub', 'a b.txt'), 'spaced');
  fs.writeFileSync(path.join(base, 'secret.txt'), 'TOP SECRET');
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'leak.txt'));
  fs.symlinkSync(base, path.join(root, 'up'));
  fs.symlinkSync(path.join(root, 'app.js'), path.join(root, 'inside.js'));
  srv = await L.serve(['--root', root, '--quiet']);
  t.cleanup(() => srv.stop('SIGKILL'));
  assert.ok(srv.stderr.some((l) => l.includes('http://127.0.0.1:' + srv.port)), 'the files note');
});

t.test('/ serves index.html as text/html', async () => {
  const r = await get('/');
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.body, '<h1>hi</h1>');
  assert.match(r.headers['content-type'], /^text\/html/);
  assert.ok(r.headers['last-modified']);
});

t.test('content types by extension; subdirectory index; percent-decoded names', async () => {
  const want = { '/app.js': /^text\/javascript/, '/style.css': /^text\/css/, '/data.json': /^application\/json/,
    '/pic.png': /^image\/png/, '/mod.wasm': /^application\/wasm/, '/sub/a%20b.txt': /^text\/plain/ };
  for (const [p, ct] of Object.entries(want)) {
    const r = await get(p);
    assert.strictEqual(r.status, 200, p);
    assert.match(r.headers['content-type'], ct, p);
  }
  assert.strictEqual((await get('/sub/')).body, 'sub index');
  const redirect = await get('/sub');
  assert.strictEqual(redirect.status, 301);
  assert.strictEqual(redirect.headers.location, '/sub/');
  assert.strictEqual((await get('/inside.js')).body, 'console.log(1)', 'a link inside the root is fine');
});

t.test('HEAD has the length and no body; If-Modified-Since gives 304', async () => {
  const h = await get('/index.html', { method: 'HEAD' });
  assert.strictEqual(h.status, 200);
  assert.strictEqual(h.headers['content-length'], '11');
  assert.ok(h.raw.endsWith('\r\n\r\n'), 'nothing after the head');
  const lm = h.headers['last-modified'];
  const r = await get('/index.html', { headers: `If-Modified-Since: ${lm}\r\n` });
  assert.strictEqual(r.status, 304);
  assert.strictEqual(r.body, '');
  const old = await get('/index.html', { headers: 'If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n' });
  assert.strictEqual(old.status, 200);
});

t.test('other methods get 405 with Allow; missing files 404', async () => {
  const r = await get('/index.html', { method: 'DELETE' });
  assert.strictEqual(r.status, 405);
  assert.strictEqual(r.headers.allow, 'GET, HEAD');
  assert.strictEqual((await get('/nope.html')).status, 404);
});

t.test('no way out of the root: .., %2e%2e, %2f, NUL, symbolic links', async () => {
  const attempts = ['/../secret.txt', '/sub/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E%2fsecret.txt',
    '/sub/%2e%2e%2f%2e%2e%2fsecret.txt', '/..%2fsecret.txt', '/leak.txt', '/up/secret.txt',
    '/index.html%00.png', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd'];
  for (const a of attempts) {
    const r = await get(a);
    assert.ok([400, 403, 404].includes(r.status), `${a}: status ${r.status}`);
    assert.ok(!r.raw.includes('TOP SECRET') && !r.raw.includes('root:'), `${a} leaked a file`);
  }
});

t.test('WebSocket upgrades still work on the same port', async () => {
  const c = await L.client(`ws://127.0.0.1:${srv.port}/`);
  c.ws.close(1000);
  assert.strictEqual((await c.closed).code, 1000);
});
