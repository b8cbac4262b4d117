/* handshake.c - the client's opening handshake on a connected socket: the GET upgrade request out,
 * the server's answer in. A 101 that passes every check of RFC 6455 4.1 (and of RFC 7692 for a
 * permessage-deflate offer) opens the connection, with its headers readable from on_open; any
 * other status is a refusal, reported with the status, the reason phrase and the start of the body
 * (read up to Content-Length, or until the server closes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "proto/alloc_internal.h"

void wsk__attempt_reset(struct wsk__attempt *a) {
  wsk__free(a->reason);
  memset(a, 0, sizeof *a);
}

/* Hand each line of a head (up to the blank line) to the observer. */
static void show_lines(wsk_client *cl, wsk_conn *c, int outgoing, const char *head, size_t len) {
  if (!cl->opt.on_handshake_line) return;
  size_t start = 0;
  for (size_t i = 0; i + 1 < len && !wsk__conn_dead(c); i++) {
    if (head[i] != '\r' || head[i + 1] != '\n') continue;
    if (i == start) break;
    cl->opt.on_handshake_line(c, outgoing, head + start, i - start);
    start = i + 2;
    i++;
  }
}

int wsk__handshake_send(wsk_client *cl, wsk_conn *c) {
  uint8_t nonce[16];
  if (wsk__loop_random(cl->loop, nonce, sizeof nonce) != 0) return WSK_ESYS;
  wsk_handshake_make_key(nonce, cl->att.key);
  const struct wsk__url *u = &cl->url;
  size_t cap = 256 + strlen(u->host_header) + strlen(u->target) +
               (cl->offer ? strlen(cl->offer) : 0) + (cl->origin ? strlen(cl->origin) : 0) +
               (cl->extra ? strlen(cl->extra) : 0) + (cl->pmd_offer ? strlen(cl->pmd_offer) : 0);
  struct wsk__chunk *chunk = wsk__chunk_new(cap);
  if (!chunk) return WSK_ENOMEM;
  char *out = (char *)wsk__chunk_buf(chunk);
  int n = wsk_handshake_write_request(out, cap, u->host_header, u->target, cl->att.key, cl->offer,
                                      cl->origin, cl->pmd_offer, cl->extra);
  if (n < 0) {
    wsk__chunk_free(chunk);
    return n;
  }
  chunk->len = (size_t)n;
  show_lines(cl, c, 1, out, (size_t)n);
  if (wsk__conn_dead(c)) {
    wsk__chunk_free(chunk);
    return 0;
  }
  return wsk__conn_write_chunk(c, chunk);
}

void wsk__handshake_refusal(const struct wsk__attempt *a, char *out, size_t cap) {
  int n = snprintf(out, cap, "server refused the upgrade: %d %s", a->status,
                   a->reason ? a->reason : wsk_http_status_text(a->status));
  size_t len = a->body_len;
  while (len && (a->body[len - 1] == ' ' || a->body[len - 1] == '\n' ||
                 a->body[len - 1] == '\r' || a->body[len - 1] == '\t'))
    len--;
  if (n < 0 || (size_t)n + 3 >= cap || !len) return;
  size_t o = (size_t)n;
  out[o++] = ':';
  out[o++] = ' ';
  for (size_t i = 0; i < len && o + 4 < cap; i++) {
    unsigned char ch = (unsigned char)a->body[i];
    out[o++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch; /* one line, whatever the body holds */
  }
  if (a->body_left != 0 && o + 4 < cap) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o] = '\0';
}

static void refuse(wsk_client *cl) {
  char msg[512];
  wsk__handshake_refusal(&cl->att, msg, sizeof msg);
  wsk__client_fail(cl, WSK_EHANDSHAKE, msg);
}

/* Body bytes of a refusal: keep the start, and report once it is all here (or enough of it). */
static size_t refusal_body(wsk_client *cl, const uint8_t *buf, size_t len) {
  struct wsk__attempt *a = &cl->att;
  size_t take = len;
  if (a->body_left >= 0 && (unsigned long long)a->body_left < take) take = (size_t)a->body_left;
  size_t room = sizeof a->body - a->body_len;
  memcpy(a->body + a->body_len, buf, take < room ? take : room);
  a->body_len += take < room ? take : room;
  if (a->body_left > 0) a->body_left -= (long long)take;
  if (a->body_left == 0 || a->body_len == sizeof a->body) refuse(cl);
  return len;
}

