/* conn.c - connection life cycle and the read path.
 *
 * Reading: every connection reads into the loop's shared receive buffer and is parsed there in
 * place (unmasked in place, messages delivered by pointer). Only what cannot be consumed yet is
 * kept, and copied back in front of the next read: a cut frame header in the connection's own
 * `spill`, a partial control frame or an incomplete HTTP head in `ext->in`. Big leftovers (an HTTP
 * body on its way) are read into ext->in directly instead. While a connection's input is processed
 * its output is corked: everything it sends in response goes out in one syscall at the end. A TLS
 * connection (io.kind WSK_IO_TLS, see tls.c) reads through its session instead of recv. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn/conn_internal.h"
#include "net/socket.h"
#include "net/tls.h"
#include "proto/alloc_internal.h"

/* Leftovers up to this size are copied in front of the shared buffer; larger ones are read into
 * directly (they only occur in the HTTP phase, bounded by the head and body limits). */
#define SMALL_LEFTOVER 4096
/* Free room to have in ext->in when reading into it. */
#define IN_READ_ROOM (64 * 1024)
/* Reads per wakeup while each one fills the buffer (fairness between connections). */
#define READS_PER_WAKEUP 4
/* Input held during a deferred upgrade before we stop reading. */
#define HELD_INPUT_MAX (256 * 1024)

wsk_conn *wsk__conn_new(struct wsk__group *g, int fd, enum wsk__conn_state state) {
  if (g->n == g->cap) {
    uint32_t cap = g->cap ? g->cap * 2 : 64;
    wsk_conn **a = wsk__realloc(g->conns, cap * sizeof *a);
    if (!a) goto fail;
    g->conns = a;
    g->cap = cap;
  }
  wsk_conn *c = wsk__loop_conn_alloc(g->loop, sizeof *c);
  if (!c) goto fail;
  memset(c, 0, sizeof *c);
  c->io.fd = fd;
  c->io.kind = WSK_IO_CONN;
  c->group = g;
  wsk__conn_set_state(c, state);
  wsk__loop_set_handler(g->loop, WSK_IO_CONN, wsk__conn_io);
  if (fd >= 0 &&
      wsk__io_start(g->loop, &c->io, state == WSK_CS_CONNECTING ? WSK_IO_OUT : WSK_IO_IN) != 0) {
    wsk__conn_set_state(c, WSK_CS_DEAD);
    wsk__loop_conn_release(g->loop, c);
    goto fail;
  }
  c->idx = g->n;
  g->conns[g->n++] = c;
  return c;
fail:
  close(fd);
  return NULL;
}

/* Everything an ext holds, and the ext: the end of the iteration of a connection's destruction. */
static void free_all(struct wsk__conn_ext *x) {
  wsk__wq_clear(&x->wq);
  wsk__tls_free(x->tls);
  if (x->pmd) {
    wsk_pmd_end(x->pmd);
    wsk__free(x->pmd);
  }
  wsk__free(x->in);
  wsk__free(x->msg);
  wsk__free(x->protocol);
  wsk__free(x->remote);
  wsk__free(x);
}

/* The end of the iteration, for an ext whose parts may no longer be needed, or whose connection
 * was destroyed (x->conn NULL): the one point where they are freed (see conn_internal.h). */
static void release(struct wsk__hook *h) {
  struct wsk__conn_ext *x = (struct wsk__conn_ext *)h; /* (release is the first member) */
  wsk_conn *c = x->conn;
  if (!c) {
    free_all(x);
    return;
  }
  if (!x->in_len && x->in) {
    wsk__free(x->in);
    x->in = NULL;
    x->in_cap = 0;
  }
  if (x->msg && wsk__conn_state(c) >= WSK_CS_LINGER) { /* a message the linger dropped */
    wsk__free(x->msg);
    x->msg = NULL;
    x->msg_len = x->msg_cap = 0;
  }
  if (x->wq.head || x->in || x->msg || x->protocol || x->remote || x->pending || x->tls || x->pmd ||
      x->dropped)
    return;
  wsk__free(x);
  c->ext = NULL;
}

struct wsk__conn_ext *wsk__conn_ext(wsk_conn *c) {
  if (!c->ext && (c->ext = wsk__calloc(1, sizeof *c->ext)) != NULL) {
    c->ext->release.fn = release;
    c->ext->conn = c;
  }
  return c->ext;
}

void wsk__conn_release_later(wsk_conn *c) {
  if (c->ext) wsk__loop_queue_hook(c->group->loop, &c->ext->release);
}

/* A destroyed connection's ext: everything in it may be under a caller up the stack (input being
 * parsed, a message being inflated, a TLS record being read when a callback destroyed the
 * connection), so all of it is freed at the end of the iteration. */
