'use strict';
// server_deflate.test.js with split delivery under the split seeds 1-20 (see server_split.test.js).
//
//   node tests/conformance/server_deflate_split.test.js [--split-seeds A-B] [--jobs N] [FILTER...]

require('./lib/main').main({ deflate: true, seeds: '1-20' });
