/* http.c - the server's HTTP phase: request heads and bodies, keep-alive and pipelining, and the
 * dispatch of each request to the upgrade, on_http, the static root or the default 404.
 *
 * Request framing is strict, to leave no room for request smuggling behind a proxy: a request
 * with both Content-Length and Transfer-Encoding, with more than one Content-Length (even equal
 * ones: a proxy may have read either), or with one that is not plain digits, is refused with 400;
 * a request with Transfer-Encoding alone is refused with 501 (chunked request bodies are not
 * implemented). So is a request with two Host headers, or an HTTP/1.1 one without. Every refused
 * request closes the connection after the answer. Pipelined requests are answered in order (they
 * are processed in order and their answers are written in order). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "net/socket.h"
#include "proto/http_internal.h"
#include "server/server_internal.h"

/* Out of memory for an answer: a 500 without a body (written without allocating when the socket
 * takes it), then the connection ends; dropped if even that cannot be written. */
static void answer_nomem(wsk_conn *c) {
  static const char nomem[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n";
  struct iovec v = {(void *)nomem, sizeof nomem - 1};
  if (wsk__conn_writev(c, &v, 1, NULL, -1) == 0)
    wsk__conn_linger(c);
  else
    wsk__conn_destroy(c, 0, NULL);
}

int wsk__server_respond(wsk_conn *c, int status, const char *content_type, const char *extra,
                       const void *body, size_t body_len, int head_only, int close) {
  size_t cap = 256 + body_len + (content_type ? strlen(content_type) : 0) +
               (extra ? strlen(extra) : 0);
  struct wsk__chunk *chunk = wsk__chunk_new(cap);
  if (!chunk) {
    answer_nomem(c);
    return WSK_ENOMEM;
  }
  int n = wsk_http_write_response((char *)wsk__chunk_buf(chunk), cap, status, content_type, extra,
                                  body, body_len, close);
  if (n < 0) {
    wsk__chunk_free(chunk);
    return n;
  }
  chunk->len = (size_t)n - (head_only ? body_len : 0);
  int r = wsk__conn_write_chunk(c, chunk);
  if (close) wsk__conn_linger(c);
  return r < 0 && r != WSK_ECLOSED ? r : 0;
}

void wsk__server_error_with(wsk_conn *c, int status, const char *why, const char *extra) {
  if (!why) why = wsk_http_status_text(status);
  char line[512];
  int n = snprintf(line, sizeof line, "%s\n", why);
  wsk__server_respond(c, status, "text/plain; charset=utf-8", extra, line,
                     n > 0 && (size_t)n < sizeof line ? (size_t)n : 0, 0, 1);
}

void wsk__server_error(wsk_conn *c, int status, const char *why) {
  wsk__server_error_with(c, status, why, NULL);
}

/* Body length from Content-Length: 0 when absent, -1 when the framing is not acceptable (the
 * answer is already written). */
static long long body_length(wsk_conn *c, const struct wsk_http_request *req) {
  const struct wsk_header *h = req->headers;
  size_t n = req->num_headers;
  size_t cls = wsk_http_count_headers(h, n, "Content-Length");
  if (wsk_http_find_header(h, n, "Transfer-Encoding")) {
    if (cls)
      wsk__server_error(c, 400, "a request may not have both Content-Length and Transfer-Encoding");
    else
      wsk__server_error(c, 501, "Transfer-Encoding in requests (chunked bodies) is not supported; "
                               "send Content-Length");
    return -1;
  }
  if (cls == 0) return 0;
  const struct wsk_header *cl = wsk_http_find_header(h, n, "Content-Length");
  long long len = cls == 1 && cl->value_len > 0 && cl->value_len <= 15 ? 0 : -1;
  for (size_t k = 0; len >= 0 && k < cl->value_len; k++) {
    char d = cl->value[k];
    len = (d >= '0' && d <= '9') ? len * 10 + (d - '0') : -1;
  }
  if (len < 0) {
    wsk__server_error(c, 400, "Content-Length must be one header of plain digits");
    return -1;
  }
  if ((unsigned long long)len > wsk__server_of(c)->opt.max_http_body) {
    wsk__server_error(c, 413, "request body over the server's limit (max_http_body)");
    return -1;
  }
  return len;
}

/* Build the application's view of the request: method and target become NUL-terminated strings
 * in the head buffer (the spaces they overwrite have been parsed), and so does every header value
 * (the byte after a value is whitespace or the CR of its line). The target stays as sent; the
 * path is its prefix when it has no query and nothing to decode, else a decoded copy in the
 * request's memory. Returns 0, or -1 when the target is unusable (answered). */
static int build_request(wsk_conn *c, struct wsk_http_request *hreq, struct wsk_request *req,
                         struct wsk_request_ctx *ctx) {
  char *method = (char *)hreq->method;
  char *target = (char *)hreq->target;
  method[hreq->method_len] = '\0';
  target[hreq->target_len] = '\0';
  const char *q = memchr(target, '?', hreq->target_len);
  size_t path_len = q ? (size_t)(q - target) : hreq->target_len;
  if (target[0] != '/' && !(path_len == 1 && target[0] == '*')) {
    wsk__server_error(c, 400, "the request target must be a path starting with /");
    return -1;
  }
  memset(ctx, 0, offsetof(struct wsk_request_ctx, small));
  ctx->c = c;
  const char *path = target;
  if (q || memchr(target, '%', path_len)) {
    char *p = wsk__request_alloc(ctx, path_len + 1);
    long dl = p ? wsk__http_decode(target, path_len, p, 0) : WSK_ENOMEM;
    if (dl < 0) {
      wsk__request_end(ctx);
      if (dl == WSK_ENOMEM)
        answer_nomem(c);
      else
        wsk__server_error(c, 400, "bad percent-encoding in the request path");
      return -1;
    }
    p[dl] = '\0';
    path = p;
  }
  for (size_t i = 0; i < hreq->num_headers; i++)
    ((char *)hreq->headers[i].value)[hreq->headers[i].value_len] = '\0';
  memset(req, 0, sizeof *req);
  req->method = method;
  req->path = path;
  req->query = q ? q + 1 : target + hreq->target_len; /* "" when absent */
  req->headers = hreq->headers;
  req->num_headers = hreq->num_headers;
  req->remote = "";
  req->target = target;
  req->target_len = hreq->target_len;
  req->ctx = ctx;
  return 0;
}

static void plain_http(wsk_conn *c, struct wsk_request *req, int close) {
  wsk_server *s = wsk__server_of(c);
  struct wsk_http_reply reply = {.c = c, .close = (uint8_t)close};
  reply.head_only = strcmp(req->method, "HEAD") == 0;
  int (*on_http)(wsk_server *, const struct wsk_request *, wsk_http_reply *) =
      req->route ? req->route->on_http : s->opt.on_http;
  if (on_http) on_http(s, req, &reply);
  /* (not in the HTTP phase any more: a failed reply already answered 500 or dropped it) */
  if (reply.replied || wsk__conn_state(c) != WSK_CS_HTTP) return;
  if (s->root) {
    wsk__server_static(s, req, &reply);
    if (!reply.replied && wsk__conn_state(c) == WSK_CS_HTTP) wsk__server_error(c, 500, NULL);
    return;
  }
  static const char not_found[] = "Not Found\n";
  wsk_http_reply_send(&reply, 404, "text/plain; charset=utf-8", NULL, not_found,
                      sizeof not_found - 1);
}

/* Answers waiting for a client that pipelines requests but does not read them: above this, reading
 * stops until the answers are written. */
#define HTTP_PENDING_MAX (1024 * 1024)

size_t wsk__server_http_input(wsk_conn *c, uint8_t *buf, size_t len) {
  wsk_server *s = wsk__server_of(c);
  if (wsk__conn_pending(c) > HTTP_PENDING_MAX) {
    wsk__conn_hold_input(c, 1); /* resumed by wsk__conn_flush once the queue is written */
    return 0;
  }
  struct wsk_header headers[WSK_DEFAULT_MAX_HEADERS];
  struct wsk_http_request hreq;
  int r = wsk_http_parse_request((const char *)buf, len, &hreq, headers, WSK_DEFAULT_MAX_HEADERS,
                                 s->opt.max_header_bytes);
  if (r == WSK_EAGAIN) return 0;
  if (r == WSK_EHEADERS) {
    wsk__server_error(c, 431, "request head over the server's limit (max_header_bytes or 100 "
                             "header lines)");
    return len;
  }
  if (r < 0) {
    wsk__server_error(c, 400, "malformed HTTP request");
    return len;
  }
  size_t head_len = (size_t)r;
  size_t hosts = wsk_http_count_headers(hreq.headers, hreq.num_headers, "Host");
  if (hosts > 1 || (hosts == 0 && hreq.version_minor >= 1)) { /* RFC 9112 3.2 */
    wsk__server_error(c, 400, "a request must have one Host header (HTTP/1.1: exactly one)");
    return len;
  }
  long long body = body_length(c, &hreq);
  if (body < 0) return len;
  if (len < head_len + (size_t)body) {
    /* Body on its way. A client that waits for 100 Continue is told to go on, once: when the
     * head has just arrived without any of the body. */
    const struct wsk_header *expect =
        wsk_http_find_header(hreq.headers, hreq.num_headers, "Expect");
    if (expect && len == head_len && hreq.version_minor >= 1) {
      static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
      struct iovec v = {(void *)cont, sizeof cont - 1};
      wsk__conn_writev(c, &v, 1, NULL, -1);
    }
    return 0;
  }
  int upgrade = wsk_handshake_is_upgrade(&hreq);
  int close = hreq.version_minor == 0 || s->shutting_down ||
              wsk_http_has_token(hreq.headers, hreq.num_headers, "Connection", "close");
  struct wsk_request req;
  struct wsk_request_ctx ctx;
  if (build_request(c, &hreq, &req, &ctx) != 0) return len;
  size_t route = wsk__route_find(s, req.path);
  req.route = route ? &s->routes[route - 1] : NULL;
  char remote[WSK_ADDR_TEXT] = "";
  if (!upgrade || (req.route ? req.route->on_upgrade : s->opt.on_upgrade)) {
    wsk__sock_peer_text(c->io.fd, remote); /* a callback will see it */
    req.remote = remote;
  }
  if (upgrade) {
    if (body)
      wsk__server_error(c, 400, "an upgrade request may not have a body");
    else
      wsk__server_upgrade(c, &hreq, &req);
    wsk__request_end(&ctx);
    return body ? len : head_len;
  }
  req.body = body ? buf + head_len : NULL;
  req.body_len = (size_t)body;
  if (s->opt.max_connections && s->group.n_open >= s->opt.max_connections)
    wsk__server_error(c, 503, "the server is at its connection limit (max_connections)");
  else
    plain_http(c, &req, close);
  wsk__request_end(&ctx);
  if (!wsk__conn_dead(c) && wsk__conn_state(c) == WSK_CS_HTTP)
    wsk__conn_set_timeout(c, s->opt.handshake_timeout_ms); /* keep-alive: wait for the next one */
  return head_len + (size_t)body;
}
