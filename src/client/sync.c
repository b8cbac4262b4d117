/* sync.c - the blocking client: a wsk_client on a private loop, run inside each call until what
 * the call waits for has happened (the callbacks below stop the loop whenever something changed)
 * or its deadline passed. Messages that arrive meanwhile are copied into a FIFO for wsk_sync_recv.
 *
 * "All written" is noticed without polling: the client's high-water mark is 1 byte, so every send
 * that leaves bytes queued asks for on_drain, which the engine calls once the queue is empty. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/alloc_internal.h"
#include "wsk.h"

struct sync_msg {
  struct sync_msg *next;
  size_t len;
  int opcode;
  uint8_t data[];
};

struct wsk_sync {
  wsk_loop *loop;
  wsk_client *client;
  wsk_conn *conn;                 /* while open */
  struct sync_msg *head, *tail;
  struct sync_msg *current;       /* returned by the last wsk_sync_recv */
  int err;                        /* the first error reported */
  unsigned close_code;
  uint8_t opened, ended, clean, kicked, timed_out, nomem;
  char error[512];                /* why it ended */
};

static void kick(wsk_sync *s) {
  s->kicked = 1;
  wsk_loop_stop(s->loop);
}

static void on_open(wsk_conn *c) {
  wsk_sync *s = wsk_conn_user_data(c);
  s->conn = c;
  s->opened = 1;
  kick(s);
}

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  wsk_sync *s = wsk_conn_user_data(c);
  struct sync_msg *m = wsk__malloc(sizeof *m + len);
  if (!m) {
    s->nomem = 1;
    wsk_close(c, WSK_CLOSE_INTERNAL, "out of memory");
    kick(s);
    return;
  }
  m->next = NULL;
  m->len = len;
  m->opcode = opcode;
  if (len) memcpy(m->data, data, len);
  if (s->tail)
    s->tail->next = m;
  else
    s->head = m;
  s->tail = m;
  kick(s);
}

static void on_error(wsk_conn *c, int err, const char *message) {
  wsk_sync *s = wsk_conn_user_data(c);
  if (!s->err) {
    s->err = err;
    snprintf(s->error, sizeof s->error, "%s", message);
  }
  kick(s);
}

static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t reason_len, int clean) {
  wsk_sync *s = wsk_conn_user_data(c);
  s->conn = NULL;
  s->ended = 1;
  s->clean = (uint8_t)clean;
  s->close_code = code;
  if (!s->error[0]) {
    if (code == WSK_CLOSE_ABNORMAL)
      snprintf(s->error, sizeof s->error, "the connection ended without a closing handshake");
    else
      snprintf(s->error, sizeof s->error, "closed with %u%s%.*s%s", code,
               reason_len ? " (" : "", (int)reason_len, reason, reason_len ? ")" : "");
  }
  kick(s);
}

static void on_drain(wsk_conn *c) { kick(wsk_conn_user_data(c)); }

static void on_deadline(void *arg) {
  wsk_sync *s = arg;
  s->timed_out = 1;
  wsk_loop_stop(s->loop);
}

/* Run the loop until done(s), timeout_ms (-1: none) or nothing is left to wait for. */
static void run(wsk_sync *s, int (*done)(const wsk_sync *s), long long timeout_ms) {
  if (done(s)) return;
  s->timed_out = 0;
  wsk_timer *t = NULL;
  if (timeout_ms >= 0 && !(t = wsk_timer_start(s->loop, (uint64_t)timeout_ms, 0, on_deadline, s)))
    return;
  while (!done(s) && !s->timed_out) {
    s->kicked = 0;
    if (wsk_loop_run(s->loop) != 0) break;
    if (!s->kicked && !s->timed_out) break; /* the loop ran out of things to wait for */
  }
  if (t) wsk_timer_stop(t);
}

static int open_or_ended(const wsk_sync *s) { return s->opened || s->ended; }
static int written_or_ended(const wsk_sync *s) { return !s->conn || !wsk_buffered_amount(s->conn); }
static int message_or_ended(const wsk_sync *s) { return s->head || s->ended; }
static int ended(const wsk_sync *s) { return s->ended; }

