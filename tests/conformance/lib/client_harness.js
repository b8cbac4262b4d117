'use strict';
// The client under test: `wsk connect URL --echo` (or the Node ws stand-in, ws_echo_client.js),
// one process per connection a case asks for, each started against a listener of its own on
// 127.0.0.1 (port 0). The case gets the accepted TCP connection with the client's upgrade request
// already held to RFC 6455 4.1 (a fresh key every time, across the whole run), answers it with a
// 101 or a crafted bad answer, and drives the WebSocket as the server (a Peer with role 'server').
//
// After the case, each client must exit within EXIT_MS with the status its ending calls for:
// 0 after a clean close with 1000, 1001 or no code (stderr silent); 1 after anything else, with a
// one-line reason on stderr (naming UTF-8 for 1007, max_message or size for 1009). Every process is
// killed by PID when its case ends.

const net = require('net');
const path = require('path');
const { readHead, awaitHead, HOST } = require('./handshake');
const { parseRequest, checkRequest, switchingProtocols } = require('./accept');
const { Peer, CaseFailure, fail, sleep } = require('./peer');
const { spawnTracked, wskBinary, kill } = require('./process');
const split = require('./split');

const START_MS = 5000; // spawn to TCP connection
const SPLIT_TIMEOUT_MS = 30000;
const HEAD_MS = 3000;  // TCP connection to the complete request head
const EXIT_MS = 3000;  // the end of the case to the client's exit

/* What a peer's ending means for the exit of `wsk connect --echo`. */
function exitFor(peer) {
  if (peer.failExpected) {
    const code = peer.closeCode;
    // The reason names the violation: not the generic text of a close code or of a 1006.
    const reason = code === 1007 ? /UTF-8/ : code === 1009 ? /max_message|size/
      : /^(?!closed with code |the connection ended without a closing handshake)/;
    return { code: 1, reason };
  }
  if (peer.closeCode === undefined) return { code: 1, reason: /1006/ };
  return { code: [null, 1000, 1001].includes(peer.closeCode) ? 0 : 1 };
}

/* One client process and the TCP connection it made to us. */
class Client {
  constructor(proc, prefix) {
    this.proc = proc;
    this.prefix = prefix;   // how its stderr lines start
    this.sock = null;
    this.request = null;    // the parsed request head
    this.key = null;
    this.after = [];        // bytes received after the request head and before a Peer took over
    this.tcpEnd = null;     // 'end' (FIN), 'reset' or 'close' once the client closed TCP
    this.peer = null;
    this.expected = null;   // { code, reason } set by the case, or derived from the peer
    this.exit = null;
    proc.exited.then((e) => { this.exit = e; });
  }

  /* Take over a connected socket with its request head read: collect what follows. */
  attach(sock, rest) {
    this.sock = sock;
    if (rest.length) this.after.push(rest);
    this.collect = (d) => this.after.push(d);
    this.ended = new Promise((resolve) => {
      this.onEnd = (how) => {
        if (!this.tcpEnd) this.tcpEnd = how;
        resolve(how);
      };
    });
    sock.on('data', this.collect);
    sock.on('end', () => this.onEnd('end'));
    sock.on('error', (e) => this.onEnd(e.code === 'ECONNRESET' ? 'reset' : `error ${e.code}`));
    sock.on('close', () => this.onEnd('close'));
  }

  afterLength() {
    return this.after.reduce((n, b) => n + b.length, 0);
  }

  /* Write raw answer bytes (text as latin1). */
  answer(bytes) {
    this.sock.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1'));
  }

  /* Answer 101 (with extra header lines and bytes in the same write), and hand the connection to
   * a Peer acting as the server. The client must not have sent anything before the 101. */
  accept({ headers = [], pipelined = null } = {}) {
    if (this.afterLength()) {
      fail(`the client sent ${this.afterLength()} bytes before the 101 (it must wait for it)`);
    }
    const head = Buffer.from(switchingProtocols(this.key, headers), 'latin1');
    this.sock.write(pipelined ? Buffer.concat([head, pipelined]) : head);
    return this.takeOver();
  }

  /* The connection as a Peer (role 'server'), from the bytes collected so far on. */
  takeOver() {
    this.sock.removeListener('data', this.collect);
    this.peer = new Peer(this.sock, { role: 'server', leftover: Buffer.concat(this.after) });
    this.after = [];
    return this.peer;
  }

  /* The case expects this exit status (and, for 1, a reason matching the regexp). */
  expectExit(code, reason = null) {
    this.expected = { code, reason };
  }

  /* A failed opening handshake: the client closes TCP (a reset is accepted) within ms without
   * sending a single byte after its request, then exits 1 with a reason matching `reason`. */
  async expectHandshakeFailure(reason, ms = 3000) {
    const late = split.whenWritten(this.sock).then(() => sleep(ms)).then(() => null);
    const how = await Promise.race([this.ended, late]);
    if (!how) fail(`expected the client to fail the handshake and close TCP within ${ms} ms`);
    if (this.afterLength()) {
      fail(`the client sent ${this.afterLength()} bytes after a failed handshake: ` +
           `${Buffer.concat(this.after).subarray(0, 16).toString('hex')}...`);
    }
    this.expectExit(1, reason);
  }

