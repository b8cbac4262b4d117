// wsk chat: the seed's WebSocket client grown into a small chat. Connects back to the host that
// served the page (or ?url=), shows the connection state, logs every message, reconnects with
// exponential backoff.
(() => {
  'use strict';

  const MAX_ENTRIES = 500;
  const BASE_DELAY_MS = 500;
  const MAX_DELAY_MS = 10000;

  const byId = (id) => document.getElementById(id);
  const stateEl = byId('state');
  const log = byId('log');
  const form = byId('form');
  const input = byId('msg');
  const sendButton = byId('send');

  const params = new URLSearchParams(location.search);
  const url = params.get('url') ||
    (location.host ? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`
                   : 'ws://localhost:8000/');
  byId('endpoint').textContent = url;

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

  // kind: 'sent' (ours), 'recv' (from the server), 'sys' (connection events).
  function addEntry(kind, text) {
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    const li = document.createElement('li');
    li.className = `entry ${kind}`;
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

  function describe(data) {
    return typeof data === 'string' ? data : `[binary message, ${data.byteLength} bytes]`;
  }

  function connect() {
    retryTimer = null;
    setState('connecting', attempt ? `connecting\u2026 (attempt ${attempt + 1})` : 'connecting\u2026');
    let wasOpen = false;
    ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      wasOpen = true;
      attempt = 0;
      setState('open', 'open');
      addEntry('sys', `connected to ${url}`);
    };
    ws.onmessage = (ev) => addEntry('recv', describe(ev.data));
    ws.onclose = (ev) => {
      const delay = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
      attempt += 1;
      const why = `closed ${ev.code}${ev.reason ? ` (${ev.reason})` : ''}`;
      const seconds = (delay / 1000).toFixed(1);
      if (wasOpen || attempt === 1) addEntry('sys', `${why}; reconnecting in ${seconds} s`);
      setState('reconnecting', `${why} \u00b7 retry in ${seconds} s`, ev.code);
      retryTimer = setTimeout(connect, delay);
    };
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = input.value;
    if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(text);
    addEntry('sent', text);
    input.value = '';
    input.focus();
  });

  window.addEventListener('pagehide', () => {
    clearTimeout(retryTimer);
    if (ws) {
      ws.onclose = null;
      ws.close(1000, 'page closed');
    }
  });

  window.addEventListener('pageshow', (ev) => {
    if (ev.persisted) connect(); // restored from the back/forward cache after pagehide
  });

  connect();
})();
