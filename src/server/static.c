/* static.c - files from the server's root directory over plain HTTP (GET and HEAD).
 *
 * No request can reach a file outside the root: the path has been percent-decoded (an encoded
 * NUL was refused), any ".." segment is refused (%2e%2e and %2f included, since they are decoded
 * first), and the resolved path (symbolic links followed) must still lie inside the resolved
 * root, or the answer is 403. `/` and any path ending in `/` mean index.html. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/server_internal.h"

static const struct {
  const char *ext;
  const char *type;
} mime_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"ico", "image/x-icon"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
};

static const char *mime_type(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash : path, '.');
  if (dot)
    for (size_t i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++)
      if (strcasecmp(dot + 1, mime_types[i].ext) == 0) return mime_types[i].type;
  return "application/octet-stream";
}

static int has_dotdot_segment(const char *path) {
  for (const char *p = path; *p;) {
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == 2 && p[0] == '.' && p[1] == '.') return 1;
    if (!end) break;
    p = end + 1;
  }
  return 0;
}

static void http_date(time_t t, char out[64]) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* If-Modified-Since in the IMF-fixdate form; -1 if absent or unreadable. */
static time_t if_modified_since(const struct wsk_request *req) {
  const char *v = wsk_request_header(req, "If-Modified-Since");
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (!v) return -1;
  const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end) return -1;
  return timegm(&tm);
}

static void send_error(struct wsk_http_reply *reply, int status, const char *extra) {
  char body[64];
  int n = snprintf(body, sizeof body, "%s\n", wsk_http_status_text(status));
  wsk_http_reply_send(reply, status, "text/plain; charset=utf-8", extra, body, (size_t)n);
}

/* Head of a 200 or 304 for a file. A 304 carries no Content-Length: it would have to be the
 * length of the file, and is better left out. */
static int file_head(char *out, size_t cap, int status, const char *type, long long size,
                     time_t mtime, int close) {
  char date[64];
  http_date(mtime, date);
  char length[48] = "";
  if (status == 200) snprintf(length, sizeof length, "Content-Length: %lld\r\n", size);
  return snprintf(out, cap,
                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%sLast-Modified: %s\r\n"
                  "Cache-Control: no-cache\r\n%s\r\n",
                  status, wsk_http_status_text(status), type, length, date,
                  close ? "Connection: close\r\n" : "");
}

/* Answer with the file open on fd, which this takes over. The body is not read here: it is queued
 * as a file chunk and sent in slices as the socket drains (net/wqueue.c), so the server holds no
 * more of it than one slice, whatever its size and however slowly the client reads. */
static void send_file(struct wsk_http_reply *reply, const struct wsk_request *req, int fd,
                      const struct stat *st, const char *path) {
  const char *type = mime_type(path);
  time_t ims = if_modified_since(req);
  int status = (ims >= 0 && st->st_mtime <= ims) ? 304 : 200;
  size_t body = (status == 200 && !reply->head_only) ? (size_t)st->st_size : 0;
  char head[512];
  int hl = file_head(head, sizeof head, status, type, (long long)st->st_size, st->st_mtime,
                     reply->close);
  struct wsk__chunk *chunk = wsk__chunk_new((size_t)hl);
  struct wsk__chunk *file = NULL;
  if (chunk && body)
    file = wsk__chunk_file(fd, 0, body); /* owns fd from here on, even when it fails */
  else
    close(fd);
  if (!chunk || (body && !file)) {
    if (chunk) wsk__chunk_free(chunk);
    send_error(reply, 500, NULL);
    return;
  }
  memcpy(wsk__chunk_buf(chunk), head, (size_t)hl);
  chunk->len = (size_t)hl;
  reply->replied = 1;
  wsk__conn_write_chunk(reply->c, chunk);
  if (file) wsk__conn_write_chunk(reply->c, file);
  if (reply->close) wsk__conn_linger(reply->c);
}

void wsk__server_static(wsk_server *s, const struct wsk_request *req,
                        struct wsk_http_reply *reply) {
  if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
    send_error(reply, 405, "Allow: GET, HEAD\r\n");
    return;
  }
  const char *path = req->path;
  if (path[0] != '/' || has_dotdot_segment(path)) {
    send_error(reply, 403, NULL);
    return;
  }
  size_t plen = strlen(path);
  int want_index = path[plen - 1] == '/';
  char full[PATH_MAX], resolved[PATH_MAX];
  int n = snprintf(full, sizeof full, "%s%s%s", s->root, path, want_index ? "index.html" : "");
  if (n < 0 || (size_t)n >= sizeof full) {
    send_error(reply, 404, NULL);
    return;
  }
  if (!realpath(full, resolved)) {
    send_error(reply, errno == EACCES ? 403 : 404, NULL);
    return;
  }
  if (strncmp(resolved, s->root, s->root_len) != 0 ||
      (resolved[s->root_len] != '/' && resolved[s->root_len] != '\0')) {
    send_error(reply, 403, NULL); /* a symbolic link that leads out of the root */
    return;
  }
  int fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0) close(fd);
    send_error(reply, errno == EACCES ? 403 : 404, NULL);
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    /* A directory without the trailing slash: send the browser to the slash form so that its
     * relative links resolve inside the directory. */
    char extra[PATH_MAX + 32];
    int printable = 1;
    for (const char *p = req->path; *p; p++) printable &= *p > 0x20 && *p < 0x7f;
    if (!printable ||
        (size_t)snprintf(extra, sizeof extra, "Location: %s/\r\n", req->path) >= sizeof extra) {
      send_error(reply, 404, NULL);
      return;
    }
    send_error(reply, 301, extra);
    return;
  }
  if (!S_ISREG(st.st_mode) || (unsigned long long)st.st_size > SIZE_MAX) {
    close(fd);
    send_error(reply, 403, NULL);
    return;
  }
  send_file(reply, req, fd, &st, resolved);
}
