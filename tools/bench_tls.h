/* bench_tls.h - wss:// for `wsk bench`: OpenSSL client sessions under bench_net.c's connections,
 * and the byte I/O both kinds of connection go through (plain: recv/send; TLS: SSL_read/SSL_write,
 * with the same return convention, so bench_net.c handles both alike). */
#ifndef WSK_TOOLS_BENCH_TLS_H
#define WSK_TOOLS_BENCH_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "bench_net.h"

/* The client context of n (n->tls), for wss:// targets. Returns 0, or -1 with a sentence in err
 * (also when wsk was built without TLS). */
int bench_tls_init(struct bench_net *n, const struct bench_tls_opts *o, char *err, size_t errlen);
void bench_tls_free(struct bench_net *n);

/* A TLS session on c's connected socket (SNI and certificate name: host). Returns 0 or -1. */
int bench_tls_start(struct bench_net *n, struct bench_conn *c, const char *host);
/* Advance the handshake: 1 when complete, 0 to wait (c->tls_want_out says for which direction),
 * -1 with a sentence in why. */
int bench_tls_handshake(struct bench_net *n, struct bench_conn *c, char *why, size_t len);
/* End c's session (its socket is closed by the caller); the session to resume stays. */
void bench_tls_end(struct bench_conn *c);
/* Drop the session kept for resumption. */
void bench_tls_release(struct bench_conn *c);

/* Like recv(2) and send(2) on c: a count, 0 at the end of input, or -1 with errno (EAGAIN: wait;
 * EPROTO: a TLS failure). A TLS read returns all that is decrypted or buffered, up to len. */
ssize_t bench_io_recv(struct bench_conn *c, void *buf, size_t len);
ssize_t bench_io_send(struct bench_conn *c, const void *buf, size_t len);

/* "kTLS: ..." for the report: whether this kernel offers the `tls` upper-layer protocol. */
const char *bench_tls_kernel(void);

#endif
