/* client.c - the wsk_client: options, attempts (a socketless wsk_conn that the dialer's socket is
 * attached to), timeouts, the callbacks wrapped around the application's, and the public calls.
 *
 * The group's callbacks are the application's, except on_open, on_error and on_close, which the
 * client wraps: on_open sends what was queued while disconnected first; on_error notes that the
 * attempt's failure was told; on_close tells a failure that the engine saw only as the end of the
 * socket (a server that closed during the handshake, a refusal without Content-Length), then
 * decides whether another attempt follows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "client/client_internal.h"
#include "proto/alloc_internal.h"

void wsk_client_options_init(struct wsk_client_options *opt) {
  memset(opt, 0, sizeof *opt);
  opt->connect_timeout_ms = 10000;
  opt->handshake_timeout_ms = 10000;
  opt->close_timeout_ms = 5000;
  opt->max_message = 16u * 1024 * 1024;
  opt->send_high_water = 1024 * 1024;
  opt->send_hard_limit = 64u * 1024 * 1024;
  opt->backoff.initial_delay_ms = 500;
  opt->backoff.max_delay_ms = 30000;
  opt->backoff.factor = 2.0;
  opt->backoff.jitter = 0.5;
  wsk_pmd_options_init(&opt->deflate);
}

/* ---- attempts -------------------------------------------------------------------------------- */

/* c is no longer the client's attempt (it ended, or is being destroyed). */
static void detach(wsk_client *cl, wsk_conn *c) {
  if (c != cl->conn) return;
  cl->conn = NULL;
  if (cl->dial) {
    wsk__dial_cancel(cl->dial);
    cl->dial = NULL;
  }
}

void wsk__client_fail(wsk_client *cl, int err, const char *message) {
  if (cl->conn) wsk__conn_destroy(cl->conn, err, message);
}

static void send_request(wsk_conn *c) {
  int r = wsk__handshake_send(wsk__client_of(c), c);
  if (r < 0 && !wsk__conn_dead(c))
    wsk__client_fail(wsk__client_of(c), r, "could not send the upgrade request");
}

static void on_dialed(void *arg, int fd, int err, const char *message) {
  wsk_client *cl = arg;
  wsk_conn *c = cl->conn;
  cl->dial = NULL;
  if (fd < 0) {
    wsk__client_fail(cl, err, message);
    return;
  }
  c->io.fd = fd;
  if (wsk__io_start(cl->loop, &c->io, WSK_IO_IN) != 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "epoll_ctl: %s", strerror(errno));
    close(fd);
    c->io.fd = -1;
    wsk__client_fail(cl, WSK_ESYS, msg);
    return;
  }
  wsk__conn_set_timeout(c, cl->opt.handshake_timeout_ms);
  if (cl->url.secure) { /* the request goes out once the TLS handshake is done (on_secure) */
    if (wsk__conn_start_tls(c, cl->tls, cl->url.host) != 0)
      wsk__client_fail(cl, WSK_ENOMEM, "out of memory for the TLS session");
    return;
  }
  wsk__conn_set_state(c, WSK_CS_HTTP);
  send_request(c);
}

/* Start an attempt. On failure nothing was reported; errbuf says why. */
static int attempt(wsk_client *cl, char *errbuf, size_t errlen) {
  wsk__attempt_reset(&cl->att);
  wsk__client_take_next(cl);
  wsk_conn *c = wsk__conn_new(&cl->group, -1, WSK_CS_CONNECTING);
  if (!c) {
    if (errbuf) snprintf(errbuf, errlen, "out of memory");
    return WSK_ENOMEM;
  }
  c->user_data = cl->opt.user_data;
  cl->conn = c;
  cl->dial = wsk__dial_start(cl->loop, &cl->url, on_dialed, cl);
  if (!cl->dial) {
    if (errbuf) snprintf(errbuf, errlen, "cannot start connecting to %s: %s", cl->url.where,
                         strerror(errno ? errno : ENOMEM));
    cl->conn = NULL;
    wsk__conn_destroy(c, 0, NULL); /* nothing owed yet: no callbacks */
    return WSK_ESYS;
  }
  wsk__conn_flag(c, WSK_CF_REPORT); /* from here on, on_close is owed for this attempt */
  wsk__conn_set_timeout(c, cl->opt.connect_timeout_ms);
  return 0;
}

