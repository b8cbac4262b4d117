/* bench_tls.c - wss:// under `wsk bench` (see bench_tls.h). Sessions read ahead (one recv brings
 * as many records as OpenSSL's buffer holds) and write whole batches, partially when the socket is
 * full: OpenSSL then wants the same bytes again, which bench_net.c's output buffer guarantees (it
 * only grows at the end and only moves forward by what was written). */
#include "bench_tls.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>


const char *bench_tls_kernel(void) {
  static const char *answer;
  if (answer) return answer;
  /* The kernel looks the ULP up by name before it checks the socket: an unconnected one tells
   * ENOENT (no `tls` module) from anything else (offered, but this socket is not connected). */
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int r = fd < 0 ? -1 : setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", 3);
  answer = fd >= 0 && r < 0 && errno == ENOENT ? "not offered by this kernel"
           : fd < 0                            ? "unknown"
                                               : "offered by this kernel";
  if (fd >= 0) close(fd);
  return answer;
}

#ifdef WSK_WITH_TLS
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* A new session ticket: keep the newest for the next connection of this dialer. */
static int keep_session(SSL *ssl, SSL_SESSION *sess) {
  struct bench_conn *c = SSL_get_app_data(ssl);
  if (c->session) SSL_SESSION_free(c->session);
  c->session = sess;
  return 1; /* the reference is ours */
}

int bench_tls_init(struct bench_net *n, const struct bench_tls_opts *o, char *err, size_t errlen) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    snprintf(err, errlen, "out of memory for the TLS context");
    return -1;
  }
  n->tls = ctx;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);
  /* Read as much per recv as ws:// does (up to the 16 echoes in flight of a connection), so that
   * batches, and the server's cost per message, are shaped alike. */
  SSL_CTX_set_default_read_buffer_len(ctx, 64 * 1024);
  static const unsigned char alpn[] = "\x08http/1.1"; /* as browsers and wsk's client offer it */
  if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) != 0) {
    snprintf(err, errlen, "out of memory for the TLS context");
    bench_tls_free(n);
    return -1;
  }
  if (o->resume) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, keep_session);
  }
  SSL_CTX_set_verify(ctx, o->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
  if (o->insecure || (o->ca ? SSL_CTX_load_verify_locations(ctx, o->ca, NULL)
                            : SSL_CTX_set_default_verify_paths(ctx)) == 1)
    return 0;
  unsigned long e = ERR_peek_error();
  snprintf(err, errlen, "%s: %s", o->ca ? o->ca : "the system's CA store",
           e ? ERR_reason_error_string(e) : "cannot be loaded");
  ERR_clear_error();
  bench_tls_free(n);
  return -1;
}

void bench_tls_free(struct bench_net *n) {
  SSL_CTX_free(n->tls);
  n->tls = NULL;
}

int bench_tls_start(struct bench_net *n, struct bench_conn *c, const char *host) {
  SSL *ssl = SSL_new(n->tls);
  if (!ssl || !SSL_set_fd(ssl, c->fd)) goto fail;
  SSL_set_app_data(ssl, c);
  SSL_set_connect_state(ssl);
  unsigned char ip[16];
  if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1) {
    if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)) goto fail;
  } else if (!SSL_set_tlsext_host_name(ssl, host) || !SSL_set1_host(ssl, host)) {
    goto fail;
  }
  if (c->session) SSL_set_session(ssl, c->session);
  c->ssl = ssl;
  return 0;
fail:
  ERR_clear_error();
  SSL_free(ssl);
  return -1;
}

int bench_tls_handshake(struct bench_net *n, struct bench_conn *c, char *why, size_t len) {
  c->tls_want_out = 0;
  ERR_clear_error();
  int r = SSL_do_handshake(c->ssl);
  if (r == 1) {
    n->tls_handshakes++;
    n->tls_resumed += SSL_session_reused(c->ssl) == 1;
    snprintf(n->tls_version, sizeof n->tls_version, "%s %s", SSL_get_version(c->ssl),
             SSL_get_cipher_name(c->ssl));
    return 1;
  }
  int e = SSL_get_error(c->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    c->tls_want_out = e == SSL_ERROR_WANT_WRITE;
    return 0;
  }
  long v = SSL_get_verify_result(c->ssl);
  unsigned long code = ERR_peek_error();
  snprintf(why, len, "TLS handshake: %s",
           v != X509_V_OK                ? X509_verify_cert_error_string(v)
           : code                        ? ERR_reason_error_string(code)
           : e == SSL_ERROR_SYSCALL && errno ? strerror(errno)
                                         : "the server closed the connection");
  ERR_clear_error();
  return -1;
}

void bench_tls_end(struct bench_conn *c) {
  /* Without this, SSL_free takes the missing close_notify of ours for a failure and marks the
   * session unresumable; the WebSocket closing handshake already said that all was received. */
  if (c->ssl) SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(c->ssl);
  c->ssl = NULL;
  c->tls_want_out = 0;
}

void bench_tls_release(struct bench_conn *c) {
  SSL_SESSION_free(c->session);
  c->session = NULL;
}

/* The errno convention for a failed SSL call: 0 for the end of input, else -1. */
static ssize_t ssl_failed(struct bench_conn *c, int r) {
  int e = SSL_get_error(c->ssl, r);
  ERR_clear_error();
  if (e == SSL_ERROR_ZERO_RETURN) return 0;
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    c->tls_want_out |= e == SSL_ERROR_WANT_WRITE;
    errno = EAGAIN;
  } else if (e != SSL_ERROR_SYSCALL || !errno) {
    errno = EPROTO;
  }
  return -1;
}

ssize_t bench_io_recv(struct bench_conn *c, void *buf, size_t len) {
  if (!c->ssl) return recv(c->fd, buf, len, 0);
  size_t total = 0, got;
  c->tls_want_out = 0;
  ERR_clear_error();
  int r;
  while ((r = SSL_read_ex(c->ssl, (char *)buf + total, len - total, &got)) == 1) {
    total += got;
    if (total == len || !SSL_has_pending(c->ssl)) return (ssize_t)total; /* the rest: epoll */
  }
  if (!total) return ssl_failed(c, r);
  if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_WRITE) c->tls_want_out = 1;
  ERR_clear_error(); /* the end or a failure comes back on the next call */
  return (ssize_t)total;
}

ssize_t bench_io_send(struct bench_conn *c, const void *buf, size_t len) {
  if (!c->ssl) return send(c->fd, buf, len, MSG_NOSIGNAL);
  size_t w = 0;
  ERR_clear_error();
  int r = SSL_write_ex(c->ssl, buf, len, &w);
  return r == 1 ? (ssize_t)w : ssl_failed(c, r);
}

#else /* built without TLS: wss:// is refused before any session exists */

int bench_tls_init(struct bench_net *n, const struct bench_tls_opts *o, char *err, size_t errlen) {
  snprintf(err, errlen, "wss:// needs TLS, and this wsk was built without it");
  return -1;
}
void bench_tls_free(struct bench_net *n) {}
int bench_tls_start(struct bench_net *n, struct bench_conn *c, const char *host) { return -1; }
int bench_tls_handshake(struct bench_net *n, struct bench_conn *c, char *why, size_t len) {
  return -1;
}
void bench_tls_end(struct bench_conn *c) {}
void bench_tls_release(struct bench_conn *c) {}
ssize_t bench_io_recv(struct bench_conn *c, void *buf, size_t len) {
  return recv(c->fd, buf, len, 0);
}
ssize_t bench_io_send(struct bench_conn *c, const void *buf, size_t len) {
  return send(c->fd, buf, len, MSG_NOSIGNAL);
}

#endif
