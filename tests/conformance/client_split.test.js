'use strict';
// client.test.js with split delivery under the split seeds 1-20 (see server_split.test.js): the
// peer plays the server, so the 101 (or a crafted answer) and its frames reach `wsk connect` in
// pieces.
//
//   node tests/conformance/client_split.test.js [--split-seeds A-B] [--jobs N] [FILTER...]

require('./lib/main').main({ target: 'client', seeds: '1-20' });
