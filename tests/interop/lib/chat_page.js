'use strict';
// Reading web/index.html (the chat page) from a Playwright page: its log entries by kind
// (sent, recv, sys), their senders' names, its connection state (#state data-state / data-code)
// and the room's member count (#members data-count).
const assert = require('assert');
const h = require('./harness');

const texts = (page, kind) => page.$$eval(`#log .entry.${kind} .text`, (els) => els.map((e) => e.textContent));

// Wait until #state shows `state` (and close `code`, if given).
async function waitState(page, state, code) {
  const sel = `#state[data-state="${state}"]${code ? `[data-code="${code}"]` : ''}`;
  await page.waitForSelector(sel, { timeout: 10000 }).catch(async () => {
    const now = await page.$eval('#state', (e) => `${e.dataset.state} / ${e.dataset.code} / ${e.textContent}`);
    throw new Error(`page never reached ${sel}; #state is ${now}`);
  });
}

// Wait until the log has a "closed CODE" entry. (Not #state: it shows the close only until the
// next attempt, 0.5 s later, which a busy machine can miss.)
async function waitClosed(page, code) {
  await page.waitForFunction((c) => [...document.querySelectorAll('#log .entry.sys .text')]
    .some((e) => e.textContent.startsWith(`closed ${c}`)), code, { timeout: 10000 }).catch(async () => {
    const sys = await texts(page, 'sys');
    throw new Error(`page never logged "closed ${code}"; its connection entries: ${JSON.stringify(sys)}`);
  });
}

// Wait until the log's entries of `kind` equal `expected`.
async function waitLog(page, kind, expected) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const got = await texts(page, kind);
    if (JSON.stringify(got) === JSON.stringify(expected)) return;
    if (Date.now() > deadline) assert.deepStrictEqual(got, expected, `#log .${kind} entries`);
    await h.sleep(50);
  }
}

// Wait until #members shows `count` (10 s at most).
async function waitMembers(page, count) {
  await page.waitForSelector(`#members[data-count="${count}"]:not([hidden])`, { timeout: 10000 }).catch(async () => {
    const now = await page.$eval('#members', (e) => `${e.dataset.count} / ${e.textContent}`);
    throw new Error(`page never showed ${count} members; #members is ${now}`);
  });
}

// The received entries as [sender's name or null, text].
const received = (page) => page.$$eval('#log .entry.recv', (els) => els.map((e) => {
  const from = e.querySelector('.from');
  return [from ? from.textContent : null, e.querySelector('.text').textContent];
}));

// The text the page sends for `text` typed under the name in its #name field (web/chat.js).
async function wireText(page, text) {
  return JSON.stringify({ name: await page.inputValue('#name'), text });
}

module.exports = { texts, waitState, waitClosed, waitLog, waitMembers, received, wireText };
