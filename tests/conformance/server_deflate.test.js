'use strict';
// The conformance suite against `wsk serve --echo --deflate`: every case of server.test.js (whose
// connections do not offer permessage-deflate, so nothing may change for them), plus the
// permessage-deflate cases of cases/deflate.js (RFC 7692).
//
//   node tests/conformance/server_deflate.test.js [--server wsk|ws] [--jobs N] [FILTER...]

require('./lib/main').main({ deflate: true });