  /* The process exits as expected within EXIT_MS (of our last piece written, under split
   * delivery), and says what it should on stderr. */
  async finish() {
    const want = this.expected || (this.peer && exitFor(this.peer));
    if (!want) throw new Error('the case set no expectation for the client\'s exit');
    const late = split.whenWritten(this.sock).then(() => sleep(EXIT_MS)).then(() => null);
    const exit = await Promise.race([this.proc.exited, late]);
    const lines = this.proc.stderr().split('\n').filter((l) => l.length);
    const said = lines.length ? `; stderr: ${lines.slice(0, 3).join(' / ').slice(0, 300)}` : '';
    if (!exit) {
      fail(`the client is still running ${EXIT_MS} ms after the case (expected exit ${want.code})`);
    }
    if (exit.code !== want.code) {
      fail(`the client exited with ${exit.signal || exit.code}, expected ${want.code}${said}`);
    }
    if (want.code === 0) {
      const noise = lines.filter((l) => !l.startsWith(`${this.prefix}connected, subprotocol `));
      if (noise.length) fail(`the client exited 0 but wrote on stderr: ${noise.join(' / ')}`);
      return;
    }
    if (lines.length !== 1 || !lines[0].startsWith(this.prefix)) {
      fail(`the client must give one line "${this.prefix}REASON" on stderr, ` +
           `got ${lines.length} lines${said}`);
    }
    const reason = lines[0].slice(this.prefix.length);
    if (want.reason && !want.reason.test(reason)) {
      fail(`the client's reason "${reason}" does not match ${want.reason}`);
    }
  }
}

class ClientHarness {
  /* kind 'wsk' or 'ws'; limit: the --max-message of the 'limit' endpoint. */
  constructor(kind, limit) {
    this.kind = kind;
    this.limit = limit;
    this.keys = new Set(); // every Sec-WebSocket-Key of the run
  }

  async start() {
    if (this.kind === 'wsk') wskBinary(); // fails early without a build
    return this.kind === 'ws' ? 'Node ws stand-in client' : 'wsk connect --echo';
  }

  command(url, args) {
    if (this.kind === 'ws') {
      return [process.execPath, [path.join(__dirname, 'ws_echo_client.js'), url, ...args]];
    }
    return [wskBinary(), ['connect', url, '--echo', ...args]];
  }

  /* Start a client for case c with opts { args, protocols, target } and accept its connection;
   * resolves the Client once its request head was read and checked. */
  async spawn(c, clients, listeners, opts) {
    const listener = net.createServer({ allowHalfOpen: true });
    listeners.push(listener);
    await new Promise((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, HOST, resolve);
    });
    const port = listener.address().port;
    const target = opts.target || `/conformance/${c.id}?client=${clients.length + 1}`;
    const protocols = opts.protocols || [];
    // Split delivery stretches a case's writes (a pause per piece, longer on a loaded machine):
    // the client's timers (5 s to close, 10 s for the 101) must not run out while the pieces of
    // a byte-per-byte 101, or those that follow its close frame, are still being written. Cases
    // about those timers give them explicitly.
    const own = opts.args || [];
    const slow = (opt) => (c.seed && !own.includes(opt) ? [opt, String(SPLIT_TIMEOUT_MS)] : []);
    const closeTimeout = [...slow('--close-timeout'), ...slow('--handshake-timeout')];
    const args = [...(c.endpoint === 'limit' ? ['--max-message', String(this.limit)] : []),
                  ...protocols.flatMap((p) => ['--subprotocol', p]), ...closeTimeout, ...own];
    const [cmd, argv] = this.command(`ws://${HOST}:${port}${target}`, args);
    const client = new Client(spawnTracked(cmd, argv),
                              this.kind === 'ws' ? 'ws client: ' : 'wsk connect: ');
    clients.push(client);
    const sock = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new CaseFailure(`the client did not connect within ${START_MS} ms; ` +
                               `stderr: ${client.proc.stderr()}`));
      }, START_MS);
      listener.once('connection', (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      client.proc.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new CaseFailure(`the client exited (${signal || code}) before connecting; ` +
                               `stderr: ${client.proc.stderr()}`));
      });
    });
    listener.close();
    sock.setNoDelay(true);
    split.wrap(sock);
    const r = await awaitHead(readHead(sock, parseRequest), HEAD_MS);
    client.attach(sock, r.rest);
    if (!r.head) {
      fail(`no complete upgrade request within ${HEAD_MS} ms` +
           (r.raw.length ? ` (got ${JSON.stringify(r.raw.toString('latin1').slice(0, 80))})` : ''));
    }
    client.request = r.head;
    client.key = checkRequest(r.head, { port, target, protocols });
    if (this.keys.has(client.key)) {
      fail(`Sec-WebSocket-Key ${client.key} was used before in this run (keys must be random)`);
    }
    this.keys.add(client.key);
    return client;
  }

  /* A case's t: spawn(opts) a client and read its request, open(opts) that and the 101 too,
   * resolving the Peer (role 'server') that drives the connection. */
  context(c) {
    const clients = [];
    const listeners = [];
    const t = {
      kind: this.kind,
      target: 'client',
      spawn: (opts = {}) => this.spawn(c, clients, listeners, opts),
      open: async (opts = {}) => (await t.spawn(opts)).accept(opts),
    };
    return {
      t,
      finish: async () => {
        for (const cl of clients) await cl.finish();
      },
      logs: () => clients.map((cl, i) => {
        const log = cl.peer ? cl.peer.log.slice(-8) : [];
        const saw = log.length ? ` saw: ${log.join(' | ')};` : '';
        const exit = cl.exit ? `exited ${cl.exit.signal || cl.exit.code}` : 'still running';
        const err = cl.proc.stderr().trim().split('\n').slice(-3).join(' / ').slice(-400);
        return `      client ${i + 1}${saw} ${exit}${err ? `; stderr: ${err}` : ''}`;
      }),
      cleanup: () => {
        for (const cl of clients) {
          kill(cl.proc.child);
          if (cl.sock) cl.sock.destroy();
        }
        for (const l of listeners) l.close();
      },
    };
  }

  async stop() {
    return [];
  }
}

module.exports = { ClientHarness };
