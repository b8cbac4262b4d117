'use strict';
// RFC 6455 conformance of `wsk connect URL --echo`: the suite's raw peer plays the server
// (lib/client_harness.js), starting one client process per connection a case needs.
//
//   node tests/conformance/client.test.js [--client wsk|ws] [--jobs N] [FILTER...]
//
// --client ws (or WSK_CONF_CLIENT=ws) runs the suite against a Node ws client as a stand-in, to
// validate the suite itself. FILTER selects cases by id ("7", "7.12") or by a part of the name.
// Prints one PASS/FAIL line per case and "N passed, M failed"; exits 1 on any failure.

require('./lib/main').main({ target: 'client' });
