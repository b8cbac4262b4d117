'use strict';
// The slow-subscriber policy of `wsk serve --broadcast` and `--rooms` under many small messages:
// 50 reading clients, one subscriber that never reads and a publisher sending 1 KiB messages
// (never more than WINDOW ahead of the slowest reader). Output to the subscribers waits in their
// queues for the end of the loop iteration (src/conn/batch.c), so this is the batch under load:
// - every reader gets every message, in order;
// - the server's peak RSS stays within --send-limit plus a few MiB of its baseline, far below
//   what was published (20 MB, 1 GB delivered);
// - the non-reader gets what fitted under the limit, in order; the rest is dropped and counted:
//   its close line in the json access log says "dropped", and delivered + dropped = published;
// - with --drop-slow it is closed with 1008 instead (one message dropped: the one that did not
//   fit).
const L = require('./server_lib');
const { dropsCounted, droppedSlow } = require('./subscriber_lib');

const t = L.suite('server_slow_subscriber', { timeoutMs: 240000 });
L.noQuarantine();

for (const mode of ['--broadcast', '--rooms']) {
  t.test(`${mode} --send-limit 1m: readers get all, memory bounded, the non-reader's drops counted`,
    () => dropsCounted(mode, 20000));
}
t.test('--broadcast --drop-slow: readers get all, memory bounded, the non-reader closed with 1008',
  () => droppedSlow('--broadcast', 10000));