void wsk__client_attempt(wsk_client *cl) {
  char msg[256];
  if (attempt(cl, msg, sizeof msg) == 0) return;
  /* Nothing to report it on: count it as a failed attempt without callbacks. */
  cl->retrying = 0;
  cl->stopped = 1;
  wsk__sendq_clear(&cl->queue);
}

static void on_timeout(wsk_conn *c) {
  wsk_client *cl = wsk__client_of(c);
  char msg[256];
  if (wsk__conn_state(c) == WSK_CS_CONNECTING)
    snprintf(msg, sizeof msg, "connecting to %s timed out after %u ms (connect_timeout_ms)",
             cl->url.where, cl->opt.connect_timeout_ms);
  else if (wsk__conn_state(c) == WSK_CS_TLS)
    snprintf(msg, sizeof msg, "the TLS handshake with %s did not complete within %u ms "
             "(handshake_timeout_ms)", cl->url.where, cl->opt.handshake_timeout_ms);
  else
    snprintf(msg, sizeof msg, "%s did not answer the upgrade within %u ms (handshake_timeout_ms)",
             cl->url.where, cl->opt.handshake_timeout_ms);
  wsk__conn_destroy(c, WSK_ETIMEDOUT, msg);
}

static void on_destroy(wsk_conn *c) { detach(wsk__client_of(c), c); }

static const struct wsk__group_ops client_ops = {
    .http_input = wsk__client_http_input,
    .on_timeout = on_timeout,
    .on_destroy = on_destroy,
    .on_secure = send_request,
};

/* ---- the wrapped callbacks ------------------------------------------------------------------- */

static void on_open(wsk_conn *c) {
  wsk_client *cl = wsk__client_of(c);
  cl->attempt = 0;
  cl->retrying = 0;
  cl->att.opened = 1;
  wsk__sendq_flush(&cl->queue, c);
  if (cl->user_cb.on_open && wsk__conn_state(c) == WSK_CS_OPEN) cl->user_cb.on_open(c);
}

/* on_error, after noting why the attempt or connection fails (category: WSK_CLIENT_ERR_*). */
static void tell(wsk_conn *c, int err, const char *message, int category) {
  wsk_client *cl = wsk__client_of(c);
  if (c == cl->conn) {
    cl->att.error_reported = 1;
    wsk__client_note(cl, category, err, message);
  }
  if (cl->user_cb.on_error) cl->user_cb.on_error(c, err, message);
}

static void on_error(wsk_conn *c, int err, const char *message) {
  tell(c, err, message, wsk__client_category(c, err));
}

static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t reason_len,
                     int clean) {
  wsk_client *cl = wsk__client_of(c);
  struct wsk__attempt *a = &cl->att;
  if (c == cl->conn && !a->opened && !a->error_reported && !a->aborted) {
    char msg[512];
    if (a->status) {
      if (a->body_left < 0) a->body_left = 0; /* read until the server closed: all of it */
      wsk__handshake_refusal(a, msg, sizeof msg);
    } else {
      snprintf(msg, sizeof msg, "%s closed the connection before answering the upgrade",
               cl->url.where);
    }
    tell(c, WSK_EHANDSHAKE, msg, a->status ? WSK_CLIENT_ERR_REFUSED : WSK_CLIENT_ERR_NETWORK);
  }
  if (c == cl->conn) {
    if (!a->error_reported) wsk__client_note(cl, WSK_CLIENT_ERR_CLOSED, 0, "");
    cl->err.close_code = code;
  }
  detach(cl, c);
  wsk__client_decide(cl);
  if (!cl->retrying) {
    cl->stopped = 1;
    wsk__sendq_clear(&cl->queue);
  }
  if (cl->user_cb.on_close) cl->user_cb.on_close(c, code, reason, reason_len, clean);
  if (cl->retrying && !cl->stopped && !cl->freeing) wsk__client_schedule(cl);
}