static void free_ext(wsk_conn *c) {
  struct wsk__conn_ext *x = c->ext;
  if (!x) return;
  if (x->tls) wsk__conn_tls_cancel(c);
  x->conn = NULL;
  c->ext = NULL;
  wsk__loop_queue_hook(c->group->loop, &x->release);
}

/* A connection no longer has a deadline. The sweep rests once none has: a running timer would keep
 * wsk_loop_run going for up to a sweep period after the last connection ended. */
static void deadline_dropped(struct wsk__group *g) {
  if (--g->n_timed == 0) wsk__timer_park(g->sweep);
}

void wsk__conn_set_timeout(wsk_conn *c, unsigned ms) {
  struct wsk__group *g = c->group;
  uint32_t d = 0;
  if (ms) {
    d = wsk__loop_clock32(g->loop) + ms;
    if (d == 0) d = 1;
  }
  if (!c->deadline && d) {
    if (g->n_timed++ == 0) wsk__timer_unpark(g->sweep, g->sweep_ms);
  } else if (c->deadline && !d) {
    deadline_dropped(g);
  }
  c->deadline = d;
}

void wsk__conn_hold_input(wsk_conn *c, int hold) {
  if (hold)
    wsk__conn_flag(c, WSK_CF_HOLD_IN);
  else
    wsk__conn_unflag(c, WSK_CF_HOLD_IN);
  wsk__conn_rearm(c);
  if (!hold && c->io.kind == WSK_IO_TLS) wsk__conn_tls_kick(c); /* epoll does not see its buffer */
}

void wsk__conn_report_close(wsk_conn *c, unsigned code, const char *reason, size_t reason_len,
                           int clean) {
  if (!wsk__conn_has(c, WSK_CF_REPORT)) return;
  wsk__conn_unflag(c, WSK_CF_REPORT);
  struct wsk__group *g = c->group;
  if (wsk__conn_has(c, WSK_CF_OPENED)) {
    wsk__conn_unflag(c, WSK_CF_OPENED);
    g->n_open--;
  }
  const struct wsk_callbacks *cb = wsk__conn_cb(c);
  if (cb->on_close) cb->on_close(c, code, reason, reason_len, clean);
}

int wsk__conn_open(wsk_conn *c, const char *protocol) {
  struct wsk__group *g = c->group;
  if (protocol && *protocol) {
    struct wsk__conn_ext *x = wsk__conn_ext(c);
    if (!x || !(x->protocol = wsk__strdup(protocol))) return WSK_ENOMEM;
  }
  wsk_parser_init(&c->parser, g->client ? WSK_ROLE_CLIENT : WSK_ROLE_SERVER, g->max_message,
                  c->ext && c->ext->pmd); /* RSV1 only where permessage-deflate was agreed */
  wsk__conn_set_state(c, WSK_CS_OPEN);
  wsk__conn_flag(c, WSK_CF_REPORT | WSK_CF_OPENED);
  g->n_open++;
  wsk__conn_set_timeout(c, g->idle_timeout_ms);
  const struct wsk_callbacks *cb = wsk__conn_cb(c);
  if (cb->on_open) cb->on_open(c);
  return 0;
}

/* Peer-initiated end of the input. */
static void on_eof(wsk_conn *c) {
  unsigned st = wsk__conn_state(c);
  if ((st == WSK_CS_HTTP || st == WSK_CS_LINGER) && wsk__conn_pending(c) > 0) {
    /* A half-closed HTTP client still gets its answers; then we close. */
    wsk__conn_flag(c, WSK_CF_PEER_EOF);
    wsk__conn_hold_input(c, 1);
    if (st == WSK_CS_HTTP) wsk__conn_linger(c);
    return;
  }
  wsk__conn_destroy(c, 0, NULL);
}

void wsk__conn_linger(wsk_conn *c) {
  if (wsk__conn_dead(c)) return;
  wsk__conn_set_state(c, WSK_CS_LINGER);
  unsigned ms = c->group->close_timeout_ms;
  wsk__conn_set_timeout(c, ms ? ms : WSK_LINGER_DEFAULT_MS); /* a linger always ends */
  c->spill_len = 0;
  if (c->ext) { /* drop what was read but not processed, and any message in progress (freed at
                   the end of the iteration: process() may be reading ext->in right now) */
    c->ext->in_len = 0;
    c->ext->msg_len = 0;
    wsk__conn_release_later(c);
  }
  wsk__conn_flush(c);
}

