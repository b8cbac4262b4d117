/* test_tls.c - TLS in the net layer (net/tls.c, net/tls_ctx.c) and its configuration through the
 * public API. Two sessions talk over a non-blocking socketpair with small buffers, so that records
 * do not fit and SSL_write must be retried: a long random stream of "frames" is written the way the
 * connection engine writes (inline first, the rest queued contiguous, refs behind it) and must
 * arrive intact. Certificates are made here, in memory, and written to a temporary file.
 * In a build without TLS, the public API must refuse TLS with WSK_EUNSUPPORTED. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "wsk.h"

#ifdef WSK_WITH_TLS
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "net/tls.h"
#include "net/wqueue.h"

static char dir[] = "/tmp/wsk-test-tls-XXXXXX";

/* A self-signed certificate for `san`, with its key, into path (PEM, key after the chain). */
static void make_cert(const char *path, const char *cn, const char *san) {
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  X509 *x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(x, key, EVP_sha256());
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  PEM_write_X509(f, x);
  PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
  fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
}

static char *path_of(const char *file) {
  static char paths[8][128];
  static int next;
  char *p = paths[next++ % 8];
  snprintf(p, sizeof paths[0], "%s/%s", dir, file);
  return p;
}

struct pair {
  int fd[2];           /* 0: server side, 1: client side */
  struct wsk__tls *s, *c;
};