/* ---- public calls ---------------------------------------------------------------------------- */

/* "Name: value" with a token name, no line breaks, and not a header the handshake sets itself. */
static const char *check_header(const char *line) {
  static const char *const own[] = {"Host", "Upgrade", "Connection", "Sec-WebSocket-Key",
                                    "Sec-WebSocket-Version", "Sec-WebSocket-Protocol",
                                    "Sec-WebSocket-Extensions", "Origin", NULL};
  const char *colon = strchr(line, ':');
  if (!colon || colon == line) return "is not of the form 'Name: value'";
  for (const char *p = line; p < colon; p++)
    if (*p <= 32 || *p >= 127 || strchr("()<>@,;\\\"/[]?={}", *p)) return "has a bad header name";
  for (const char *p = colon; *p; p++)
    if (*p == '\r' || *p == '\n' || *p == '\0') return "has a line break";
  for (size_t i = 0; own[i]; i++)
    if (strlen(own[i]) == (size_t)(colon - line) && strncasecmp(line, own[i], strlen(own[i])) == 0)
      return "is set by wsk itself (use the protocols and origin options)";
  return NULL;
}

int wsk__client_header_lines(const char *const *headers, char **out, char *errbuf,
                            size_t errlen) {
  *out = NULL;
  if (!headers || !headers[0]) return 0;
  size_t total = 1;
  for (size_t i = 0; headers[i]; i++) {
    const char *why = check_header(headers[i]);
    if (why) {
      if (errbuf) snprintf(errbuf, errlen, "request header '%s' %s", headers[i], why);
      return WSK_EINVAL;
    }
    total += strlen(headers[i]) + 2;
  }
  char *w = *out = wsk__malloc(total);
  if (!w) {
    if (errbuf) snprintf(errbuf, errlen, "out of memory");
    return WSK_ENOMEM;
  }
  for (size_t i = 0; headers[i]; i++) w += sprintf(w, "%s\r\n", headers[i]);
  return 0;
}

static int token(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (*s <= 32 || *s >= 127 || strchr("()<>@,;:\\\"/[]?={}", *s)) return 0;
  return 1;
}

/* The strings of a NULL-terminated list joined with `sep` between them. */
static char *join(const char *const *list, const char *sep) {
  size_t total = 1;
  for (size_t i = 0; list[i]; i++) total += strlen(list[i]) + strlen(sep);
  char *out = wsk__malloc(total), *w = out;
  if (!out) return NULL;
  *w = '\0';
  for (size_t i = 0; list[i]; i++) w += sprintf(w, "%s%s", i ? sep : "", list[i]);
  return out;
}

static void release(wsk_client *cl) {
  wsk__tls_ctx_free(cl->tls);
  wsk__url_free(&cl->url);
  wsk__free(cl->offer);
  wsk__free(cl->extra);
  wsk__free(cl->origin);
  wsk__free(cl->pmd_offer);
  wsk__free(cl->ca_file);
  wsk__free(cl->ca_dir);
  wsk__url_free(&cl->next_url);
  wsk__free(cl->next_extra);
  wsk__attempt_reset(&cl->att);
  wsk__sendq_clear(&cl->queue);
}

