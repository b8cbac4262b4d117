'use strict';
// Case registry and runner: cases run concurrently (each on its own connections), results are
// printed in case order as "PASS id name" / "FAIL id name: why", then "N passed, M failed".
//
// The side under test is behind a harness (server_harness.js, client_harness.js):
//   start() -> description; stop() -> [problems], each counted as a failure;
//   context(case) -> { t, finish(), logs(), cleanup() }: t is what the case function receives,
//   finish() runs after the case function succeeded (and may fail the case), logs() describes a
//   failed case's connections and processes, cleanup() releases everything the case used.
// A case runs as a job: the case with the split seed it runs under (0: no split delivery) and a
// label naming both.

const { CaseFailure } = require('./peer');
const split = require('./split');

class Suite {
  /* target: the side under test, 'server' or 'client'. */
  constructor(target) {
    this.target = target;
    this.cases = [];
  }

  /* Register the cases of one group: fn(add, target) calls add(name, caseFn, opts) where opts are
   * { endpoint: 'main' | 'limit', timeout: ms, only: 'server' | 'client' }. */
  defineGroup(id, fn) {
    let n = 0;
    fn((name, run, opts = {}) => {
      if (opts.only && opts.only !== this.target) return;
      this.cases.push({ id: `${id}.${++n}`, index: this.cases.length, name, run,
                        endpoint: opts.endpoint || 'main', timeout: opts.timeout || 15000 });
    }, this.target);
  }

  select(filters) {
    if (!filters.length) return this.cases;
    const matches = (c, f) => (/^\d+(\.\d+)?$/.test(f) ? c.id === f || c.id.startsWith(`${f}.`)
                                                         : c.name.includes(f));
    return this.cases.filter((c) => filters.some((f) => matches(c, f)));
  }

  /* c: a job; script: the test file, named in the replay command of a failed split job. */
  async runCase(c, harness, script) {
    const ctx = harness.context(c);
    let timer;
    const ms = split.timeLimit(c);
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(new CaseFailure(`timed out after ${ms} ms`)), ms);
    });
    let error = null;
    try {
      const run = split.inCase(c, () => c.run(ctx.t).then(() => ctx.finish()));
      error = await Promise.race([run.then(() => null), timeout]);
    } catch (e) {
      error = e;
    } finally {
      clearTimeout(timer);
    }
    const logs = error ? ctx.logs() : [];
    ctx.cleanup();
    if (!error) return { ok: true };
    const why = (error instanceof CaseFailure ? error.message : `suite error: ${error.stack}`) +
                split.describe(c, script);
    return { ok: false, why, logs };
  }

  /* The jobs of the selected cases: each case once under `seed` (0: not split), or with `seeds`
   * (many split seeds) each seed over its share of the cases. */
  jobs(filters, { seed = 0, seeds = null }) {
    const cases = this.select(filters);
    const job = (c, s) => ({ ...c, seed: s, label: s ? `${c.id} (seed ${s})` : c.id });
    if (!seeds) return cases.map((c) => job(c, seed));
    return seeds.flatMap((s) => cases.filter((c) => split.chosen(c.index, s)).map((c) => job(c, s)));
  }

  /* Run the jobs of the selected cases (see jobs()), then stop the harness; resolves the number
   * of failures (problems the harness reports count as failures). quiet: FAIL lines only;
   * progress(): called as each job ends; script: the test file (for replay commands). */
  async run({ harness, concurrency = 16, filters = [], seed = 0, seeds = null, quiet = false,
              progress = () => {}, script = '' }) {
    const cases = this.jobs(filters, { seed, seeds });
    const results = new Array(cases.length);
    let printed = 0;
    let nextIndex = 0;
    const flush = () => {
      while (printed < cases.length && results[printed]) {
        const c = cases[printed];
        const r = results[printed];
        if (!r.ok) console.log([`FAIL ${c.id} ${c.name}: ${r.why}`, ...r.logs].join('\n'));
        else if (!quiet) console.log(`PASS ${c.id} ${c.name}`);
        printed++;
      }
    };
    const worker = async () => {
      while (nextIndex < cases.length) {
        const i = nextIndex++;
        results[i] = await this.runCase(cases[i], harness, script);
        progress();
        flush();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const problems = await harness.stop();
    for (const p of problems) console.log(`FAIL ${this.target}: ${p}`);
    const caseFailures = results.filter((r) => !r.ok).length;
    const failed = caseFailures + problems.length;
    const what = seeds ? ` (split seeds ${seeds[0]}-${seeds.at(-1)}: ${results.length} runs)` : '';
    console.log(`${results.length - caseFailures} passed, ${failed} failed${what}`);
    return failed;
  }
}

module.exports = { Suite };
