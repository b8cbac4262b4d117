'use strict';
// A Node `ws` client with the command line and the exit contract of `wsk connect URL --echo`, to
// validate the client suite itself (client.test.js --client ws):
//   node ws_echo_client.js URL [--max-message BYTES] [--subprotocol P]... [--close-timeout MS]
// [--handshake-timeout MS] (both accepted and ignored: ws has its own fixed timers)
// Every message received is sent back with its opcode; SIGINT or SIGTERM closes with 1000. Exit 0
// after a clean close with 1000, 1001 or no code; 1 otherwise, with one line "ws client: REASON"
// on stderr.

const WebSocket = require('ws');

const [url, ...rest] = process.argv.slice(2);
let maxPayload = 16 * 1024 * 1024;
const protocols = [];
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--max-message') maxPayload = Number(rest[++i]);
  else if (rest[i] === '--subprotocol') protocols.push(rest[++i]);
  else if (rest[i] === '--close-timeout' || rest[i] === '--handshake-timeout') i++;
  else {
    console.error(`ws client: unknown option ${rest[i]}`);
    process.exit(2);
  }
}

let error = null;
const ws = new WebSocket(url, protocols, { maxPayload, perMessageDeflate: false });
ws.on('open', () => {
  if (ws.protocol) console.error(`ws client: connected, subprotocol ${ws.protocol}`);
});
ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
ws.on('error', (e) => {
  error = error || e.message;
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => ws.close(1000));
ws.on('close', (code) => {
  if (error) console.error(`ws client: ${error}`);
  else if (code === 1006) {
    console.error('ws client: the connection ended without a closing handshake (1006)');
  }
  else if (![1000, 1001, 1005].includes(code)) console.error(`ws client: closed with code ${code}`);
  process.exit(error || ![1000, 1001, 1005].includes(code) ? 1 : 0);
});