static int setup(wsk_client *cl, const char *url, const struct wsk_client_options *opt,
                 char *errbuf, size_t errlen) {
  static const char *const timeouts[] = {"connect_timeout_ms", "handshake_timeout_ms",
                                         "close_timeout_ms"};
  const unsigned ms[] = {opt->connect_timeout_ms, opt->handshake_timeout_ms, opt->close_timeout_ms};
  int r = wsk__timeouts_check(timeouts, ms, 3, errbuf, errlen);
  if (r < 0) return r;
  if ((r = wsk__url_parse(url, &cl->url, errbuf, errlen)) < 0) return r;
  if (cl->url.secure && (r = wsk__tls_client_ctx(opt->tls_ca_file, opt->tls_ca_dir,
                                                 opt->tls_insecure, &cl->tls, errbuf, errlen)) < 0)
    return r;
  if (opt->protocols) {
    for (size_t i = 0; opt->protocols[i]; i++) {
      if (!token(opt->protocols[i])) {
        if (errbuf) snprintf(errbuf, errlen, "bad subprotocol name '%s' (must be an HTTP token)",
                             opt->protocols[i]);
        return WSK_EINVAL;
      }
    }
    if (opt->protocols[0] && !(cl->offer = join(opt->protocols, ", "))) goto nomem;
  }
  if ((r = wsk__client_header_lines(opt->headers, &cl->extra, errbuf, errlen)) < 0) return r;
  if ((opt->tls_ca_file && !(cl->ca_file = wsk__strdup(opt->tls_ca_file))) ||
      (opt->tls_ca_dir && !(cl->ca_dir = wsk__strdup(opt->tls_ca_dir))))
    goto nomem;
  if (opt->origin) {
    if (strpbrk(opt->origin, "\r\n")) {
      if (errbuf) snprintf(errbuf, errlen, "the origin has a line break");
      return WSK_EINVAL;
    }
    if (!(cl->origin = wsk__strdup(opt->origin))) goto nomem;
  }
  if (opt->deflate.enabled) {
    char offer[WSK_PMD_EXTENSION_MAX];
    const char *why;
    if (wsk_pmd_options_check(&opt->deflate, &why) != 0) {
      if (errbuf) snprintf(errbuf, errlen, "permessage-deflate options: %s", why);
      return WSK_EINVAL;
    }
    wsk_pmd_client_offer(&opt->deflate, offer);
    if (!(cl->pmd_offer = wsk__strdup(offer))) goto nomem;
  }
  return 0;
nomem:
  if (errbuf) snprintf(errbuf, errlen, "out of memory");
  return WSK_ENOMEM;
}

static unsigned min_nonzero(unsigned a, unsigned b) { return !a ? b : !b ? a : a < b ? a : b; }

int wsk_connect(wsk_loop *loop, const char *url, const struct wsk_client_options *opt,
                wsk_client **out, char *errbuf, size_t errlen) {
  if (errbuf && errlen) errbuf[0] = '\0';
  if (!loop || !url || !out) {
    if (errbuf) snprintf(errbuf, errlen, "wsk_connect: loop, url and out are required");
    return WSK_EINVAL;
  }
  *out = NULL;
  struct wsk_client_options defaults;
  if (!opt) {
    wsk_client_options_init(&defaults);
    opt = &defaults;
  }
  wsk_client *cl = wsk__calloc(1, sizeof *cl);
  if (!cl) {
    if (errbuf) snprintf(errbuf, errlen, "out of memory");
    return WSK_ENOMEM;
  }
  int r = setup(cl, url, opt, errbuf, errlen);
  if (r < 0) {
    release(cl);
    wsk__free(cl);
    return r;
  }
  cl->loop = loop;
  cl->opt = *opt;
  cl->opt.headers = cl->opt.protocols = NULL; /* copied into extra and offer */
  cl->opt.origin = cl->origin;
  cl->opt.tls_ca_file = cl->ca_file;
  cl->opt.tls_ca_dir = cl->ca_dir;
  if (!cl->opt.connect_timeout_ms) cl->opt.connect_timeout_ms = 10000;
  cl->user_cb = opt->cb;
  struct wsk__group *g = &cl->group;
  wsk__group_init(g, loop, &client_ops, cl);
  g->client = 1;
  g->deliver_closing = opt->deliver_after_close != 0;
  g->cb = opt->cb;
  g->cb.on_open = on_open;
  g->cb.on_error = on_error;
  g->cb.on_close = on_close;
  g->on_frame = opt->on_frame;
  if (cl->pmd_offer) g->deflate = &cl->opt.deflate;
  g->max_message = opt->max_message;
  g->high_water = opt->send_high_water;
  g->hard_limit = opt->send_hard_limit;
  g->close_timeout_ms = opt->close_timeout_ms;
  /* Only sizes the deadline sweep: the client sets its connections' deadlines itself. */
  g->handshake_timeout_ms = min_nonzero(cl->opt.connect_timeout_ms, opt->handshake_timeout_ms);
  if ((r = wsk__group_start(g)) < 0 || (r = attempt(cl, errbuf, errlen)) < 0) {
    if (r == WSK_ENOMEM && errbuf) snprintf(errbuf, errlen, "out of memory");
    wsk__group_destroy(g);
    release(cl);
    wsk__free(cl);
    return r;
  }
  *out = cl;
  return 0;
}

