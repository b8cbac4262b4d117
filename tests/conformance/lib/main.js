'use strict';
// The suite's entry point, shared by server.test.js (plain TCP) and server_tls.test.js (the same
// cases over TLS): options, the case groups, the shared servers, a watchdog, the exit status.

const { Suite, SharedServer } = require('./runner');
const { killAll } = require('./server_process');
const transport = require('./transport');
const { handshake } = require('../cases/handshake');
const { framing } = require('../cases/framing');
const { control } = require('../cases/control');
const { reservedBits, reservedOpcodes } = require('../cases/reserved');
const { fragmentation } = require('../cases/fragmentation');
const { utf8 } = require('../cases/utf8');
const { closing } = require('../cases/closing');
const { LIMIT, limits } = require('../cases/limits');
const { shutdown } = require('../cases/shutdown');
const { makeCerts } = require('../../tls/certs');

const WATCHDOG_MS = 90000;

function parseArgs(argv) {
  const out = { kind: process.env.WSK_CONF_SERVER || 'wsk', jobs: 16, filters: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--server') out.kind = argv[++i];
    else if (argv[i] === '--jobs') out.jobs = Number(argv[++i]);
    else out.filters.push(argv[i]);
  }
  if (!['wsk', 'ws'].includes(out.kind)) throw new Error(`unknown server kind ${out.kind}`);
  return out;
}

async function runSuite(args, tls) {
  if (tls) {
    if (args.kind !== 'wsk') throw new Error('the TLS run needs the wsk server (no --server ws)');
    transport.useTls(makeCerts());
  }
  const suite = new Suite();
  suite.defineGroup('1', handshake);
  suite.defineGroup('2', framing);
  suite.defineGroup('3', control);
  suite.defineGroup('4', reservedBits);
  suite.defineGroup('5', reservedOpcodes);
  suite.defineGroup('6', fragmentation);
  suite.defineGroup('7', utf8);
  suite.defineGroup('8', closing);
  suite.defineGroup('9', limits);
  suite.defineGroup('10', shutdown);

  const servers = {
    main: new SharedServer(args.kind, 'main', {}),
    limit: new SharedServer(args.kind, 'limit', { maxMessage: LIMIT }),
  };
  await Promise.all(Object.values(servers).map((s) => s.start()));
  console.log(`conformance: ${args.kind === 'ws' ? 'Node ws stand-in' : 'wsk serve --echo'}` +
              `${tls ? ' over TLS' : ''} ` +
              `(ports ${(await servers.main.ready).port}, ${(await servers.limit.ready).port})`);
  return suite.run({ kind: args.kind, servers, concurrency: args.jobs, filters: args.filters });
}

/* Run the suite with the command line's options, plain or over TLS, and exit with its status. */
function main({ tls = false } = {}) {
  const watchdog = setTimeout(() => {
    console.log(`FAIL watchdog: the suite did not finish within ${WATCHDOG_MS / 1000} s`);
    killAll();
    process.exit(1);
  }, WATCHDOG_MS);

  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      killAll();
      process.exit(1);
    });
  }

  runSuite(parseArgs(process.argv.slice(2)), tls).then((failed) => {
    clearTimeout(watchdog);
    process.exit(failed ? 1 : 0);
  }, (err) => {
    console.log(`FAIL suite: ${err.stack || err}`);
    killAll();
    process.exit(1);
  });
}

module.exports = { main };
