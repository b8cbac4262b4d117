/* upgrade.c - from a valid upgrade request to an open WebSocket: the server's own checks (Origin
 * allow-list, max_connections, shutdown), the application's on_upgrade decision (now or later),
 * and the 101 answer (with permessage-deflate when the server enables it and the client offers
 * something it can honour). Bytes that followed the request head (first frames sent without
 * waiting for the 101) are kept and parsed once the connection is open. */
#include <stdlib.h>
#include <string.h>

#include "proto/alloc_internal.h"
#include "server/server_internal.h"

static int origin_allowed(const wsk_server *s, const struct wsk_upgrade_request *u) {
  if (!s->origins || !u->origin) return 1; /* no list, or not a browser (no Origin header) */
  for (char **o = s->origins; *o; o++)
    if (strlen(*o) == u->origin_len && strncasecmp(*o, u->origin, u->origin_len) == 0) return 1;
  return 0;
}

/* Copy the offered subprotocols as consecutive NUL-terminated strings ending with "". */
static char *copy_offer(const struct wsk_upgrade_request *u) {
  size_t line = 0, pos = 0, total = 1, plen;
  const char *p;
  while (wsk_handshake_next_protocol(u->headers, u->num_headers, &line, &pos, &p, &plen))
    total += plen + 1;
  char *out = wsk__malloc(total), *w = out;
  if (!out) return NULL;
  line = pos = 0;
  while (wsk_handshake_next_protocol(u->headers, u->num_headers, &line, &pos, &p, &plen)) {
    memcpy(w, p, plen);
    w += plen;
    *w++ = '\0';
  }
  *w = '\0';
  return out;
}

/* The one free point of an upgrade: user data that no connection took goes back to the
 * application. */
static void upgrade_free(wsk_upgrade *up) {
  if (up->user_data && up->on_abort) up->on_abort(up->user_data);
  wsk__free(up->offered);
  wsk__free(up->extra);
  wsk__free(up);
}

/* Write the 101 and open the connection; frees up. */
static int finish_accept(wsk_upgrade *up) {
  wsk_conn *c = up->c;
  if (c->ext && c->ext->pending == up) c->ext->pending = NULL; /* up is freed on every path */
  if (up->deflate && wsk__conn_deflate_setup(c, &up->pmd) < 0) {
    upgrade_free(up);
    wsk__server_error(c, 500, "out of memory for permessage-deflate");
    return WSK_ENOMEM;
  }
  size_t cap = 256 + up->extra_len + (up->selected ? strlen(up->selected) : 0) +
               (up->deflate ? strlen(up->pmd_response) : 0);
  struct wsk__chunk *chunk = wsk__chunk_new(cap);
  int n = chunk ? wsk_handshake_write_response((char *)wsk__chunk_buf(chunk), cap, up->key,
                                               WSK_KEY_LEN, up->selected,
                                               up->deflate ? up->pmd_response : NULL, up->extra)
                : WSK_ENOMEM;
  if (n < 0) {
    if (chunk) wsk__chunk_free(chunk);
    upgrade_free(up);
    wsk__server_error(c, 500, "could not write the handshake response");
    return n;
  }
  chunk->len = (size_t)n;
  wsk__conn_set_timeout(c, 0);
  /* The 101 goes out now rather than with the cork at the end of the read, so that its result
   * decides whether the WebSocket opens; what on_open sends is corked again. */
  int corked = c->group->cork->owner == c;
  wsk__conn_uncork(c);
  int r = wsk__conn_write_chunk(c, chunk);
  if (r < 0) { /* the peer is gone (or no memory to queue): the WebSocket never opened */
    upgrade_free(up);
    wsk__conn_destroy(c, 0, NULL);
    return r;
  }
  if (corked) wsk__conn_cork(c);
  c->user_data = up->user_data;
  c->route = up->route;
  r = wsk__conn_open(c, up->selected);
  if (r == 0) up->user_data = NULL; /* the connection's now: on_close follows on_open */
  upgrade_free(up);
  if (r < 0) wsk__conn_destroy(c, r, "out of memory opening the connection");
  return r;
}

/* Answer status (with the application's headers when it chose to reject) and free up. */
static void finish_reject(wsk_upgrade *up, int status, const char *body, int app) {
  wsk_conn *c = up->c;
  if (c->ext && c->ext->pending == up) c->ext->pending = NULL;
  wsk__server_error_with(c, status, body, app ? up->extra : NULL);
  upgrade_free(up);
}

