'use strict';
// server_slow_subscriber over TLS: the batch's writes go through the TLS session (records of many
// messages at once), with the same policy: every reader gets every message in order, the server's
// peak RSS stays within --send-limit plus a few MiB, the non-reader's drops are counted
// (delivered + dropped = published), and --drop-slow closes it with 1008.
const L = require('./server_lib');
const { dropsCounted, droppedSlow } = require('./subscriber_lib');
const { makeCerts } = require('../tls/certs');

const t = L.suite('server_slow_subscriber_tls', { timeoutMs: 240000 });
L.noQuarantine();
const pki = makeCerts();
const tls = { cert: pki.server.cert, key: pki.server.key, ca: pki.read(pki.ca) };

t.test('--rooms --send-limit 1m over TLS: readers get all, memory bounded, drops counted',
  () => dropsCounted('--rooms', 10000, { tls }));
t.test('--broadcast --drop-slow over TLS: the non-reader closed with 1008',
  () => droppedSlow('--broadcast', 10000, { tls }));
