/* tls_bio.c - the socket BIO under every TLS session: OpenSSL's own socket BIO with one change,
 * writes go through send(MSG_NOSIGNAL). OpenSSL's socket BIO writes with write(2), which raises
 * SIGPIPE when the peer has gone; a library must not ask the application to ignore that signal
 * for the whole process, so the write fails with EPIPE instead, as on plain sockets (wqueue.c).
 * While wsk__tls_writev has more records to write in the same call, they go with MSG_MORE: the
 * kernel then sends the records of one call in full segments, not one segment train each. */
#include "net/tls.h"

#ifdef WSK_WITH_TLS
#include <openssl/bio.h>
#include <pthread.h>
#include <sys/socket.h>

static BIO_METHOD *method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

/* Set by wsk__tls_bio_more around one SSL_write of this thread. */
static _Thread_local int more_follows;

void wsk__tls_bio_more(int more) { more_follows = more; }

static int write_nosignal(BIO *b, const char *data, int len) {
  BIO_clear_retry_flags(b);
  ssize_t w = send((int)BIO_get_fd(b, NULL), data, (size_t)len,
                   MSG_NOSIGNAL | (more_follows ? MSG_MORE : 0));
  if (w < 0 && BIO_sock_should_retry((int)w)) BIO_set_retry_write(b);
  return (int)w;
}

/* Made once and kept until the process exits, like OpenSSL's own method tables: a session may
 * outlive the context it was made from (tls_ctx.c), so no context can own it. */
static void make_method(void) {
  const BIO_METHOD *sock = BIO_s_socket();
  BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                               "wsk socket");
  if (!m) return;
  if (BIO_meth_set_write(m, write_nosignal) != 1 ||
      BIO_meth_set_read(m, BIO_meth_get_read(sock)) != 1 ||
      BIO_meth_set_puts(m, BIO_meth_get_puts(sock)) != 1 ||
      BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(sock)) != 1 ||
      BIO_meth_set_create(m, BIO_meth_get_create(sock)) != 1 ||
      BIO_meth_set_destroy(m, BIO_meth_get_destroy(sock)) != 1) {
    BIO_meth_free(m);
    return;
  }
  method = m;
}

void *wsk__tls_bio_new(int fd) {
  pthread_once(&method_once, make_method);
  BIO *b = method ? BIO_new(method) : NULL;
  if (b) BIO_set_fd(b, fd, BIO_NOCLOSE);
  return b;
}

#endif
