'use strict';
// The server under test: two `wsk serve --echo` processes (or Node ws stand-ins) shared by all
// cases, 'main' with the defaults and 'limit' with --max-message, and the context a case gets to
// talk to them (see Suite in runner.js for the harness interface).

const { openClient, httpExchange, upgradeRequest } = require('./handshake');
const { startServer } = require('./server_process');
const { kill } = require('./process');

/* A server the cases share. If it dies, the cases running at that moment are blamed and it is
 * restarted so that one crash does not hide every later result. At the end it must stop cleanly
 * on SIGTERM with status 0 (which also makes a sanitizer build report leaks). */
class SharedServer {
  constructor(kind, name, options) {
    this.kind = kind;
    this.name = name;
    this.options = options;
    this.inFlight = new Set();
    this.problems = [];
    this.stopping = false;
  }

  start() {
    this.ready = startServer(this.kind, this.options).then((s) => {
      this.proc = s;
      s.exited.then(({ code, signal }) => {
        if (this.stopping || this.proc !== s) return;
        this.problems.push(`server "${this.name}" exited (${signal || `code ${code}`}) while running ` +
                           `${[...this.inFlight].join(', ') || 'no case'}; stderr tail: ` +
                           s.stderr().slice(-2000));
        this.start();
      });
      return s;
    });
    return this.ready;
  }

  async stop() {
    this.stopping = true;
    const s = await this.ready;
    s.child.kill('SIGTERM');
    const timer = setTimeout(() => s.child.kill('SIGKILL'), 5000);
    const { code, signal } = await s.exited;
    clearTimeout(timer);
    if (code !== 0) {
      this.problems.push(`server "${this.name}" ended with ${signal || `code ${code}`} on SIGTERM ` +
                         `(expected exit 0 within 5 s); stderr tail: ${s.stderr().slice(-2000)}`);
    }
  }
}

class ServerHarness {
  /* args: added to both servers' command lines (e.g. --deflate). */
  constructor(kind, limit, args = []) {
    this.kind = kind;
    this.args = args;
    this.servers = {
      main: new SharedServer(kind, 'main', { args }),
      limit: new SharedServer(kind, 'limit', { maxMessage: limit, args }),
    };
  }

  /* Start the shared servers; resolves a description for the suite's first line. */
  async start() {
    await Promise.all(Object.values(this.servers).map((s) => s.start()));
    const ports = await Promise.all(Object.values(this.servers).map(async (s) => (await s.ready).port));
    return `${this.kind === 'ws' ? 'Node ws stand-in' : 'wsk serve --echo'}` +
           `${this.args.length ? ` ${this.args.join(' ')}` : ''} (ports ${ports.join(', ')})`;
  }

  /* A case's t: open() a checked WebSocket connection as a client, request() an upgrade request's
   * text, http() a raw exchange, startServer() a server of its own (killed after the case). */
  context(c) {
    const server = this.servers[c.endpoint];
    const peers = [];
    const extra = [];
    const port = async () => (await server.ready).port;
    const t = {
      kind: this.kind,
      target: 'server',
      port,
      open: async (opts = {}) => {
        const { peer, head } = await openClient(opts.port || await port(), opts);
        peers.push(peer);
        peer.head = head;
        return peer;
      },
      request: async (opts) => upgradeRequest(await port(), opts),
      http: async (request) => httpExchange(await port(), request),
      startServer: async (opts) => {
        const s = await startServer(this.kind, opts);
        extra.push(s);
        return s;
      },
    };
    server.inFlight.add(c.label);
    return {
      t,
      finish: async () => {},
      logs: () => peers.filter((p) => p.log.length)
        .map((p, i) => `      connection ${i + 1} saw: ${p.log.slice(-8).join(' | ')}`),
      cleanup: () => {
        server.inFlight.delete(c.label);
        for (const p of peers) p.destroy();
        for (const s of extra) kill(s.child);
      },
    };
  }

  /* Stop the servers; resolves the problems seen (crashes, unclean stops). */
  async stop() {
    await Promise.all(Object.values(this.servers).map((s) => s.stop()));
    return Object.values(this.servers).flatMap((s) => s.problems);
  }
}

module.exports = { ServerHarness };
