/* tls.c - the I/O of one TLS session over a non-blocking socket (see tls.h).
 *
 * Writing follows OpenSSL's rule for non-blocking sockets: when SSL_write could not send a record
 * whole (the socket is full), it must be called again with the same bytes, at least as many as
 * before (the buffer may move: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER). wsk__tls_writev reports such
 * a call as 0 bytes taken; the caller queues everything from there, contiguous, and its next call
 * starts with the same bytes. A piece of at least GATHER bytes, or the last piece, is handed over
 * as is, GATHER bytes at most; smaller ones are gathered (with what follows) into one record of up
 * to GATHER bytes. So every SSL_write makes one record, and a retry passes at least as many bytes
 * as the call it repeats (what was not taken is all still there, in more pieces or fewer). All
 * records but the last of a call are sent with MSG_MORE (tls_bio.c): a batch of small messages
 * leaves in full segments. */
#include "net/tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto/alloc_internal.h"

#ifdef WSK_WITH_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define GATHER WSK_TLS_GATHER

void wsk__tls_free(struct wsk__tls *t) {
  if (!t) return;
  SSL_free(t->ssl);
  wsk__free(t);
}

/* OpenSSL's reason for the failure just seen (the first error queued: the cause), and clear the
 * queue. */
static void reason(char *out, size_t cap, const char *fallback) {
  unsigned long e = ERR_peek_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  snprintf(out, cap, "%s", r ? r : fallback);
  ERR_clear_error();
}

/* The sentence for a failed call (SSL_get_error's e). Returns WSK_ETLS or WSK_ESYS. */
static int failure(struct wsk__tls *t, int e, const char *what, char *errbuf, size_t errlen) {
  char why[160];
  int code = WSK_ETLS;
  if (e == SSL_ERROR_SYSCALL && errno) {
    snprintf(why, sizeof why, "%s", strerror(errno));
    code = WSK_ESYS;
  } else if (e == SSL_ERROR_SYSCALL) {
    snprintf(why, sizeof why, "the peer closed the connection");
  } else {
    reason(why, sizeof why, "protocol error");
  }
  ERR_clear_error();
  if (errbuf) snprintf(errbuf, errlen, "%s: %s", what, why);
  return code;
}

int wsk__tls_handshake(struct wsk__tls *t, char *errbuf, size_t errlen) {
  t->want &= (uint8_t)~(WSK_TLS_STEP_WANTS_IN | WSK_TLS_STEP_WANTS_OUT);
  ERR_clear_error();
  int r = SSL_do_handshake(t->ssl);
  if (r == 1) return 0;
  int e = SSL_get_error(t->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    t->want |= e == SSL_ERROR_WANT_READ ? WSK_TLS_STEP_WANTS_IN : WSK_TLS_STEP_WANTS_OUT;
    return WSK_EAGAIN;
  }
  unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_SSL && ERR_GET_REASON(last) == SSL_R_HTTP_REQUEST) {
    ERR_clear_error();
    if (errbuf) snprintf(errbuf, errlen, "a plain HTTP request on the TLS port");
    return WSK_EHTTP;
  }
  long verify = SSL_get_verify_result(t->ssl);
  if (ERR_GET_REASON(last) == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK) {
    ERR_clear_error();
    t->verify_failed = 1;
    if (errbuf) snprintf(errbuf, errlen, "certificate verify failed: %s",
                         X509_verify_cert_error_string(verify));
    return WSK_ETLS;
  }
  if (e == SSL_ERROR_SSL && ERR_GET_REASON(last) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    ERR_clear_error();
    if (errbuf) snprintf(errbuf, errlen, "the peer closed the connection during the handshake");
    return WSK_ETLS;
  }
  return failure(t, e, "handshake", errbuf, errlen);
}

ssize_t wsk__tls_read(struct wsk__tls *t, void *buf, size_t len, char *errbuf, size_t errlen) {
  size_t total = 0;
  t->want &= (uint8_t)~(WSK_TLS_READ_WANTS_OUT | WSK_TLS_READ_FAILED);
  while (total < len) {
    size_t got = 0;
    ERR_clear_error();
    int r = SSL_read_ex(t->ssl, (char *)buf + total, len - total, &got);
    if (r == 1) {
      total += got;
      /* Nothing buffered any more: like a short recv, what the socket holds is for the next
       * readiness event (epoll is level-triggered), not for a read(2) that says EAGAIN. */
      if (!SSL_has_pending(t->ssl)) break;
      continue;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ) break;
    if (e == SSL_ERROR_WANT_WRITE) {
      t->want |= WSK_TLS_READ_WANTS_OUT;
      break;
    }
    if (total) { /* the bytes first; the end or the failure comes back on the next call */
      if (e != SSL_ERROR_ZERO_RETURN) t->want |= WSK_TLS_READ_FAILED;
      ERR_clear_error();
      break;
    }
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    return failure(t, e, "TLS read", errbuf, errlen);
  }
  return total ? (ssize_t)total : WSK_EAGAIN;
}

