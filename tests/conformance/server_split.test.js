'use strict';
// server.test.js with split delivery (lib/split.js): every case runs with the bytes it writes cut
// at random points into separate TCP segments, under the split seeds 1-20 (each seed over its
// share of the cases, every case at least once and once byte per byte). Same options and output
// as server.test.js; --split-seeds A-B or WSK_SPLIT_SEEDS picks other seeds (make soak).
//
//   node tests/conformance/server_split.test.js [--split-seeds A-B] [--jobs N] [FILTER...]

require('./lib/main').main({ seeds: '1-20' });
