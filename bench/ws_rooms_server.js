// ws_rooms_server.js - Node's `ws` as a publish/subscribe server in the protocol of
// `wsk serve --rooms`, the reference `make bench` compares `wsk bench fanout` with: the request
// path /room/NAME (any other path is a room of its own) makes the connection a member of room
// NAME, and each message a member sends goes to every other member, by looping over the room's
// clients (the usual way to broadcast with ws).
// Usage: node bench/ws_rooms_server.js [PORT]  (0 or none: the kernel picks). Prints "listening PORT".
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 0);
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, clientTracking: false });
const rooms = new Map(); // name -> Set of members

wss.on('connection', (ws, req) => {
  const name = req.url.startsWith('/room/') ? req.url.slice(6) : req.url;
  let room = rooms.get(name);
  if (!room) rooms.set(name, (room = new Set()));
  room.add(ws);
  ws.on('message', (data, isBinary) => {
    for (const member of room) {
      if (member !== ws && member.readyState === WebSocket.OPEN) member.send(data, { binary: isBinary });
    }
  });
  ws.on('close', () => {
    room.delete(ws);
    if (room.size === 0 && rooms.get(name) === room) rooms.delete(name);
  });
  ws.on('error', () => {}); // a peer that goes away mid-frame is not the server's failure
});
wss.on('listening', () => console.log(`listening ${wss.address().port}`));
process.on('SIGTERM', () => process.exit(0));