/* Run input through the handler of the current state until it stops making progress. */
static size_t process(wsk_conn *c, uint8_t *buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    unsigned st = wsk__conn_state(c);
    size_t n;
    if (st == WSK_CS_HTTP && c->group->ops->http_input)
      n = c->group->ops->http_input(c, buf + off, len - off);
    else if (st == WSK_CS_OPEN || st == WSK_CS_CLOSING)
      n = wsk__conn_ws_input(c, buf + off, len - off);
    else if (st == WSK_CS_LINGER)
      n = len - off; /* the exchange is over: ignore */
    else
      break;         /* UPGRADING (held), DEAD */
    off += n;
    if (n == 0 && wsk__conn_state(c) == st) break;
  }
  return off;
}

/* Keep buf[consumed..total) for the next read. `in_ext` says buf is ext->in itself. A cut frame
 * header goes to the connection's spill (no allocation for a split); the rest to ext->in. */
static int keep_leftover(wsk_conn *c, uint8_t *buf, size_t consumed, size_t total, int in_ext) {
  size_t left = total - consumed;
  unsigned st = wsk__conn_state(c);
  if (in_ext) {
    struct wsk__conn_ext *x = c->ext;
    if (consumed && left) memmove(x->in, x->in + consumed, left);
    x->in_len = left;
    if (!left) wsk__conn_release_later(c);
    return 0;
  }
  if (!left || ((st == WSK_CS_OPEN || st == WSK_CS_CLOSING) && left <= sizeof c->spill)) {
    memcpy(c->spill, buf + consumed, left);
    c->spill_len = (uint8_t)left;
    if (c->ext && c->ext->in) wsk__conn_release_later(c); /* ext->in holds nothing now */
    return 0;
  }
  struct wsk__conn_ext *x = wsk__conn_ext(c);
  if (!x) return WSK_ENOMEM;
  if (x->in_cap < left) {
    size_t cap = left < 256 ? 256 : left;
    uint8_t *p = wsk__realloc(x->in, cap);
    if (!p) return WSK_ENOMEM;
    x->in = p;
    x->in_cap = cap;
  }
  memmove(x->in, buf + consumed, left);
  x->in_len = left;
  return 0;
}

void wsk__conn_feed_held(wsk_conn *c) {
  struct wsk__conn_ext *x = c->ext;
  if (!x || !x->in_len || wsk__conn_dead(c)) return;
  wsk__conn_cork(c);
  size_t total = x->in_len;
  size_t used = process(c, x->in, total);
  if (wsk__conn_dead(c)) return;
  keep_leftover(c, x->in, used, total, 1);
  wsk__conn_uncork(c);
}

static int grow_in(struct wsk__conn_ext *x, size_t need) {
  if (x->in_cap >= need) return 0;
  uint8_t *p = wsk__realloc(x->in, need);
  if (!p) return WSK_ENOMEM;
  x->in = p;
  x->in_cap = need;
  return 0;
}

void wsk__conn_read(wsk_conn *c) {
  wsk_loop *loop = c->group->loop;
  uint8_t *rbuf = wsk__loop_rbuf(loop);
  int tls = c->io.kind == WSK_IO_TLS;
  for (int round = 0;; round++) {
    /* Past the budget, only what a TLS session has decrypted already: epoll cannot report it. */
    size_t budget = SIZE_MAX;
    if (round >= READS_PER_WAKEUP && !(tls && (budget = wsk__conn_tls_pending(c)) > 0)) return;
    struct wsk__conn_ext *x = c->ext;
    /* What is left of the last read: in the spill, or in ext->in (never both). */
    size_t have = c->spill_len ? c->spill_len : x ? x->in_len : 0;
    uint8_t *buf = rbuf;
    size_t cap = WSK_RBUF_SIZE;
    int in_ext = 0;
    if (have > SMALL_LEFTOVER || wsk__conn_state(c) == WSK_CS_UPGRADING) {
      if (wsk__conn_state(c) == WSK_CS_UPGRADING && have >= HELD_INPUT_MAX) {
        wsk__conn_hold_input(c, 1);
        return;
      }
      if (!x && !(x = wsk__conn_ext(c))) {
        wsk__conn_destroy(c, WSK_ENOMEM, "out of memory for input");
        return;
      }
      if (grow_in(x, have + IN_READ_ROOM) != 0) {
        wsk__conn_destroy(c, WSK_ENOMEM, "out of memory for input");
        return;
      }
      buf = x->in;
      cap = x->in_cap;
      in_ext = 1;
    } else if (have) {
      memcpy(rbuf, c->spill_len ? c->spill : x->in, have);
    }
    size_t room = cap - have < budget ? cap - have : budget;
    ssize_t r = tls ? wsk__conn_tls_read(c, buf + have, room)
                    : wsk__loop_recv(loop, &c->io, buf + have, room);
    if (r < 0) {
      if (tls) return; /* nothing more for now (events armed), or failed and destroyed */
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      char msg[128];
      snprintf(msg, sizeof msg, "recv: %s", strerror(errno));
      wsk__conn_destroy(c, WSK_ESYS, msg);
      return;
    }
    if (r == 0) {
      on_eof(c);
      return;
    }
    size_t total = have + (size_t)r;
    unsigned st = wsk__conn_state(c);
    if (st == WSK_CS_OPEN) {
      wsk__conn_unflag(c, WSK_CF_PING_OUT);
      if (c->group->idle_timeout_ms) wsk__conn_set_timeout(c, c->group->idle_timeout_ms);
    }
    c->spill_len = 0; /* (a spill is always read through rbuf) */
    if (in_ext) {
      x->in_len = total;
      if (st == WSK_CS_UPGRADING) { /* held until the application decides */
        if (tls && (size_t)r == room) continue; /* the session may hold more, decrypted */
        return;
      }
    } else if (x) {
      x->in_len = 0; /* the leftover now lives in rbuf */
    }
    wsk__conn_cork(c);
    size_t used = process(c, buf, total);
    if (wsk__conn_dead(c)) return;
    if (keep_leftover(c, buf, used, total, in_ext) != 0) {
      wsk__conn_destroy(c, WSK_ENOMEM, "out of memory for input");
      return;
    }
    wsk__conn_uncork(c);
    if (wsk__conn_dead(c) || wsk__conn_has(c, WSK_CF_HOLD_IN)) return;
    if ((size_t)r < room) return; /* short read: the socket is most likely drained */
  }
}

