/* client_internal.h - the client side: a wsk_client owns a connection group (one attempt at a
 * time, plus a previous connection that may still be lingering) and makes connection attempts:
 *
 *   url.c        ws:// URL -> host, port, Host header, request target
 *   resolve.c    host name -> addresses, on getaddrinfo_a's thread, completion through an eventfd
 *   dial.c       addresses -> one connected socket, racing them 250 ms apart (happy eyeballs lite)
 *   handshake.c  upgrade request out, 101 in and checked, response headers for on_open
 *   client.c     attempts, timeouts, callbacks, the public calls
 *   retry.c      reconnection: backoff with jitter, messages queued while disconnected
 *   sync.c       the blocking layer on top of all this
 *
 * An attempt is a wsk_conn created without a socket (state CONNECTING) as soon as it starts, so
 * that every failure, DNS included, can be reported on it; the dialer's winning socket is then
 * attached to it, and from the HTTP state on the connection engine drives it.
 */
#ifndef WSK_CLIENT_INTERNAL_H
#define WSK_CLIENT_INTERNAL_H

#include <netdb.h>

#include "conn/conn_internal.h"
#include "net/tls.h"

/* ---- url.c ----------------------------------------------------------------------------------- */
struct wsk__url {
  uint8_t secure;    /* wss:// */
  uint8_t literal;   /* host is an IPv4 or IPv6 literal: no DNS */
  int port;
  char *host;        /* without brackets, zone decoded ("fe80::1%eth0") */
  char *host_header; /* "host", "host:port", "[v6]:port" (port only when not the default) */
  char *target;      /* path and query, starting with '/' */
  char *where;       /* "host:port" or "[v6]:port" for messages */
};

/* Parse a ws:// or wss:// URL. Returns 0, or WSK_EINVAL / WSK_ENOMEM with a sentence in errbuf.
 * wss:// parses (url->secure); refusing it is the caller's business. */
int wsk__url_parse(const char *text, struct wsk__url *url, char *errbuf, size_t errlen);
void wsk__url_free(struct wsk__url *url);

/* ---- resolve.c ------------------------------------------------------------------------------- */
struct wsk__resolve;
/* done(arg, res, gai_err) runs on the loop: res (the caller frees it with freeaddrinfo) or NULL
 * with a getaddrinfo error code. */
typedef void (*wsk__resolve_fn)(void *arg, struct addrinfo *res, int gai_err);
/* Start resolving host for a TCP connection to port. NULL with errno set when it cannot start. */
struct wsk__resolve *wsk__resolve_start(wsk_loop *loop, const char *host, int port,
                                      wsk__resolve_fn done, void *arg);
/* Forget a resolution in progress: done will not be called. */
void wsk__resolve_cancel(struct wsk__resolve *r);

/* ---- dial.c ---------------------------------------------------------------------------------- */
#define WSK_DIAL_STAGGER_MS 250

struct wsk__dial;
/* done(arg, fd, err, message) runs on the loop once: a connected non-blocking socket (fd >= 0), or
 * fd -1 with WSK_EDNS / WSK_ESYS / WSK_ENOMEM and a sentence. The dial is already freed. */
typedef void (*wsk__dial_fn)(void *arg, int fd, int err, const char *message);
/* Resolve url's host (unless a literal) and connect to its addresses in turn: the next address
 * starts when one fails or after WSK_DIAL_STAGGER_MS without an answer; the first to connect wins.
 * Never calls done before returning. NULL when out of memory. */
struct wsk__dial *wsk__dial_start(wsk_loop *loop, const struct wsk__url *url, wsk__dial_fn done,
                                void *arg);
/* The same for addresses known already: list is taken over (freed with freeaddrinfo). */
struct wsk__dial *wsk__dial_addrs(wsk_loop *loop, const struct wsk__url *url, struct addrinfo *list,
                                wsk__dial_fn done, void *arg);
/* Abandon: close every socket, done is not called. */
void wsk__dial_cancel(struct wsk__dial *d);

/* ---- retry.c --------------------------------------------------------------------------------- */
/* Delay before reconnection attempt `attempt` (1-based); r in [0, 1) draws the jitter. */
unsigned wsk__backoff_delay(const struct wsk_backoff *b, unsigned attempt, double r);

/* Messages given to wsk_client_send while no connection is open. */
struct wsk__queued {
  struct wsk__queued *next;
  size_t len;
  uint8_t opcode;
  uint8_t data[];
};
struct wsk__sendq {
  struct wsk__queued *head, *tail;
  size_t bytes;
};
/* Append a copy. Returns 0, WSK_EBACKPRESSURE (over limit) or WSK_ENOMEM. */
int wsk__sendq_push(struct wsk__sendq *q, size_t limit, int opcode, const void *data, size_t len);
/* Send queued messages on c in order while c takes them. */
void wsk__sendq_flush(struct wsk__sendq *q, wsk_conn *c);
void wsk__sendq_clear(struct wsk__sendq *q);