wsk_conn *wsk_client_conn(const wsk_client *cl) {
  return cl && cl->conn && wsk__conn_state(cl->conn) == WSK_CS_OPEN ? cl->conn : NULL;
}

wsk_client *wsk_conn_client(const wsk_conn *c) {
  return c && c->group->client ? wsk__client_of(c) : NULL;
}

void *wsk_client_user_data(const wsk_client *cl) { return cl ? cl->opt.user_data : NULL; }

int wsk_client_reconnecting(const wsk_client *cl) { return cl && cl->retrying && !cl->stopped; }

int wsk_client_send(wsk_client *cl, int opcode, const void *data, size_t len) {
  if (!cl || (opcode != WSK_OP_TEXT && opcode != WSK_OP_BINARY) || (!data && len))
    return WSK_EINVAL;
  wsk_conn *c = wsk_client_conn(cl);
  if (c) return wsk_send(c, opcode, data, len);
  /* Will a connection open later? Not after the end, nor after a close without reconnection. */
  c = cl->conn;
  int later = !cl->stopped && !cl->freeing &&
              (!c || wsk__conn_state(c) < WSK_CS_OPEN || cl->opt.reconnect);
  if (!later || !cl->opt.queue_limit) return WSK_ECLOSED;
  if (opcode == WSK_OP_TEXT && !wsk_utf8_valid(data, len)) return WSK_EUTF8;
  return wsk__sendq_push(&cl->queue, cl->opt.queue_limit, opcode, data, len);
}

int wsk_client_close(wsk_client *cl, unsigned code, const char *reason) {
  if (!cl || (code && !wsk_close_code_valid(code))) return WSK_EINVAL;
  int r = wsk_close_reason_check(reason, reason ? strlen(reason) : 0);
  if (r < 0) return r; /* refused in every state, as wsk_close does */
  if (cl->stopped || cl->freeing) return WSK_ECLOSED;
  cl->stopped = 1;
  cl->retrying = 0;
  wsk__sendq_clear(&cl->queue);
  if (cl->retry) {
    wsk_timer_stop(cl->retry);
    cl->retry = NULL;
  }
  wsk_conn *c = cl->conn;
  if (!c) return 0;
  unsigned st = wsk__conn_state(c);
  if (st == WSK_CS_OPEN) return wsk_close(c, code, reason);
  if (st == WSK_CS_CONNECTING || st == WSK_CS_TLS || st == WSK_CS_HTTP) {
    cl->att.aborted = 1;
    wsk__conn_destroy(c, 0, NULL);
  }
  return 0;
}

static void finish_free(struct wsk__hook *h) {
  wsk_client *cl = (wsk_client *)((char *)h - offsetof(wsk_client, free_hook));
  wsk__group_destroy(&cl->group);
  wsk__free(cl);
}

static void destroy_one(wsk_conn *c, void *arg) { wsk__conn_destroy(c, 0, NULL); }

void wsk_client_free(wsk_client *cl) {
  if (!cl || cl->freeing) return;
  cl->freeing = 1;
  cl->stopped = 1;
  cl->retrying = 0;
  cl->att.aborted = 1;
  if (cl->retry) wsk_timer_stop(cl->retry);
  cl->retry = NULL;
  if (cl->dial) wsk__dial_cancel(cl->dial);
  cl->dial = NULL;
  wsk__group_each(&cl->group, destroy_one, NULL); /* on_close for an open connection */
  release(cl);
  /* Inside a walk of the group (a deadline callback) its array must outlive the walk. */
  if (cl->group.walking) {
    cl->free_hook.fn = finish_free;
    wsk__loop_queue_hook(cl->loop, &cl->free_hook);
    return;
  }
  wsk__group_destroy(&cl->group);
  wsk__loop_free_later(cl->loop, cl); /* callers up the stack may still look at the group */
}
