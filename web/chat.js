// wsk chat: the seed's WebSocket client grown into a small chat with rooms. Connects back to the
// host that served the page (or to the server of ?url=), to the room of the URL hash (#lobby by
// default: ws://HOST/room/lobby), shows the connection state and the room's member count, logs
// every message, reconnects with exponential backoff; another room reconnects at once.
//
// Wire format (what `wsk serve --rooms` relays between the members of a room):
//   - a chat message is a text {"name":"Ann","text":"hello"}: shown as "hello" from Ann;
//   - the server's {"type":"members","room":"lobby","count":2} sets the member count;
//   - any other message (the server's --welcome text, what a plain client such as `wsk connect`
//     types, binary data) is shown as it is.
(() => {
  'use strict';

  const MAX_ENTRIES = 500;
  const BASE_DELAY_MS = 500;
  const MAX_DELAY_MS = 10000;
  const DEFAULT_ROOM = 'lobby';
  const NAME_KEY = 'wsk-chat-name';
  // The server takes room names of up to 256 bytes: 64 characters are at most that in UTF-8.
  const MAX_ROOM_CHARS = 64;
  const MAX_NAME_CHARS = 40;

  const byId = (id) => document.getElementById(id);
  const stateEl = byId('state');
  const membersEl = byId('members');
  const log = byId('log');
  const form = byId('form');
  const input = byId('msg');
  const sendButton = byId('send');
  const where = byId('where');
  const nameInput = byId('name');
  const roomInput = byId('room');

  const params = new URLSearchParams(location.search);
  const server = (params.get('url') ||
    (location.host ? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`
                   : 'ws://localhost:8000/')).replace(/\/+$/, '');

  const clip = (s, n) => [...s.trim()].slice(0, n).join('');

  function storedName() {
    try {
      return localStorage.getItem(NAME_KEY);
    } catch (_) {
      return null; // storage off (a file:// page, privacy settings): a name for this visit only
    }
  }
  let name = clip(storedName() || `guest-${Math.floor(1000 + Math.random() * 9000)}`, MAX_NAME_CHARS);
  nameInput.value = name;

  function saveName() {
    name = clip(nameInput.value, MAX_NAME_CHARS) || name;
    nameInput.value = name;
    try { localStorage.setItem(NAME_KEY, name); } catch (_) { /* see storedName */ }
  }

  function roomFromHash() {
    let hash = location.hash.slice(1);
    try { hash = decodeURIComponent(hash); } catch (_) { /* a stray %: take it as typed */ }
    return clip(hash, MAX_ROOM_CHARS) || DEFAULT_ROOM;
  }

  let room = roomFromHash();
  let url = '';
  let ws = null;
  let attempt = 0;
  let retryTimer = null;

  function setState(state, text, code) {
    stateEl.dataset.state = state;
    stateEl.textContent = text;
    if (code === undefined) delete stateEl.dataset.code;
    else stateEl.dataset.code = String(code);
    sendButton.disabled = state !== 'open';
  }

  // count: the room's members, or undefined while unknown (connecting, a server without rooms).
  function setMembers(count) {
    membersEl.hidden = count === undefined;
    if (count === undefined) delete membersEl.dataset.count;
    else membersEl.dataset.count = String(count);
    membersEl.textContent = count === undefined ? '' : `${count} ${count === 1 ? 'member' : 'members'} in #${room}`;
  }

  // kind: 'sent' (ours), 'recv' (from the server), 'sys' (connection events); from: a sender's name.
  function addEntry(kind, text, from) {
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    const li = document.createElement('li');
    li.className = `entry ${kind}`;
    if (from !== undefined) {
      const who = document.createElement('span');
      who.className = 'from';
      who.textContent = from;
      li.append(who);
    }
    const body = document.createElement('span');
    body.className = 'text';
    body.textContent = text;
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = `${kind === 'sent' ? 'sent' : 'received'} \u00b7 ${new Date().toLocaleTimeString()}`;
    li.append(body, meta);
    log.append(li);
    while (log.children.length > MAX_ENTRIES) log.firstElementChild.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  // A JSON object, or null for anything else.
  function parse(data) {
    if (typeof data !== 'string' || !data.startsWith('{')) return null;
    try {
      const v = JSON.parse(data);
      return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
    } catch (_) {
      return null;
    }
  }

  function receive(data) {
    const m = parse(data);
    if (m && m.type === 'members' && Number.isInteger(m.count)) setMembers(m.count);
    else if (m && typeof m.name === 'string' && typeof m.text === 'string') addEntry('recv', m.text, m.name);
    else addEntry('recv', typeof data === 'string' ? data : `[binary message, ${data.byteLength} bytes]`);
  }

  function connect() {
    retryTimer = null;
    setState('connecting', attempt ? `connecting\u2026 (attempt ${attempt + 1})` : 'connecting\u2026');
    setMembers(undefined);
    let wasOpen = false;
    ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      wasOpen = true;
      attempt = 0;
      setState('open', 'open');
      addEntry('sys', `connected to ${url}`);
    };
    ws.onmessage = (ev) => receive(ev.data);
    ws.onclose = (ev) => {
      // Exponential, with jitter: the clients of a server that went away do not all come back
      // in the same instant (half the step fixed, half random).
      const step = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
      const delay = step / 2 + Math.random() * (step / 2);
      attempt += 1;
      const why = `closed ${ev.code}${ev.reason ? ` (${ev.reason})` : ''}`;
      const seconds = (delay / 1000).toFixed(1);
      if (wasOpen || attempt === 1) addEntry('sys', `${why}; reconnecting in ${seconds} s`);
      setState('reconnecting', `${why} \u00b7 retry in ${seconds} s`, ev.code);
      setMembers(undefined);
      retryTimer = setTimeout(connect, delay);
    };
  }

  // Close the current connection for good (no reconnect).
  function hangUp(reason) {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close(1000, reason);
      ws = null;
    }
  }

  // Enter the room of the URL hash: a new log, a new connection.
  function enterRoom() {
    room = roomFromHash();
    roomInput.value = room;
    url = `${server}/room/${encodeURIComponent(room)}`;
    byId('endpoint').textContent = url;
    document.title = `#${room} \u00b7 wsk chat`;
    log.replaceChildren();
    attempt = 0;
    connect();
  }

  where.addEventListener('submit', (ev) => {
    ev.preventDefault();
    saveName();
    const next = clip(roomInput.value, MAX_ROOM_CHARS) || DEFAULT_ROOM;
    if (next !== room) location.hash = encodeURIComponent(next); // hashchange enters it
    else roomInput.value = room;
    input.focus();
  });
  nameInput.addEventListener('change', saveName);

  window.addEventListener('hashchange', () => {
    if (roomFromHash() === room) return;
    hangUp('room changed');
    enterRoom();
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = input.value;
    if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ name, text }));
    addEntry('sent', text);
    input.value = '';
    input.focus();
  });

  window.addEventListener('pagehide', () => hangUp('page closed'));

  window.addEventListener('pageshow', (ev) => {
    if (ev.persisted) connect(); // restored from the back/forward cache after pagehide
  });

  enterRoom();
})();
