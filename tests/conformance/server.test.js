'use strict';
// RFC 6455 conformance of `wsk serve --echo`, driven by a scripted raw TCP peer (lib/peer.js).
//
//   node tests/conformance/server.test.js [--server wsk|ws] [--jobs N] [FILTER...]
//
// --server ws (or WSK_CONF_SERVER=ws) runs the suite against Node's ws package as a stand-in, to
// validate the suite itself. FILTER selects cases by id ("7", "7.12") or by a part of the name.
// Prints one PASS/FAIL line per case and "N passed, M failed"; exits 1 on any failure.

const { Suite, SharedServer } = require('./lib/runner');
const { killAll } = require('./lib/server_process');
const { handshake } = require('./cases/handshake');
const { framing } = require('./cases/framing');
const { control } = require('./cases/control');
const { reservedBits, reservedOpcodes } = require('./cases/reserved');
const { fragmentation } = require('./cases/fragmentation');
const { utf8 } = require('./cases/utf8');
const { closing } = require('./cases/closing');
const { LIMIT, limits } = require('./cases/limits');
const { shutdown } = require('./cases/shutdown');

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

async function main() {
  const args = parseArgs(process.argv.slice(2));
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
  console.log(`conformance: ${args.kind === 'ws' ? 'Node ws stand-in' : 'wsk serve --echo'} ` +
              `(ports ${(await servers.main.ready).port}, ${(await servers.limit.ready).port})`);
  return suite.run({ kind: args.kind, servers, concurrency: args.jobs, filters: args.filters });
}

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

main().then((failed) => {
  clearTimeout(watchdog);
  process.exit(failed ? 1 : 0);
}, (err) => {
  console.log(`FAIL suite: ${err.stack || err}`);
  killAll();
  process.exit(1);
});
