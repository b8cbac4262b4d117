'use strict';
// The suite's entry point, shared by server.test.js (plain TCP), server_tls.test.js (the same
// cases over TLS), server_deflate.test.js (the same cases, and the compressed ones, against a
// server with permessage-deflate on) and client.test.js (the client under test): options, the case
// groups, the harness of the side under test, a watchdog, the exit status.

const path = require('path');
const { Suite } = require('./runner');
const { ServerHarness } = require('./server_harness');
const { ClientHarness } = require('./client_harness');
const { killAll } = require('./process');
const transport = require('./transport');
const split = require('./split');
const { handshake } = require('../cases/handshake');
const { clientHandshake } = require('../cases/client_handshake');
const { framing } = require('../cases/framing');
const { control } = require('../cases/control');
const { reservedBits, reservedOpcodes } = require('../cases/reserved');
const { fragmentation } = require('../cases/fragmentation');
const { utf8 } = require('../cases/utf8');
const { closing } = require('../cases/closing');
const { LIMIT, limits } = require('../cases/limits');
const { shutdown } = require('../cases/shutdown');
const { clientEnding } = require('../cases/client_ending');
const { deflate: deflateCases } = require('../cases/deflate');
const { makeCerts } = require('../../tls/certs');

const WATCHDOG_MS = 90000;

/* --server KIND (server.test.js) or --client KIND (client.test.js): wsk or the ws stand-in.
 * Split delivery (lib/split.js): --split-seed N (or WSK_SPLIT_SEED) runs every selected case split
 * with seed N (0: not split); --split-seeds A-B (or WSK_SPLIT_SEEDS, else the test file's default
 * `seeds`) runs each seed of the range over its share of the cases. */
function parseArgs(argv, target, seeds) {
  const env = process.env[target === 'server' ? 'WSK_CONF_SERVER' : 'WSK_CONF_CLIENT'];
  const out = { kind: env || 'wsk', jobs: 16, filters: [], seed: process.env.WSK_SPLIT_SEED,
                seeds: process.env.WSK_SPLIT_SEEDS || seeds };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${target}`) out.kind = argv[++i];
    else if (argv[i] === '--jobs') out.jobs = Number(argv[++i]);
    else if (argv[i] === '--split-seed') out.seed = argv[++i];
    else if (argv[i] === '--split-seeds') out.seeds = argv[++i];
    else out.filters.push(argv[i]);
  }
  if (!['wsk', 'ws'].includes(out.kind)) throw new Error(`unknown ${target} kind ${out.kind}`);
  out.seed = out.seed === undefined ? 0 : split.parseSeeds(out.seed)[0];
  out.seeds = out.seed || out.seeds === undefined ? null : split.parseSeeds(out.seeds);
  return out;
}

async function runSuite(args, { tls, target, deflate, watchdog }) {
  if (tls) {
    if (args.kind !== 'wsk' || target !== 'server') throw new Error('the TLS run needs wsk serve');
    transport.useTls(makeCerts());
  }
  const suite = new Suite(target);
  suite.defineGroup('1', target === 'server' ? handshake : clientHandshake);
  suite.defineGroup('2', framing);
  suite.defineGroup('3', control);
  suite.defineGroup('4', reservedBits);
  suite.defineGroup('5', reservedOpcodes);
  suite.defineGroup('6', fragmentation);
  suite.defineGroup('7', utf8);
  suite.defineGroup('8', closing);
  suite.defineGroup('9', limits);
  suite.defineGroup('10', target === 'server' ? shutdown : clientEnding);
  if (deflate) suite.defineGroup('11', deflateCases);

  const Harness = target === 'server' ? ServerHarness : ClientHarness;
  // Split delivery stretches a request (over TLS, its handshake records too) to seconds on a
  // loaded machine: the server's handshake timer (10 s by default) gets room.
  const slow = target === 'server' && args.kind === 'wsk' && (args.seed || args.seeds)
    ? ['--handshake-timeout', '30000'] : [];
  const harness = new Harness(args.kind, LIMIT, [...(deflate ? ['--deflate'] : []), ...slow]);
  const mode = args.seed ? `, split delivery (seed ${args.seed})`
    : args.seeds ? `, split delivery (seeds ${args.seeds[0]}-${args.seeds.at(-1)}, each over its ` +
                   'share of the cases; FAIL lines only)' : '';
  console.log(`conformance: ${await harness.start()}${tls ? ' over TLS' : ''}${mode}`);
  return suite.run({ harness, concurrency: args.jobs, filters: args.filters, seed: args.seed,
                     seeds: args.seeds, quiet: Boolean(args.seeds),
                     // many seeds run long: the watchdog then only wants a case to end now and then
                     progress: () => args.seeds && watchdog.refresh(),
                     script: path.basename(process.argv[1]) });
}

/* Run the suite with the command line's options and exit with its status. target: the side
 * under test ('server' or 'client'); tls: every connection through TLS (server only); deflate:
 * the servers run with --deflate and the permessage-deflate cases are added (server only);
 * seeds: the split seeds run by default ('A-B'; none: no split delivery). */
function main({ tls = false, target = 'server', deflate = false, seeds = undefined } = {}) {
  const watchdog = setTimeout(() => {
    console.log(`FAIL watchdog: the suite did not finish (with many split seeds: no case ended) ` +
                `within ${WATCHDOG_MS / 1000} s`);
    killAll();
    process.exit(1);
  }, WATCHDOG_MS);

  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      killAll();
      process.exit(1);
    });
  }

  const args = parseArgs(process.argv.slice(2), target, seeds);
  runSuite(args, { tls, target, deflate, watchdog }).then((failed) => {
    clearTimeout(watchdog);
    process.exit(failed ? 1 : 0);
  }, (err) => {
    console.log(`FAIL suite: ${err.stack || err}`);
    killAll();
    process.exit(1);
  });
}

module.exports = { main };
