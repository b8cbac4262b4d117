'use strict';
// Case registry and runner: cases run concurrently (each on its own connections), results are
// printed in case order as "PASS id name" / "FAIL id name: why", then "N passed, M failed".

const { openClient, httpExchange, upgradeRequest } = require('./handshake');
const { startServer } = require('./server_process');
const { CaseFailure } = require('./peer');

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

class Suite {
  constructor() {
    this.cases = [];
    this.group = null;
  }

  /* Register the cases of one group; fn receives add(name, caseFn, { server, timeout }). */
  defineGroup(id, fn) {
    let n = 0;
    fn((name, run, opts = {}) => {
      this.cases.push({ id: `${id}.${++n}`, name, run, server: opts.server || 'main',
                        timeout: opts.timeout || 15000 });
    });
  }

  select(filters) {
    if (!filters.length) return this.cases;
    const matches = (c, f) => (/^\d+(\.\d+)?$/.test(f) ? c.id === f || c.id.startsWith(`${f}.`)
                                                         : c.name.includes(f));
    return this.cases.filter((c) => filters.some((f) => matches(c, f)));
  }

  async runCase(c, servers, kind) {
    const server = servers[c.server];
    const peers = [];
    const extra = [];
    const t = {
      kind,
      port: async () => (await server.ready).port,
      open: async (opts = {}) => {
        const { peer, head } = await openClient(opts.port || await t.port(), opts);
        peers.push(peer);
        peer.head = head;
        return peer;
      },
      request: async (opts) => upgradeRequest(await t.port(), opts),
      http: async (request) => httpExchange(await t.port(), request),
      startServer: async (opts) => {
        const s = await startServer(kind, opts);
        extra.push(s);
        return s;
      },
    };
    server.inFlight.add(c.id);
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(new CaseFailure(`timed out after ${c.timeout} ms`)), c.timeout);
    });
    let error = null;
    try {
      error = await Promise.race([c.run(t).then(() => null), timeout]);
    } catch (e) {
      error = e;
    } finally {
      clearTimeout(timer);
      server.inFlight.delete(c.id);
      for (const p of peers) p.destroy();
      for (const s of extra) {
        try {
          process.kill(s.child.pid, 'SIGKILL');
        } catch (e) {
          // already exited
        }
      }
    }
    if (!error) return { ok: true };
    const why = error instanceof CaseFailure ? error.message : `suite error: ${error.stack}`;
    const logs = peers.filter((p) => p.log.length)
      .map((p, i) => `      connection ${i + 1} saw: ${p.log.slice(-8).join(' | ')}`);
    return { ok: false, why, logs };
  }

  /* Run the selected cases, then stop the servers; resolves the number of failures (server
   * crashes and unclean stops count as failures). */
  async run({ kind, servers, concurrency = 16, filters = [] }) {
    const cases = this.select(filters);
    const results = new Array(cases.length);
    let printed = 0;
    let nextIndex = 0;
    const flush = () => {
      while (printed < cases.length && results[printed]) {
        const c = cases[printed];
        const r = results[printed];
        if (r.ok) console.log(`PASS ${c.id} ${c.name}`);
        else console.log([`FAIL ${c.id} ${c.name}: ${r.why}`, ...r.logs].join('\n'));
        printed++;
      }
    };
    const worker = async () => {
      while (nextIndex < cases.length) {
        const i = nextIndex++;
        results[i] = await this.runCase(cases[i], servers, kind);
        flush();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    const problems = Object.values(servers).flatMap((s) => s.problems);
    for (const p of problems) console.log(`FAIL server: ${p}`);
    const caseFailures = results.filter((r) => !r.ok).length;
    const failed = caseFailures + problems.length;
    console.log(`${results.length - caseFailures} passed, ${failed} failed`);
    return failed;
  }
}

module.exports = { Suite, SharedServer };