ssize_t wsk__tls_writev(struct wsk__tls *t, const struct iovec *iov, int n) {
  uint8_t gather[GATHER];
  size_t total = 0, off = 0, rest = 0; /* rest: bytes not taken yet */
  int i = 0;
  for (int k = 0; k < n; k++) rest += iov[k].iov_len;
  t->want &= (uint8_t)~WSK_TLS_WRITE_WANTS_IN;
  while (i < n) {
    if (off == iov[i].iov_len) {
      i++;
      off = 0;
      continue;
    }
    const uint8_t *p = (const uint8_t *)iov[i].iov_base + off;
    size_t len = iov[i].iov_len - off;
    if (len < GATHER && i + 1 < n) {
      len = 0;
      for (int k = i; k < n && len < GATHER; k++) {
        size_t from = k == i ? off : 0;
        size_t take = iov[k].iov_len - from;
        if (take > GATHER - len) take = GATHER - len;
        if (take) memcpy(gather + len, (const uint8_t *)iov[k].iov_base + from, take);
        len += take;
      }
      p = gather;
    } else if (len > GATHER) {
      len = GATHER;
    }
    size_t w = 0;
    ERR_clear_error();
    wsk__tls_bio_more(rest > len);
    int r = SSL_write_ex(t->ssl, p, len, &w);
    wsk__tls_bio_more(0);
    if (r != 1) {
      int e = SSL_get_error(t->ssl, r);
      if (e == SSL_ERROR_WANT_READ) t->want |= WSK_TLS_WRITE_WANTS_IN;
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE || total) break;
      if (e == SSL_ERROR_SYSCALL && errno) return -errno;
      return WSK_ETLS; /* the reason stays in OpenSSL's queue for wsk__tls_error_text */
    }
    total += w;
    rest -= w;
    while (w) { /* step over the w bytes taken */
      size_t left = iov[i].iov_len - off;
      if (w < left) {
        off += w;
        break;
      }
      w -= left;
      i++;
      off = 0;
    }
  }
  return (ssize_t)total;
}

void wsk__tls_error_text(int err, char *out, size_t cap) {
  if (err == WSK_ETLS)
    reason(out, cap, "TLS protocol error");
  else
    snprintf(out, cap, "%s", wsk_strerror(err));
}

int wsk__tls_shutdown(struct wsk__tls *t) {
  t->want &= (uint8_t)~(WSK_TLS_STEP_WANTS_IN | WSK_TLS_STEP_WANTS_OUT);
  if (t->shut) return 0;
  ERR_clear_error();
  int r = SSL_shutdown(t->ssl);
  if (r < 0 && SSL_get_error(t->ssl, r) == SSL_ERROR_WANT_WRITE) {
    t->want |= WSK_TLS_STEP_WANTS_OUT;
    return WSK_EAGAIN;
  }
  ERR_clear_error();
  t->shut = 1; /* sent, or the session cannot send anything any more */
  return 0;
}

size_t wsk__tls_pending(const struct wsk__tls *t) {
  int n = SSL_pending(t->ssl);
  if (n > 0) return (size_t)n;
  /* Records read ahead and not decrypted yet: at most one record's plaintext at a time. */
  return SSL_has_pending(t->ssl) ? GATHER : 0;
}

#else /* built without TLS: no session is ever created (see tls_ctx.c) */

void wsk__tls_free(struct wsk__tls *t) {}
int wsk__tls_handshake(struct wsk__tls *t, char *errbuf, size_t errlen) { return WSK_EUNSUPPORTED; }
ssize_t wsk__tls_read(struct wsk__tls *t, void *buf, size_t len, char *errbuf, size_t errlen) {
  return WSK_EUNSUPPORTED;
}
ssize_t wsk__tls_writev(struct wsk__tls *t, const struct iovec *iov, int n) {
  return WSK_EUNSUPPORTED;
}
void wsk__tls_error_text(int err, char *out, size_t cap) {
  snprintf(out, cap, "%s", wsk_strerror(err));
}
int wsk__tls_shutdown(struct wsk__tls *t) { return 0; }
size_t wsk__tls_pending(const struct wsk__tls *t) { return 0; }

#endif