static void sync_free(wsk_sync *s) {
  if (s->client) wsk_client_free(s->client);
  wsk_loop_free(s->loop);
  wsk__free(s->current);
  while (s->head) {
    struct sync_msg *m = s->head;
    s->head = m->next;
    wsk__free(m);
  }
  wsk__free(s);
}

int wsk_sync_connect(const char *url, const struct wsk_client_options *opt, unsigned timeout_ms,
                     wsk_sync **out, char *errbuf, size_t errlen) {
  if (errbuf && errlen) errbuf[0] = '\0';
  if (!out) return WSK_EINVAL;
  *out = NULL;
  wsk_sync *s = wsk__calloc(1, sizeof *s);
  if (!s || !(s->loop = wsk_loop_new())) {
    wsk__free(s);
    if (errbuf) snprintf(errbuf, errlen, "out of memory");
    return WSK_ENOMEM;
  }
  struct wsk_client_options o;
  if (opt)
    o = *opt;
  else
    wsk_client_options_init(&o);
  memset(&o.cb, 0, sizeof o.cb);
  o.cb.on_open = on_open;
  o.cb.on_message = on_message;
  o.cb.on_error = on_error;
  o.cb.on_close = on_close;
  o.cb.on_drain = on_drain;
  o.user_data = s;
  o.reconnect = 0;
  o.queue_limit = 0;
  o.on_reconnect = NULL;
  o.send_high_water = 1;
  int r = wsk_connect(s->loop, url, &o, &s->client, errbuf, errlen);
  if (r == 0) {
    run(s, open_or_ended, timeout_ms ? (long long)timeout_ms : -1);
    if (!s->opened) {
      r = s->err ? s->err : s->ended ? WSK_ECLOSED : WSK_ETIMEDOUT;
      if (errbuf && s->error[0])
        snprintf(errbuf, errlen, "%s", s->error);
      else if (errbuf)
        snprintf(errbuf, errlen, "no connection to %s within %u ms", url, timeout_ms);
    }
  }
  if (r != 0) {
    sync_free(s);
    return r;
  }
  *out = s;
  return 0;
}

int wsk_sync_send(wsk_sync *s, int opcode, const void *data, size_t len) {
  if (!s) return WSK_EINVAL;
  if (!s->conn) return WSK_ECLOSED;
  wsk_loop_update_time(s->loop);
  int r = wsk_send(s->conn, opcode, data, len);
  if (r < 0) return r;
  run(s, written_or_ended, -1);
  return s->conn ? 0 : WSK_ECLOSED;
}

int wsk_sync_recv(wsk_sync *s, int *opcode, const void **data, size_t *len, int timeout_ms) {
  if (!s || !opcode || !data || !len) return WSK_EINVAL;
  wsk__free(s->current);
  s->current = NULL;
  wsk_loop_update_time(s->loop);
  run(s, message_or_ended, timeout_ms < 0 ? -1 : timeout_ms);
  struct sync_msg *m = s->head;
  if (!m) return s->ended ? WSK_ECLOSED : WSK_ETIMEDOUT;
  s->head = m->next;
  if (!s->head) s->tail = NULL;
  s->current = m;
  *opcode = m->opcode;
  *data = m->data;
  *len = m->len;
  return 0;
}

wsk_conn *wsk_sync_conn(const wsk_sync *s) { return s ? s->conn : NULL; }

const char *wsk_sync_error(const wsk_sync *s, unsigned *code) {
  if (code) *code = s && s->ended ? s->close_code : 0;
  return s && s->ended ? s->error : NULL;
}

int wsk_sync_close(wsk_sync *s, unsigned code, const char *reason) {
  if (!s) return WSK_EINVAL;
  int r = 0;
  if (s->conn) {
    wsk_loop_update_time(s->loop);
    r = wsk_close(s->conn, code ? code : WSK_CLOSE_NORMAL, reason);
    if (r == 0) run(s, ended, -1); /* bounded by close_timeout_ms */
    /* The socket lingers until the server closes TCP (RFC 6455 7.1.1: the server closes first),
     * again at most close_timeout_ms; then the loop has nothing left and returns. */
    if (r == 0) wsk_loop_run(s->loop);
  }
  if (r == 0) r = s->ended && s->clean && !s->nomem ? 0 : s->err ? s->err : WSK_ECLOSED;
  sync_free(s);
  return r;
}