static void start_refusal(wsk_client *cl, const struct wsk_http_response *res) {
  struct wsk__attempt *a = &cl->att;
  a->status = res->status;
  if (res->reason_len && (a->reason = wsk__malloc(res->reason_len + 1))) {
    memcpy(a->reason, res->reason, res->reason_len);
    a->reason[res->reason_len] = '\0';
  }
  const struct wsk_header *cl_h = wsk_http_find_header(res->headers, res->num_headers,
                                                       "Content-Length");
  a->body_left = -1; /* until the server closes */
  if (cl_h) {
    long long v = 0;
    for (size_t i = 0; i < cl_h->value_len && v >= 0; i++) {
      char d = cl_h->value[i];
      v = (d >= '0' && d <= '9' && v < 1000000000000LL) ? v * 10 + (d - '0') : -1;
    }
    a->body_left = v < 0 ? 0 : v;
  } else if (wsk_http_find_header(res->headers, res->num_headers, "Transfer-Encoding")) {
    a->body_left = 0; /* a chunked body is not shown */
  }
}

/* Header names and values NUL-terminated in place: each is followed by ':' or line whitespace. */
static void terminate(struct wsk_header *h, size_t n) {
  for (size_t i = 0; i < n; i++) {
    ((char *)h[i].name)[h[i].name_len] = '\0';
    ((char *)h[i].value)[h[i].value_len] = '\0';
  }
}

size_t wsk__client_http_input(wsk_conn *c, uint8_t *buf, size_t len) {
  wsk_client *cl = wsk__client_of(c);
  struct wsk__attempt *a = &cl->att;
  if (c != cl->conn) return len;
  if (a->status) return refusal_body(cl, buf, len);
  struct wsk_header headers[WSK_DEFAULT_MAX_HEADERS];
  struct wsk_http_response res;
  int r = wsk_http_parse_response((const char *)buf, len, &res, headers, WSK_DEFAULT_MAX_HEADERS,
                                  WSK_DEFAULT_MAX_HEADER_BYTES);
  if (r == WSK_EAGAIN) return 0;
  if (r < 0) {
    wsk__client_fail(cl, WSK_EHANDSHAKE, r == WSK_EHEADERS
                    ? "the server's answer to the upgrade has a head over 8 KiB or 100 lines"
                    : "the server's answer to the upgrade is not valid HTTP/1.1");
    return len;
  }
  show_lines(cl, c, 0, (const char *)buf, res.head_len);
  if (wsk__conn_dead(c)) return len;
  if (res.status != 101) {
    start_refusal(cl, &res);
    if (a->body_left == 0) {
      refuse(cl);
      return len;
    }
    return res.head_len + refusal_body(cl, buf + res.head_len, len - res.head_len);
  }
  const char *why = NULL;
  struct wsk_pmd_params pmd;
  int deflate = 0;
  if (wsk_handshake_check_response(&res, a->key, cl->offer, cl->pmd_offer != NULL, &why) != 0 ||
      (cl->pmd_offer &&
       (deflate = wsk_pmd_client_accept(&cl->opt.deflate, headers, res.num_headers, &pmd, &why)) <
           0)) {
    char msg[256];
    snprintf(msg, sizeof msg, "bad handshake answer: %s", why);
    wsk__client_fail(cl, WSK_EHANDSHAKE, msg);
    return len;
  }
  if (deflate == 1 && wsk__conn_deflate_setup(c, &pmd) < 0) {
    wsk__client_fail(cl, WSK_ENOMEM, "out of memory for permessage-deflate");
    return len;
  }
  terminate(headers, res.num_headers);
  const struct wsk_header *proto = wsk_http_find_header(headers, res.num_headers,
                                                        "Sec-WebSocket-Protocol");
  a->headers = headers;
  a->num_headers = res.num_headers;
  wsk__conn_set_timeout(c, 0);
  int rc = wsk__conn_open(c, proto ? proto->value : NULL);
  a->headers = NULL;
  a->num_headers = 0;
  if (rc < 0) wsk__conn_destroy(c, rc, "out of memory opening the connection");
  return res.head_len; /* frames sent right after the 101 are parsed next */
}

const char *wsk_conn_response_header(const wsk_conn *c, const char *name) {
  if (!c || !name || !c->group->client) return NULL;
  const wsk_client *cl = wsk__client_of(c);
  if (c != cl->conn || !cl->att.headers) return NULL;
  const struct wsk_header *h = wsk_http_find_header(cl->att.headers, cl->att.num_headers, name);
  return h ? h->value : NULL;
}
