'use strict';
// The conformance cases of server.test.js over TLS: `wsk serve --echo --tls-cert ... --tls-key ...`
// with the throw-away PKI of tests/tls/make_certs.sh, every connection of every case through TLS
// (lib/transport.js). Same options and output as server.test.js (no --server ws).
//
//   node tests/conformance/server_tls.test.js [--jobs N] [FILTER...]

require('./lib/main').main({ tls: true });
