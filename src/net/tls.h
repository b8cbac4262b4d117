/* tls.h - TLS for the net layer, over OpenSSL (libssl): contexts that hold the configuration
 * (tls_ctx.c) and the TLS session of one non-blocking socket (tls.c).
 *
 * A session reads and writes the socket itself (a socket BIO on the descriptor whose writes
 * cannot raise SIGPIPE, tls_bio.c), so the layers above keep their own buffers and queues and
 * only swap recv/sendmsg for wsk__tls_read and wsk__tls_writev. Non-blocking TLS has one twist: a
 * read may have to write first (a TLS 1.3 key update, a handshake message) and a write may have to
 * read. The session notes such a need in `want`, and the caller arms the other direction and
 * retries when it is ready.
 *
 * Built without TLS (cmake -DWSK_TLS=OFF), the context constructors fail with WSK_EUNSUPPORTED and
 * a sentence saying so; no session can then exist and the other functions are never reached. */
#ifndef WSK_NET_TLS_H
#define WSK_NET_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "net/loop_internal.h"

struct wsk__tls_ctx;

/* wsk__tls_writev gathers pieces smaller than this into one record (one full record of plaintext):
 * a write the socket did not take must be repeated with at least the first this many bytes. */
#define WSK_TLS_GATHER (16 * 1024)

/* A server context: certificate chain and key from PEM files (key NULL: it is in cert), and more
 * certificates chosen by SNI from sni[] (ended by a NULL hostname; sni may be NULL). TLS 1.2 and
 * 1.3 (AES-128-GCM preferred), ALPN http/1.1 (a client that offers only other protocols is
 * refused), one session ticket per handshake (no server-side session cache), records read ahead,
 * no renegotiation. Returns 0, or WSK_EINVAL / WSK_ETLS /
 * WSK_ENOMEM / WSK_EUNSUPPORTED with a sentence in errbuf. */
int wsk__tls_server_ctx(const char *cert, const char *key, const struct wsk_tls_cert *sni,
                       struct wsk__tls_ctx **out, char *errbuf, size_t errlen);
/* A client context: the server's certificate is verified against the system's CAs, or against
 * ca_file and/or ca_dir when given; insecure turns verification off. ALPN http/1.1. The session
 * of the last connection is kept for resumption by the next one. Same returns. */
int wsk__tls_client_ctx(const char *ca_file, const char *ca_dir, int insecure,
                       struct wsk__tls_ctx **out, char *errbuf, size_t errlen);
void wsk__tls_ctx_free(struct wsk__tls_ctx *x);
/* A client context: drop the session kept for resumption (the next server is another one). */
void wsk__tls_ctx_forget_session(struct wsk__tls_ctx *x);

/* wsk__tls.want: what the last call waits for, besides the direction it was called for. */
#define WSK_TLS_READ_WANTS_OUT 0x01  /* wsk__tls_read: retry once the socket is writable */
#define WSK_TLS_WRITE_WANTS_IN 0x02  /* wsk__tls_writev: retry once the socket is readable */
#define WSK_TLS_STEP_WANTS_IN 0x04 /* wsk__tls_handshake / wsk__tls_shutdown: retry when readable  \
                                    */
#define WSK_TLS_STEP_WANTS_OUT 0x08  /* ... when writable */
#define WSK_TLS_READ_FAILED 0x10     /* wsk__tls_read returned bytes, then failed: call it again */

struct wsk__tls {
  void *ssl;           /* SSL * */
  uint8_t want;        /* WSK_TLS_* */
  uint8_t shut;        /* our close_notify is sent */
  uint8_t verify_failed; /* the handshake failed on the peer's certificate */
  const char *name;    /* for the layer above: the peer's name in messages (borrowed), or NULL */
  void *owner;         /* for the layer above (the connection) */
  struct wsk__hook kick; /* for the layer above: a read scheduled for the end of the iteration */
};

/* A session on connected socket fd (which stays the caller's). host: the server name a client
 * sends (SNI) and checks the certificate against (a DNS name or an IP literal), NULL for a server.
 * NULL when out of memory. */
struct wsk__tls *wsk__tls_new(struct wsk__tls_ctx *x, int fd, const char *host);
void wsk__tls_free(struct wsk__tls *t);
/* The BIO (BIO *) a session reads and writes fd through: a socket BIO whose writes cannot raise
 * SIGPIPE (tls_bio.c). NULL when out of memory. */
void *wsk__tls_bio_new(int fd);
/* The writes of this thread's next SSL_write are followed by more (send with MSG_MORE), or not. */
void wsk__tls_bio_more(int more);

/* Advance the handshake. Returns 0 once complete, WSK_EAGAIN (want says which direction), or a
 * failure with a sentence in errbuf: WSK_EHTTP when a server received plain HTTP instead of a TLS
 * hello (nothing was written back), WSK_ETLS otherwise (OpenSSL's reason; for a certificate the
 * client refused, the verification error: "certificate has expired", "hostname mismatch", ...). */
int wsk__tls_handshake(struct wsk__tls *t, char *errbuf, size_t errlen);

/* Read up to len bytes of plaintext (as many as the socket and the TLS buffers hold). Returns the
 * count, 0 at the end (close_notify, or the peer closed TCP), WSK_EAGAIN when nothing is ready, or
 * WSK_ETLS / WSK_ESYS with a sentence in errbuf. */
ssize_t wsk__tls_read(struct wsk__tls *t, void *buf, size_t len, char *errbuf, size_t errlen);

/* Write from iov[0..n): the bytes taken (possibly 0 when the socket is full; the caller keeps the
 * rest and calls again later starting from the first byte not taken, which OpenSSL requires when
 * a record could not be sent whole), or -errno for a failed socket, WSK_ETLS for a TLS failure
 * (wsk__tls_error_text says which). Small pieces are gathered into full records. */
ssize_t wsk__tls_writev(struct wsk__tls *t, const struct iovec *iov, int n);

/* Send close_notify once. Returns 0 when sent (or when it cannot be: the session failed),
 * WSK_EAGAIN when the socket is full (want says so; call again). */
int wsk__tls_shutdown(struct wsk__tls *t);

/* Plaintext already decrypted and not read yet, or WSK_TLS_GATHER (at most one record's plaintext)
 * when only records read ahead and not decrypted yet are buffered: epoll sees neither. */
size_t wsk__tls_pending(const struct wsk__tls *t);

/* The text for a negative return of wsk__tls_writev: OpenSSL's reason for WSK_ETLS, else what
 * wsk_strerror says. */
void wsk__tls_error_text(int err, char *out, size_t cap);

#endif