static void pair_open(struct pair *p, struct wsk__tls_ctx *sctx, struct wsk__tls_ctx *cctx,
                      const char *host, int bufsize) {
  CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p->fd), 0);
  for (int i = 0; i < 2 && bufsize; i++) {
    setsockopt(p->fd[i], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
    setsockopt(p->fd[i], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  }
  p->s = wsk__tls_new(sctx, p->fd[0], NULL);
  p->c = wsk__tls_new(cctx, p->fd[1], host);
  CHECK(p->s && p->c);
}

static void pair_close(struct pair *p) {
  wsk__tls_free(p->s);
  wsk__tls_free(p->c);
  close(p->fd[0]);
  close(p->fd[1]);
}

/* Run both handshakes to their end; returns the client's result (its error text in err). */
static int handshake(struct pair *p, char *err, size_t errlen, int *server_result) {
  int rc = WSK_EAGAIN, rs = WSK_EAGAIN;
  char serr[256];
  for (int i = 0; i < 100 && (rc == WSK_EAGAIN || rs == WSK_EAGAIN); i++) {
    if (rc == WSK_EAGAIN) rc = wsk__tls_handshake(p->c, err, errlen);
    if (rs == WSK_EAGAIN) rs = wsk__tls_handshake(p->s, serr, sizeof serr);
  }
  if (server_result) *server_result = rs;
  return rc;
}

static void test_config_errors(void) {
  struct wsk__tls_ctx *x = (struct wsk__tls_ctx *)1;
  char err[256];
  CHECK_EQ(wsk__tls_server_ctx(path_of("missing.pem"), NULL, NULL, &x, err, sizeof err), WSK_ETLS);
  CHECK(x == NULL);
  CHECK(strstr(err, "TLS certificate") && strstr(err, "missing.pem"));
  /* a key that is not the certificate's */
  CHECK_EQ(wsk__tls_server_ctx(path_of("a.pem"), path_of("b.pem"), NULL, &x, err, sizeof err),
           WSK_ETLS);
  CHECK(strstr(err, "does not belong") != NULL);
  struct wsk_tls_cert bad[] = {{"x.test", NULL, NULL}, {NULL, NULL, NULL}};
  CHECK_EQ(wsk__tls_server_ctx(path_of("a.pem"), NULL, bad, &x, err, sizeof err), WSK_EINVAL);
  CHECK_EQ(wsk__tls_client_ctx(path_of("nope.pem"), NULL, 0, &x, err, sizeof err), WSK_ETLS);
  CHECK(strstr(err, "TLS CA file") && strstr(err, "nope.pem"));

  /* The same through the public API. */
  wsk_loop *loop = wsk_loop_new();
  struct wsk_server_options so;
  wsk_server_options_init(&so);
  so.host = "127.0.0.1";
  so.tls_key = path_of("a.pem");
  wsk_server *s = NULL;
  CHECK_EQ(wsk_server_new(loop, &so, &s, err, sizeof err), WSK_EINVAL);
  CHECK(strstr(err, "need tls_cert") != NULL);
  so.tls_key = NULL;
  so.tls_cert = path_of("missing.pem");
  CHECK_EQ(wsk_server_new(loop, &so, &s, err, sizeof err), WSK_ETLS);
  CHECK(s == NULL);
  so.tls_cert = path_of("a.pem");
  CHECK_EQ(wsk_server_new(loop, &so, &s, err, sizeof err), 0);
  wsk_server_free(s);
  struct wsk_client_options co;
  wsk_client_options_init(&co);
  co.tls_ca_file = path_of("nope.pem");
  wsk_client *cl = NULL;
  CHECK_EQ(wsk_connect(loop, "wss://127.0.0.1:1/", &co, &cl, err, sizeof err), WSK_ETLS);
  CHECK(cl == NULL);
  wsk_loop_free(loop);
}

/* Verification: trusted and matching, wrong name, wrong address, untrusted, insecure. */
static void test_verify(struct wsk__tls_ctx *sctx, struct wsk__tls_ctx *trust) {
  static const struct {
    const char *host;
    int insecure, system, ok;
    const char *why;
  } cases[] = {
      {"localhost", 0, 0, 1, NULL},
      {"127.0.0.1", 0, 0, 1, NULL},
      {"wrong.example", 0, 0, 0, "certificate verify failed: hostname mismatch"},
      {"127.0.0.2", 0, 0, 0, "certificate verify failed: IP address mismatch"},
      {"localhost", 0, 1, 0, "certificate verify failed: self-signed certificate"},
      {"wrong.example", 1, 0, 1, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct wsk__tls_ctx *cctx = trust;
    char err[256] = "";
    if (cases[i].insecure || cases[i].system)
      CHECK_EQ(wsk__tls_client_ctx(NULL, NULL, cases[i].insecure, &cctx, err, sizeof err), 0);
    struct pair p;
    pair_open(&p, sctx, cctx, cases[i].host, 0);
    int r = handshake(&p, err, sizeof err, NULL);
    if (cases[i].ok) {
      CHECK_EQ(r, 0);
    } else {
      CHECK_EQ(r, WSK_ETLS);
      CHECK_STR(err, cases[i].why);
    }
    pair_close(&p);
    if (cctx != trust) wsk__tls_ctx_free(cctx);
  }
}

/* SNI picks the certificate of the name asked for; other names get the default one. */
static void test_sni(struct wsk__tls_ctx *trust_both) {
  struct wsk_tls_cert sni[] = {{"*.other.test", path_of("b.pem"), NULL}, {NULL, NULL, NULL}};
  struct wsk__tls_ctx *sctx;
  char err[256];
  CHECK_EQ(wsk__tls_server_ctx(path_of("a.pem"), NULL, sni, &sctx, err, sizeof err), 0);
  const char *hosts[] = {"api.other.test", "localhost", "other.test"};
  const int ok[] = {1, 1, 0}; /* a wildcard covers one label, not the bare domain */
  for (int i = 0; i < 3; i++) {
    struct pair p;
    pair_open(&p, sctx, trust_both, hosts[i], 0);
    CHECK_EQ(handshake(&p, err, sizeof err, NULL), ok[i] ? 0 : WSK_ETLS);
    pair_close(&p);
  }
  wsk__tls_ctx_free(sctx);
}

static void test_plain_http(struct wsk__tls_ctx *sctx, struct wsk__tls_ctx *cctx) {
  struct pair p;
  pair_open(&p, sctx, cctx, "localhost", 0);
  static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK_EQ(write(p.fd[1], req, sizeof req - 1), (ssize_t)(sizeof req - 1));
  char err[256];
  CHECK_EQ(wsk__tls_handshake(p.s, err, sizeof err), WSK_EHTTP);
  char buf[16];
  CHECK_EQ(read(p.fd[1], buf, sizeof buf), -1); /* nothing was written back */
  CHECK_EQ(errno, EAGAIN);
  pair_close(&p);
}

/* A write to a peer that has gone fails with -EPIPE and raises no SIGPIPE (main restored its
 * default action, which would end this program): the library leaves that signal to the
 * application, so OpenSSL must not write with write(2). */
static void test_peer_gone(struct wsk__tls_ctx *sctx, struct wsk__tls_ctx *cctx) {
  struct pair p;
  pair_open(&p, sctx, cctx, "localhost", 0);
  char err[256];
  CHECK_EQ(handshake(&p, err, sizeof err, NULL), 0);
  close(p.fd[1]);
  p.fd[1] = -1;
  static const uint8_t data[100];
  struct iovec iov = {(void *)data, sizeof data};
  ssize_t w = wsk__tls_writev(p.s, &iov, 1);
  CHECK_EQ(w, -EPIPE);
  wsk__tls_error_text((int)w, err, sizeof err);
  CHECK_STR(err, strerror(EPIPE));
  pair_close(&p);
}

/* The sender side of the stream test: a queue of contiguous chunks, as the connection keeps. */
struct chunk {
  const uint8_t *p;
  size_t len;
};
#define MAXQ 4096

static size_t flush_queue(struct wsk__tls *t, struct chunk *q, size_t *nq, size_t *blocked) {
  struct iovec iov[64];
  int n = 0;
  size_t want = 0;
  for (size_t i = 0; i < *nq && n < 64; i++, n++) {
    iov[n].iov_base = (void *)q[i].p;
    iov[n].iov_len = q[i].len;
    want += q[i].len;
  }
  ssize_t w = wsk__tls_writev(t, iov, n);
  CHECK(w >= 0);
  if (w < 0) return 0;
  if ((size_t)w < want) (*blocked)++;
  size_t left = (size_t)w, k = 0;
  while (left && left >= q[k].len) left -= q[k++].len;
  if (left) {
    q[k].p += left;
    q[k].len -= left;
  }
  memmove(q, q + k, (*nq - k) * sizeof *q);
  *nq -= k;
  return (size_t)w;
}

static void test_stream(struct wsk__tls_ctx *sctx, struct wsk__tls_ctx *cctx) {
  enum { TOTAL = 6 * 1024 * 1024 };
  uint8_t *stream = malloc(TOTAL), *got = malloc(TOTAL), *copy = malloc(TOTAL);
  for (size_t i = 0; i < TOTAL; i++) stream[i] = (uint8_t)(i * 2654435761u >> 13);
  struct pair p;
  pair_open(&p, sctx, cctx, "localhost", 8192);
  char err[256];
  CHECK_EQ(handshake(&p, err, sizeof err, NULL), 0);
  static struct chunk q[MAXQ];
  size_t nq = 0, sent = 0, queued_to = 0, recvd = 0, blocked = 0, saw_pending = 0;
  unsigned seed = 12345;
  int rounds = 0;
  while (recvd < TOTAL && rounds++ < 200000) {
    /* The next "frame": a small header and a payload of 0..64 KiB (sometimes much more). */
    if (queued_to < TOTAL && nq < MAXQ - 2) {
      seed = seed * 1103515245u + 12345u;
      size_t hl = 2 + (seed >> 8) % 13;
      size_t pl = (seed >> 12) % 4 == 0 ? (seed >> 4) % (300 * 1024) : (seed >> 16) % 65536;
      if (hl > TOTAL - queued_to) hl = TOTAL - queued_to;
      if (pl > TOTAL - queued_to - hl) pl = TOTAL - queued_to - hl;
      const uint8_t *h = stream + queued_to, *pay = h + hl;
      if (nq == 0) { /* inline: header and payload in one call, the rest queued as one copy */
        struct iovec iov[2] = {{(void *)h, hl}, {(void *)pay, pl}};
        ssize_t w = wsk__tls_writev(p.c, iov, 2);
        CHECK(w >= 0);
        if (w >= 0 && (size_t)w < hl + pl) {
          blocked++;
          memcpy(copy + queued_to + w, h + w, hl + pl - (size_t)w);
          q[nq++] = (struct chunk){copy + queued_to + w, hl + pl - (size_t)w};
        }
        if (w > 0) sent += (size_t)w;
      } else { /* behind a queue: the header copied, the payload by reference */
        q[nq++] = (struct chunk){h, hl};
        if (pl) q[nq++] = (struct chunk){pay, pl};
      }
      queued_to += hl + pl;
    }
    if (nq) sent += flush_queue(p.c, q, &nq, &blocked);
    /* The reader takes a random amount, sometimes tiny, so that decrypted bytes stay pending. */
    seed = seed * 1103515245u + 12345u;
    size_t room = (seed >> 10) % 3 == 0 ? 1 + (seed >> 14) % 100 : 256 * 1024;
    if (room > TOTAL - recvd) room = TOTAL - recvd;
    if (!room) continue;
    ssize_t r = wsk__tls_read(p.s, got + recvd, room, err, sizeof err);
    CHECK(r > 0 || r == WSK_EAGAIN);
    if (r > 0) recvd += (size_t)r;
    if (wsk__tls_pending(p.s)) saw_pending++;
  }
  CHECK_EQ(recvd, TOTAL);
  CHECK_EQ(sent, TOTAL);
  CHECK(memcmp(got, stream, TOTAL) == 0);
  CHECK(blocked > 10); /* records really had to be retried */
  CHECK(saw_pending > 0);
  /* close_notify: the reader sees the end. */
  int sr = WSK_EAGAIN;
  for (int i = 0; i < 100 && sr == WSK_EAGAIN; i++) sr = wsk__tls_shutdown(p.c);
  CHECK_EQ(sr, 0);
  CHECK_EQ(wsk__tls_read(p.s, got, 16, err, sizeof err), 0);
  pair_close(&p);
  free(stream);
  free(got);
  free(copy);
}

/* Records of the queue test: a type byte, a 4-byte length, the payload. */
static size_t record(uint8_t *out, uint8_t type, uint32_t seq, size_t len) {
  out[0] = type;
  for (int i = 0; i < 4; i++) out[1 + i] = (uint8_t)(len >> (24 - 8 * i));
  for (size_t i = 0; i < len; i++) out[5 + i] = (uint8_t)(i < 4 ? seq >> (24 - 8 * i) : seq + i);
  return 5 + len;
}

static uint32_t record_seq(const uint8_t *r) {
  return (uint32_t)r[5] << 24 | (uint32_t)r[6] << 16 | (uint32_t)r[7] << 8 | r[8];
}

/* The connection's write queue over TLS through small socket buffers, so that SSL_write has to be
 * retried: data records, file chunks (read in slices) and pongs replaced while queued. A pong that
 * was part of a write OpenSSL must retry is never replaced: the stream parses, every data and file
 * record arrives in order, pongs in increasing order ending with the last one queued. */
static void test_queue(struct wsk__tls_ctx *sctx, struct wsk__tls_ctx *cctx) {
  enum { ROUNDS = 6000, FILE_REC = 5 + 20000, CAP = 16 << 20 };
  static uint8_t got[CAP];
  uint8_t rec[5 + 4096] = {0};
  char name[] = "/tmp/wsk-test-tls-queue-XXXXXX";
  int file = mkstemp(name);
  CHECK(file >= 0);
  unlink(name);
  uint8_t *frec = malloc(FILE_REC);
  record(frec, 'F', 7, FILE_REC - 5);
  CHECK_EQ(write(file, frec, FILE_REC), FILE_REC);
  struct pair p;
  pair_open(&p, sctx, cctx, "localhost", 8192);
  char err[256];
  CHECK_EQ(handshake(&p, err, sizeof err, NULL), 0);
  struct wsk__wqueue q = {0};
  size_t recvd = 0, blocked = 0;
  uint32_t data = 0, pongs = 0;
  unsigned seed = 777;
  for (int round = 0; (round < ROUNDS || q.head) && round < 10 * ROUNDS; round++) {
    seed = seed * 1103515245u + 12345u;
    if (round < ROUNDS) {
      unsigned kind = (seed >> 8) % 64;
      if (kind < 32) {
        size_t n = record(rec, 'P', pongs++, 4 + (seed >> 12) % 122);
        struct iovec v = {rec, n};
        CHECK_EQ(wsk__wq_push_latest(&q, &v, 1, 5 + 125), 0);
      } else if (kind < 63) {
        size_t n = record(rec, 'D', data++, 4 + (seed >> 12) % 4000);
        struct iovec v = {rec, n};
        CHECK_EQ(wsk__wq_push_copy(&q, &v, 1), 0);
      } else {
        wsk__wq_push(&q, wsk__chunk_file(dup(file), 0, FILE_REC));
      }
    }
    size_t before = q.bytes;
    ssize_t w = wsk__wq_flush(&q, p.fd[1], p.c);
    CHECK(w >= 0);
    if (w < 0) break;
    if ((size_t)w < before) blocked++;
    size_t room = (seed >> 20) % 2 ? 1 + (seed >> 14) % 3000 : 64 * 1024;
    if (room > CAP - recvd) room = CAP - recvd;
    ssize_t r = room ? wsk__tls_read(p.s, got + recvd, room, err, sizeof err) : 0;
    CHECK(r > 0 || r == WSK_EAGAIN || !room);
    if (r > 0) recvd += (size_t)r;
  }
  for (int i = 0; i < 1000; i++) { /* what is still in the socket */
    ssize_t r = wsk__tls_read(p.s, got + recvd, CAP - recvd, err, sizeof err);
    if (r > 0) recvd += (size_t)r;
  }
  uint32_t next_data = 0, files = 0;
  long last_pong = -1;
  size_t off = 0;
  while (off + 9 <= recvd) {
    size_t len = (size_t)got[off + 1] << 24 | (size_t)got[off + 2] << 16 |
                 (size_t)got[off + 3] << 8 | got[off + 4];
    if (off + 5 + len > recvd) break;
    uint8_t type = got[off];
    record(rec, type, record_seq(got + off), len < 4096 ? len : 0);
    if (type == 'F') {
      CHECK(len == FILE_REC - 5 && memcmp(got + off, frec, FILE_REC) == 0);
      files++;
    } else {
      CHECK((type == 'D' || type == 'P') && len < 4096 && memcmp(got + off, rec, 5 + len) == 0);
      if (type == 'D') CHECK_EQ(record_seq(got + off), next_data++);
      if (type == 'P') CHECK((long)record_seq(got + off) > last_pong);
      if (type == 'P') last_pong = (long)record_seq(got + off);
    }
    if (check_failures) break;
    off += 5 + len;
  }
  CHECK_EQ(off, recvd);
  CHECK_EQ(next_data, data);
  CHECK(files > 0);
  CHECK_EQ(last_pong, (long)pongs - 1);
  CHECK(blocked > 100);
  wsk__wq_clear(&q);
  pair_close(&p);
  close(file);
  free(frec);
}

int main(void) {
  signal(SIGPIPE, SIG_DFL);
  CHECK(mkdtemp(dir) != NULL);
  make_cert(path_of("a.pem"), "localhost", "DNS:localhost,IP:127.0.0.1");
  make_cert(path_of("b.pem"), "other.test", "DNS:*.other.test");
  FILE *both = fopen(path_of("both.pem"), "w"), *a = fopen(path_of("a.pem"), "r"),
       *b = fopen(path_of("b.pem"), "r");
  char line[256];
  while (fgets(line, sizeof line, a)) fputs(line, both);
  while (fgets(line, sizeof line, b)) fputs(line, both);
  fclose(a);
  fclose(b);
  fclose(both);

  test_config_errors();
  struct wsk__tls_ctx *sctx, *trust, *trust_both;
  char err[256];
  CHECK_EQ(wsk__tls_server_ctx(path_of("a.pem"), NULL, NULL, &sctx, err, sizeof err), 0);
  CHECK_EQ(wsk__tls_client_ctx(path_of("a.pem"), NULL, 0, &trust, err, sizeof err), 0);
  CHECK_EQ(wsk__tls_client_ctx(path_of("both.pem"), NULL, 0, &trust_both, err, sizeof err), 0);
  test_verify(sctx, trust);
  test_sni(trust_both);
  test_plain_http(sctx, trust);
  test_peer_gone(sctx, trust);
  test_stream(sctx, trust);
  test_queue(sctx, trust);
  wsk__tls_ctx_free(sctx);
  wsk__tls_ctx_free(trust);
  wsk__tls_ctx_free(trust_both);
  const char *files[] = {"a.pem", "b.pem", "both.pem"};
  for (int i = 0; i < 3; i++) unlink(path_of(files[i]));
  rmdir(dir);
  return check_report();
}

#else /* built without TLS: the public API refuses it, and says why */

int main(void) {
  wsk_loop *loop = wsk_loop_new();
  char err[256];
  struct wsk_server_options so;
  wsk_server_options_init(&so);
  so.host = "127.0.0.1";
  so.tls_cert = "/nonexistent/cert.pem";
  wsk_server *s = (wsk_server *)1;
  CHECK_EQ(wsk_server_new(loop, &so, &s, err, sizeof err), WSK_EUNSUPPORTED);
  CHECK(s == NULL);
  CHECK(strstr(err, "built without") != NULL);
  wsk_client *cl = (wsk_client *)1;
  CHECK_EQ(wsk_connect(loop, "wss://127.0.0.1:1/", NULL, &cl, err, sizeof err), WSK_EUNSUPPORTED);
  CHECK(cl == NULL);
  CHECK(strstr(err, "wss://") && strstr(err, "built without"));
  CHECK_EQ(wsk_connect(loop, "ws://127.0.0.1:1/", NULL, &cl, err, sizeof err), 0);
  wsk_client_free(cl);
  wsk_loop_free(loop);
  return check_report();
}

#endif