/* ---- client.c / handshake.c ------------------------------------------------------------------ */
/* What one attempt knows besides its wsk_conn. */
struct wsk__attempt {
  char key[WSK_KEY_LEN + 1];
  uint8_t opened;         /* the WebSocket opened */
  uint8_t error_reported; /* on_error was called for this attempt */
  uint8_t aborted;        /* wsk_client_close abandoned it: on_close without on_error */
  int status;             /* a refused upgrade's HTTP status, 0 until one arrives */
  char *reason;           /* its reason phrase */
  long long body_left;    /* body bytes still expected (-1: until the server closes) */
  char body[200];         /* the start of its body, for the error message */
  size_t body_len;
  /* The 101 being opened: its headers, NUL-terminated in place, for wsk_conn_response_header. */
  const struct wsk_header *headers;
  size_t num_headers;
};

struct wsk_client {
  struct wsk__group group; /* first: the group's owner */
  wsk_loop *loop;
  struct wsk_client_options opt; /* as given; headers, protocols, origin copied below */
  struct wsk_callbacks user_cb;
  struct wsk__url url;
  struct wsk__tls_ctx *tls;       /* wss://: the TLS context of every attempt */
  char *offer;            /* "a, b": the subprotocols offered, or NULL */
  char *extra;            /* the extra request header lines, or NULL */
  char *origin;
  char *pmd_offer;        /* the permessage-deflate offer, or NULL when opt.deflate is off */
  wsk_conn *conn;         /* the current attempt or connection, or NULL */
  struct wsk__dial *dial;  /* the current attempt's dialer, or NULL */
  struct wsk__attempt att;
  wsk_timer *retry;       /* the next attempt's delay */
  struct wsk__sendq queue;
  unsigned attempt;       /* reconnection attempts since the last open */
  unsigned delay;         /* the next attempt's delay, as the policy left it */
  char *ca_file, *ca_dir; /* the options', for a first wss:// URL given to wsk_client_set_url */
  /* wsk_client_set_url / wsk_client_set_headers: taken over when the next attempt starts. */
  struct wsk__url next_url; /* (next_url.host NULL: none) */
  char *next_extra;
  uint8_t has_next_extra;
  struct wsk_client_error err; /* why the last attempt or connection ended */
  char err_message[512];
  uint8_t stopped;        /* wsk_client_close, given up, or no reconnection after the end */
  uint8_t retrying;       /* another attempt will be made */
  uint8_t freeing;
  struct wsk__hook free_hook;
};

static inline wsk_client *wsk__client_of(const wsk_conn *c) { return c->group->owner; }

/* handshake.c */
/* The socket is connected: send the upgrade request (state HTTP, handshake timeout running). */
int wsk__handshake_send(wsk_client *cl, wsk_conn *c);
/* The group's HTTP-phase input: the server's answer. */
size_t wsk__client_http_input(wsk_conn *c, uint8_t *buf, size_t len);
/* The sentence for a refused upgrade (status, reason, body) into out. */
void wsk__handshake_refusal(const struct wsk__attempt *a, char *out, size_t cap);
void wsk__attempt_reset(struct wsk__attempt *a);

/* client.c */
/* The request header lines ("Name: value\r\n"...) of a NULL-terminated list into *out (NULL for
 * none). Returns 0, or WSK_EINVAL / WSK_ENOMEM with a sentence in errbuf. */
int wsk__client_header_lines(const char *const *headers, char **out, char *errbuf, size_t errlen);
/* Fail the current attempt before it opened: on_error(err, message), on_close(1006). */
void wsk__client_fail(wsk_client *cl, int err, const char *message);
/* status.c: the WSK_CLIENT_ERR_* category of on_error's err for connection c. */
int wsk__client_category(const wsk_conn *c, int err);
/* status.c: note why the current attempt or connection ends (cl->err; close_code 0). */
void wsk__client_note(wsk_client *cl, int category, int code, const char *message);
/* next.c: an attempt starts: take over the URL and headers set for it. */
void wsk__client_take_next(wsk_client *cl);
/* retry.c: an attempt or connection ended (cl->err says why): ask the policy whether another
 * attempt follows (cl->retrying) and after which delay (cl->delay). */
void wsk__client_decide(wsk_client *cl);
/* retry.c: start the delay before the next attempt, and tell on_reconnect. */
void wsk__client_schedule(wsk_client *cl);
/* client.c: start an attempt now. */
void wsk__client_attempt(wsk_client *cl);

#endif
