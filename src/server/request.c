/* request.c - what on_http and on_upgrade can ask of a request (headers, query parameters,
 * cookies, the peer's address), the request's own memory for the answers, and the reply. */
#include <string.h>
#include <sys/socket.h>

#include "proto/alloc_internal.h"
#include "proto/http_internal.h"
#include "server/server_internal.h"

struct wsk__scratch {
  struct wsk__scratch *next;
  char data[];
};

char *wsk__request_alloc(struct wsk_request_ctx *x, size_t n) {
  if (n <= sizeof x->small - x->used) {
    x->used += n;
    return x->small + x->used - n;
  }
  struct wsk__scratch *b = wsk__malloc(sizeof *b + n);
  if (!b) return NULL;
  b->next = x->heap;
  x->heap = b;
  return b->data;
}

void wsk__request_end(struct wsk_request_ctx *x) {
  while (x->heap) {
    struct wsk__scratch *b = x->heap;
    x->heap = b->next;
    wsk__free(b);
  }
  x->used = 0;
}

/* Header values were NUL-terminated in place when the request was built (http.c). */
const char *wsk_request_header(const struct wsk_request *req, const char *name) {
  size_t iter = 0;
  return wsk_request_header_next(req, name, &iter);
}

const char *wsk_request_header_next(const struct wsk_request *req, const char *name,
                                    size_t *iter) {
  if (!req || !name || !iter) return NULL;
  size_t name_len = strlen(name);
  for (size_t i = *iter; i < req->num_headers; i++) {
    const struct wsk_header *h = &req->headers[i];
    if (wsk__http_ieq(h->name, h->name_len, name, name_len)) {
      *iter = i + 1;
      return h->value;
    }
  }
  *iter = req->num_headers;
  return NULL;
}

/* Hand out v[0..n) decoded (or copied) and NUL-terminated in the request's memory. */
static int give(const struct wsk_request *req, const char *v, size_t n, int decode,
                const char **value, size_t *len) {
  char *out = wsk__request_alloc(req->ctx, n + 1);
  if (!out) return WSK_ENOMEM;
  long m = decode ? wsk__http_decode(v, n, out, 1) : (long)n;
  if (m < 0) return (int)m;
  if (!decode) memcpy(out, v, n);
  out[m] = '\0';
  *value = out;
  *len = (size_t)m;
  return 1;
}

int wsk_request_query(const struct wsk_request *req, const char *name, const char **value,
                      size_t *len) {
  if (!req || !req->ctx || !name || !value || !len) return WSK_EINVAL;
  const char *v;
  size_t n;
  if (!wsk__http_query_find(req->query, strlen(req->query), name, &v, &n)) return 0;
  return give(req, v, n, 1, value, len);
}

int wsk_request_cookie(const struct wsk_request *req, const char *name, const char **value,
                       size_t *len) {
  if (!req || !req->ctx || !name || !value || !len) return WSK_EINVAL;
  size_t iter = 0;
  for (const char *h; (h = wsk_request_header_next(req, "Cookie", &iter));) {
    const char *v;
    size_t n;
    if (wsk__http_cookie_find(h, strlen(h), name, &v, &n)) return give(req, v, n, 0, value, len);
  }
  return 0;
}

int wsk_request_remote_addr(const struct wsk_request *req, struct sockaddr_storage *addr) {
  if (!req || !req->ctx || !addr) return WSK_EINVAL;
  socklen_t n = sizeof *addr;
  if (getpeername(req->ctx->c->io.fd, (struct sockaddr *)addr, &n) != 0) return -errno;
  return 0;
}

int wsk_http_reply_send(wsk_http_reply *reply, int status, const char *content_type,
                        const char *extra, const void *body, size_t body_len) {
  if (!reply || reply->replied) return WSK_EINVAL;
  int r = wsk__server_respond(reply->c, status, content_type, extra, body, body_len,
                             reply->head_only, reply->close);
  if (r == 0) reply->replied = 1;
  return r;
}
