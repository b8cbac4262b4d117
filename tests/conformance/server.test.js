'use strict';
// RFC 6455 conformance of `wsk serve --echo`, driven by a scripted raw TCP peer (lib/peer.js).
//
//   node tests/conformance/server.test.js [--server wsk|ws] [--jobs N] [FILTER...]
//
// --server ws (or WSK_CONF_SERVER=ws) runs the suite against Node's ws package as a stand-in, to
// validate the suite itself. FILTER selects cases by id ("7", "7.12") or by a part of the name.
// Prints one PASS/FAIL line per case and "N passed, M failed"; exits 1 on any failure.

require('./lib/main').main();