void wsk__server_upgrade(wsk_conn *c, const struct wsk_http_request *hreq,
                        const struct wsk_request *req) {
  wsk_server *s = wsk__server_of(c);
  struct wsk_upgrade_request u;
  const char *why = NULL;
  int status = wsk_handshake_check_request(hreq, &u, &why);
  if (status) {
    size_t cap = 512;
    struct wsk__chunk *chunk = wsk__chunk_new(cap);
    int n = chunk ? wsk_handshake_write_error((char *)wsk__chunk_buf(chunk), cap, status, why) : -1;
    if (n < 0) {
      if (chunk) wsk__chunk_free(chunk);
      wsk__conn_destroy(c, 0, NULL);
      return;
    }
    chunk->len = (size_t)n;
    wsk__conn_write_chunk(c, chunk);
    wsk__conn_linger(c);
    return;
  }
  if (!origin_allowed(s, &u)) {
    wsk__server_error(c, 403, "this Origin is not allowed to open a WebSocket here");
    return;
  }
  if (s->shutting_down) {
    wsk__server_error(c, 503, "the server is shutting down");
    return;
  }
  if (s->opt.max_connections && s->group.n_open >= s->opt.max_connections) {
    wsk__server_error(c, 503, "the server is at its connection limit (max_connections)");
    return;
  }
  wsk_upgrade *up = wsk__calloc(1, sizeof *up);
  if (!up || !(up->offered = copy_offer(&u))) {
    wsk__free(up);
    wsk__server_error(c, 500, "out of memory");
    return;
  }
  up->c = c;
  const struct wsk_route *route = req->route;
  up->route = route ? (uint16_t)(route - s->routes + 1) : 0;
  up->on_abort = route ? route->on_upgrade_abort : s->opt.on_upgrade_abort;
  memcpy(up->key, u.key, WSK_KEY_LEN);
  /* The offer is read now, while the request is here; a deferred upgrade answers it later. */
  up->deflate = wsk_pmd_server_negotiate(&s->opt.deflate, u.headers, u.num_headers, &up->pmd,
                                         up->pmd_response) == 1;
  int (*on_upgrade)(wsk_server *, const struct wsk_request *, wsk_upgrade *) =
      route ? route->on_upgrade : s->opt.on_upgrade;
  int rc = on_upgrade ? on_upgrade(s, req, up) : WSK_UPGRADE_ACCEPT;
  if (wsk__conn_dead(c)) {
    upgrade_free(up);
    return;
  }
  if (rc == WSK_UPGRADE_ACCEPT) {
    finish_accept(up);
  } else if (rc == WSK_UPGRADE_DEFER) {
    struct wsk__conn_ext *x = wsk__conn_ext(c);
    if (!x) {
      finish_reject(up, 500, "out of memory", 0);
      return;
    }
    up->deferred = 1;
    x->pending = up;
    wsk__conn_set_state(c, WSK_CS_UPGRADING); /* the handshake timeout keeps running */
  } else {
    int app = rc >= 400 && rc <= 599;
    finish_reject(up, app ? rc : 500, app ? NULL : "on_upgrade returned an invalid value", app);
  }
}

void wsk__upgrade_detach(wsk_conn *c) {
  if (!c->ext || !c->ext->pending) return;
  wsk_upgrade *up = c->ext->pending;
  up->c = NULL;
  c->ext->pending = NULL;
}

const char *wsk_upgrade_offered_protocol(wsk_upgrade *up, size_t *i) {
  if (!up || !i || !up->offered[*i]) return NULL;
  const char *p = up->offered + *i;
  *i += strlen(p) + 1;
  return p;
}

int wsk_upgrade_select_protocol(wsk_upgrade *up, const char *protocol) {
  if (!up || !protocol) return WSK_EINVAL;
  for (const char *p = up->offered; *p; p += strlen(p) + 1) {
    if (strcmp(p, protocol) == 0) {
      up->selected = p;
      return 0;
    }
  }
  return WSK_EINVAL;
}

static int header_ok(const char *name, const char *value) {
  if (!*name) return 0;
  for (const char *p = name; *p; p++)
    if (*p <= 32 || *p >= 127 || strchr("()<>@,;:\\\"/[]?={}", *p)) return 0;
  for (const char *p = value; *p; p++)
    if ((unsigned char)*p < 32 && *p != '\t') return 0;
  return 1;
}

int wsk_upgrade_add_header(wsk_upgrade *up, const char *name, const char *value) {
  if (!up || !name || !value || !header_ok(name, value)) return WSK_EINVAL;
  size_t add = strlen(name) + 2 + strlen(value) + 2;
  char *e = wsk__realloc(up->extra, up->extra_len + add + 1);
  if (!e) return WSK_ENOMEM;
  up->extra = e;
  memcpy(e + up->extra_len, name, strlen(name));
  up->extra_len += strlen(name);
  memcpy(e + up->extra_len, ": ", 2);
  up->extra_len += 2;
  memcpy(e + up->extra_len, value, strlen(value));
  up->extra_len += strlen(value);
  memcpy(e + up->extra_len, "\r\n", 3);
  up->extra_len += 2;
  return 0;
}

void wsk_upgrade_set_user_data(wsk_upgrade *up, void *user_data) {
  if (up) up->user_data = user_data;
}

int wsk_upgrade_accept(wsk_upgrade *up) {
  if (!up || !up->deferred) return WSK_EINVAL;
  wsk_conn *c = up->c;
  if (!c) {
    upgrade_free(up);
    return WSK_ECLOSED;
  }
  if (wsk__server_of(c)->shutting_down) {
    finish_reject(up, 503, "the server is shutting down", 0);
    return WSK_ECLOSED;
  }
  int r = finish_accept(up);
  if (r < 0 || wsk__conn_dead(c)) return r < 0 ? r : 0;
  wsk__conn_feed_held(c); /* frames that arrived meanwhile */
  if (!wsk__conn_dead(c) && wsk__conn_has(c, WSK_CF_HOLD_IN)) wsk__conn_hold_input(c, 0);
  return 0;
}

int wsk_upgrade_reject(wsk_upgrade *up, int status, const char *body) {
  if (!up || !up->deferred) return WSK_EINVAL;
  if (status < 400 || status > 599) status = 500;
  if (!up->c) {
    upgrade_free(up);
    return WSK_ECLOSED;
  }
  finish_reject(up, status, body, 1);
  return 0;
}
