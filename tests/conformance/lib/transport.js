'use strict';
// The transport of the whole suite: plain TCP (the default), or TLS (server_tls.test.js) with a
// throw-away PKI from tests/tls/make_certs.sh. The servers are started with its certificate, and
// every connection the cases open goes through TLS to them, so the same cases hold the server to
// the same rules over wss://. A TCP reset stays a TCP reset: the TLS socket's resetAndDestroy
// resets the socket under it.

const net = require('net');
const tls = require('tls');
const split = require('./split');

let pki = null; // { ca, server: { cert, key } } once TLS is on

function useTls(certs) {
  pki = certs;
}

/* Extra `wsk serve` arguments for the transport. */
function serverArgs() {
  return pki ? ['--tls-cert', pki.server.cert, '--tls-key', pki.server.key] : [];
}

/* A connected socket to 127.0.0.1:port (half-open allowed): resolves once it can carry bytes.
 * Under split delivery (lib/split.js) what is written to it goes out in pieces. */
function connect(host, port) {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host, port, allowHalfOpen: true });
    if (!pki) {
      raw.once('connect', () => {
        raw.removeListener('error', reject);
        resolve(split.wrap(raw));
      });
      raw.once('error', reject);
      return;
    }
    const sock = tls.connect({ socket: raw, ca: pki.read(pki.ca), servername: 'localhost',
                               allowHalfOpen: true });
    sock.resetAndDestroy = () => {
      raw.resetAndDestroy();
      return sock.destroy();
    };
    sock.once('secureConnect', () => {
      sock.removeListener('error', reject);
      resolve(split.wrap(sock));
    });
    sock.once('error', reject);
  });
}

module.exports = { useTls, serverArgs, connect };
