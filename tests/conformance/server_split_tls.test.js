'use strict';
// server_tls.test.js with split delivery under the split seeds 1-20 (see server_split.test.js):
// each piece is a TLS record of its own, so the server decrypts the pieces in separate reads.
//
//   node tests/conformance/server_split_tls.test.js [--split-seeds A-B] [--jobs N] [FILTER...]

require('./lib/main').main({ tls: true, seeds: '1-20' });