void wsk__conn_io(wsk_loop *loop, struct wsk__io *io, unsigned events) {
  wsk_conn *c = (wsk_conn *)io;
  if (wsk__conn_state(c) == WSK_CS_CONNECTING) {
    if (c->group->ops->on_connected) c->group->ops->on_connected(c);
    return;
  }
  if ((events & WSK_IO_OUT) || ((events & WSK_IO_HUP) && c->ext && c->ext->wq.head))
    wsk__conn_flush(c);
  if (wsk__conn_dead(c)) return;
  if ((events & WSK_IO_IN) || ((events & WSK_IO_HUP) && !wsk__conn_has(c, WSK_CF_HOLD_IN)))
    wsk__conn_read(c);
  else if ((events & WSK_IO_HUP) && !wsk__conn_dead(c))
    wsk__conn_destroy(c, 0, NULL); /* not reading, and the socket is gone */
}

void wsk__conn_destroy(wsk_conn *c, int err, const char *message) {
  if (wsk__conn_dead(c)) return;
  struct wsk__group *g = c->group;
  unsigned st = wsk__conn_state(c);
  if (wsk__conn_has(c, WSK_CF_REPORT)) {
    /* Mark as closing first: callbacks that send now get WSK_ECLOSED. */
    if (st != WSK_CS_LINGER) wsk__conn_set_state(c, WSK_CS_LINGER);
    const struct wsk_callbacks *cb = wsk__conn_cb(c);
    if (err && cb->on_error) cb->on_error(c, err, message);
    wsk__conn_report_close(c, WSK_CLOSE_ABNORMAL, NULL, 0, 0);
    if (wsk__conn_dead(c)) return; /* on_close destroyed it already */
  }
  wsk__conn_set_state(c, WSK_CS_DEAD);
  wsk__conn_cork_drop(c);
  if (c->deadline) {
    c->deadline = 0;
    deadline_dropped(g);
  }
  if (g->ops->on_destroy) g->ops->on_destroy(c);
  wsk__io_close(g->loop, &c->io);
  free_ext(c);
  if (g->walking) {
    g->conns[c->idx] = NULL;
    g->holes = 1;
  } else {
    wsk_conn *last = g->conns[--g->n];
    g->conns[c->idx] = last;
    last->idx = c->idx;
  }
  wsk__loop_conn_release(g->loop, c);
  if (g->ops->on_leave) g->ops->on_leave(g);
}

void wsk_terminate(wsk_conn *c) { wsk__conn_destroy(c, 0, NULL); }

void *wsk_conn_user_data(const wsk_conn *c) { return c->user_data; }
void wsk_conn_set_user_data(wsk_conn *c, void *user_data) { c->user_data = user_data; }
wsk_server *wsk_conn_server(const wsk_conn *c) { return c->group->server; }

const char *wsk_conn_protocol(const wsk_conn *c) {
  return c->ext && c->ext->protocol ? c->ext->protocol : "";
}

const char *wsk_conn_remote(const wsk_conn *c) {
  wsk_conn *m = (wsk_conn *)c; /* the text is cached on first use */
  if (m->ext && m->ext->remote) return m->ext->remote;
  char text[WSK_ADDR_TEXT];
  wsk__sock_peer_text(c->io.fd, text);
  struct wsk__conn_ext *x = wsk__conn_ext(m);
  if (!x || !(x->remote = wsk__strdup(text))) return "?";
  return x->remote;
}
