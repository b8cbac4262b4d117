/* bench_net.h - the client side of `wsk bench`: one epoll loop driving many WebSocket client
 * connections with as few system calls as possible (one recv and at most one send per readiness
 * event; every frame produced while handling an event goes out in that one send).
 *
 * It speaks the protocol through wsk.h's sans-I/O functions only (handshake request and check,
 * frame headers, masking, the message parser). The modes (bench_echo.c, bench_connect.c,
 * bench_idle.c) embed struct bench_conn at the start of their own connection struct and react to
 * the callbacks in struct bench_ops. */
#ifndef WSK_TOOLS_BENCH_NET_H
#define WSK_TOOLS_BENCH_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wsk.h"

/* Where to connect: from a ws:// or wss:// URL, resolved once before the run. */
struct bench_target {
  struct sockaddr_storage addr;
  socklen_t addr_len;
  int tls;             /* wss:// */
  char host[300];      /* the host alone: SNI and the name the certificate must carry */
  char host_port[300]; /* Host header value */
  char path[1024];     /* request target, "/" if the URL has none */
};

/* How wss:// connections check the server and whether they resume TLS sessions. */
struct bench_tls_opts {
  const char *ca;  /* PEM file of the CAs to trust, NULL: the system's */
  int insecure;    /* no certificate check at all */
  int resume;      /* each connection offers the session its previous connection got */
};

/* Parse and resolve "ws[s]://host[:port][/path]". Returns 0, or -1 with a sentence in err. */
int bench_target_parse(const char *url, struct bench_target *t, char *err, size_t errlen);

/* Mask keys and handshake nonces come from splitmix64 seeded from getrandom(): a benchmark
 * client must be cheap and needs no unpredictability; the library's client uses a CSPRNG. */
struct bench_rng {
  uint64_t s;
};

static inline uint64_t bench_rng_next(struct bench_rng *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

enum bench_conn_state {
  BENCH_NO_SOCKET = 0, /* no socket */
  BENCH_CONNECTING,  /* TCP connect in progress */
  BENCH_TLS,         /* wss://: TLS handshake in progress */
  BENCH_HANDSHAKE,   /* request sent, waiting for the 101 */
  BENCH_OPEN,
  BENCH_CLOSING,     /* we sent a close frame and got the server's: waiting for its TCP close */
};

struct bench_conn {
  int fd;
  uint8_t state;         /* enum bench_conn_state */
  uint8_t close_sent;
  uint16_t close_code;   /* code of the server's close frame */
  uint16_t carry_len;
  uint8_t tls_want_out;  /* wss://: the TLS session waits for the socket to become writable */
  uint32_t events;       /* epoll interest currently registered */
  uint32_t id;           /* index in the mode's array */
  uint64_t dial_ns;      /* when the TCP connect started */
  const char *path;      /* request target, NULL = the URL's (fanout: one room per connection) */
  const struct bench_target *target; /* where to connect, NULL = the net's (fanout: several) */
  void *ssl;             /* wss://: the TLS session (SSL *) of the current socket */
  void *session;         /* wss:// with resume: the session to offer next time (SSL_SESSION *) */
  struct wsk_parser parser;
  uint8_t *out;          /* frames not yet written: out[out_off..out_len) */
  size_t out_off, out_len, out_cap;
  char *head;            /* the handshake response while it arrives */
  size_t head_len;
  char key[WSK_KEY_LEN + 1];
  /* Bytes the parser left for the next read: an incomplete frame header or control frame. */
  uint8_t carry[WSK_MAX_FRAME_HEADER + WSK_MAX_CONTROL_PAYLOAD];
};

struct bench_net;

/* What a mode does when something happens on one of its connections. on_open and on_data may
 * queue frames (bench_conn_send*), which go out when the event has been handled; they must not
 * close the connection. on_close and on_fail are called after the socket was closed and may dial
 * the same struct again. */
struct bench_ops {
  void (*on_open)(struct bench_net *n, struct bench_conn *c);
  void (*on_data)(struct bench_net *n, struct bench_conn *c, const struct wsk_event *ev);
  /* The close handshake completed (or the server started it; it was answered). */
  void (*on_close)(struct bench_net *n, struct bench_conn *c, unsigned code);
  void (*on_fail)(struct bench_net *n, struct bench_conn *c, const char *why);
  /* Optional: called after the events of one wait were handled, for a mode whose callbacks queue
   * frames on connections other than the one handled (fanout), to send them in one go. */
  void (*after_poll)(struct bench_net *n);
};

struct bench_net {
  int epfd;
  const struct bench_target *target;
  const struct bench_ops *ops;
  void *mode;         /* the mode's own state, for its callbacks */
  struct bench_rng rng;
  uint64_t now_ns;    /* updated before each event is handled */
  uint8_t *rbuf;      /* shared receive buffer */
  size_t rcap;
  void *tls;          /* wss://: the client context (SSL_CTX *), NULL for ws:// */
  uint64_t tls_handshakes, tls_resumed; /* TLS handshakes completed, and how many resumed */
  char tls_version[64]; /* protocol and cipher of the last TLS handshake */
};

/* Returns 0, or -1 with a sentence in err. tls: for wss:// targets. */
int bench_net_init(struct bench_net *n, const struct bench_target *t, const struct bench_ops *ops,
                   void *mode, const struct bench_tls_opts *tls, char *err, size_t errlen);
void bench_net_free(struct bench_net *n);
/* Wait up to timeout_ms for events and handle them. Returns 0, or -1 if epoll_wait failed. */
int bench_net_poll(struct bench_net *n, int timeout_ms);

/* Start a connection on c (whose previous socket, if any, is closed). on_open or on_fail follows.
 * Returns 0, or a negative errno if the connect failed at once (no callback then). */
int bench_conn_dial(struct bench_net *n, struct bench_conn *c);
/* Queue one masked frame whose payload is a[0..alen) followed by b[0..blen).
 * Returns 0 or WSK_ENOMEM. */
int bench_conn_send(struct bench_net *n, struct bench_conn *c, int opcode, const void *a,
                    size_t alen, const void *b, size_t blen);
/* Queue a close frame with code (1000 for a normal close); the server's answer ends in on_close. */
int bench_conn_send_close(struct bench_net *n, struct bench_conn *c, unsigned code);
/* Write what is queued. Returns 0, or -1 if the connection failed (on_fail was called). */
int bench_conn_flush(struct bench_net *n, struct bench_conn *c);
/* Make room for `bytes` more queued bytes up front. Returns 0 or WSK_ENOMEM. */
int bench_conn_reserve(struct bench_conn *c, size_t bytes);
/* Close the socket without callbacks: after a best-effort close frame if the connection is open. */
void bench_conn_shutdown(struct bench_net *n, struct bench_conn *c);
/* Free the buffers of a connection (its socket must be closed). */
void bench_conn_release(struct bench_conn *c);

#endif
