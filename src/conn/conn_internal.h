/* conn_internal.h - the WebSocket connection engine shared by the server and the client.
 *
 * A connection is one small slab object (96 bytes on x86-64) that lives through every phase of a
 * socket: connecting (client), HTTP (the server reads requests, the client reads the 101), an
 * upgrade deferred by the application (server), the open WebSocket, the closing handshake, and a
 * final linger that flushes, sends FIN and waits for the peer's FIN.
 *
 * Who owns what, and when it is freed (the rule every function here obeys):
 * - Small fixed-size state lives in the wsk_conn itself, so that bytes split anywhere by the peer
 *   need no heap: the parser (frame header fields, the message in progress and its opcode, the
 *   close state) and `spill`, the bytes of a frame header cut by the end of a read.
 * - Everything a connection needs only now and then lives in `ext`, allocated on first use: unsent
 *   bytes (the write queue), input that cannot be consumed yet (a partial control frame, an HTTP
 *   head or body, input held during a deferred upgrade), a message being reassembled, the
 *   subprotocol, the peer address text, a deferred upgrade, the TLS session, the deflate codec.
 * - Code anywhere (process(), a flush, a callback, a send from another connection) only ever marks
 *   parts of `ext` as no longer needed (in_len = 0, a queue that drained) and calls
 *   wsk__conn_release_later(). Buffers of `ext` and `ext` itself are freed at exactly one point:
 *   the end of the loop iteration (the ext's hook), after every handler and callback has returned,
 *   so that no caller up the stack ever holds a pointer into freed state. A destroyed connection
 *   hands its `ext` to the loop's deferred free instead (free_ext), also at the end of the
 *   iteration. So an idle WebSocket owns nothing but its slab slot and its group slot.
 *
 * Connections belong to a group: the server is one group; each client connection is a group of
 * one. The group holds the callbacks, the limits and timeouts, the list of connections and the
 * timers that check per-connection deadlines and send keepalive pings.
 */
#ifndef WSK_CONN_INTERNAL_H
#define WSK_CONN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "net/loop_internal.h"
#include "net/wqueue.h"
#include "wsk.h"

enum wsk__conn_state {
  WSK_CS_CONNECTING = 0, /* client: TCP connect in progress (ops->on_connected when writable) */
  WSK_CS_TLS,            /* the TLS handshake is in progress (tls.c), then HTTP */
  WSK_CS_HTTP,           /* an HTTP head is being read; input goes to ops->http_input */
  WSK_CS_UPGRADING,      /* server: the application deferred the upgrade; input is held */
  WSK_CS_OPEN,           /* WebSocket open */
  WSK_CS_CLOSING,        /* we sent a close frame and wait for the peer's */
  WSK_CS_LINGER,         /* exchange over: flush what is queued, then FIN, then wait for EOF */
  WSK_CS_DEAD,           /* socket closed; the memory goes back to the slab after this iteration */
};

/* Flags (conn->io.owner_b). */
#define WSK_CF_OPENED 0x01     /* counted in group->n_open (the WebSocket opened) */
#define WSK_CF_REPORT 0x02     /* on_close is owed (cleared when it is called) */
#define WSK_CF_CLOSE_SENT 0x04 /* our close frame is queued or sent */
#define WSK_CF_NEED_DRAIN 0x08 /* a send returned WSK_SEND_QUEUED_HIGH: call on_drain */
#define WSK_CF_PING_OUT 0x10   /* keepalive ping sent, nothing received since */
#define WSK_CF_HOLD_IN 0x20    /* not reading (deferred upgrade buffer full, or peer sent EOF) */
#define WSK_CF_SHUT_WR 0x40    /* FIN sent */
#define WSK_CF_PEER_EOF 0x80   /* the peer sent FIN: close once our output is flushed */

struct wsk__conn_ext {
  struct wsk__hook release;/* queued by wsk__conn_release_later: frees what is no longer needed */
  wsk_conn *conn;         /* the owner (its ext is this one until the owner is destroyed) */
  struct wsk__wqueue wq;   /* bytes the socket did not take yet */
  uint8_t *in;            /* unconsumed input: a partial frame header, a partial control frame, */
  size_t in_len, in_cap;  /* an HTTP head (and body) being read, input held during an upgrade */
  uint8_t *msg;           /* a message being reassembled from several chunks */
  size_t msg_len, msg_cap; /* (the message's opcode is the parser's: c->parser.msg_opcode) */
  char *protocol;         /* negotiated subprotocol, or NULL */
  char *remote;           /* cached wsk_conn_remote text */
  void *pending;          /* owner-defined: the server's deferred upgrade, the client's state */
  struct wsk__tls *tls;    /* the TLS session of a connection whose io.kind is WSK_IO_TLS: such a
                             connection keeps its ext for life */
  wsk_pmd *pmd;           /* permessage-deflate codec, only when negotiated (kept for life) */
  struct wsk_pmd_params pmd_params;
  wsk_utf8_state msg_utf8;/* UTF-8 state of a compressed text message being inflated */
  uint64_t dropped;       /* messages refused over the send limit (wsk_conn_dropped): an ext
                             that counted any is kept for the connection's life */
};

struct wsk_conn {
  struct wsk__io io;       /* fd, kind, armed events; owner_a = state, owner_b = flags */
  uint32_t idx;           /* slot in group->conns */
  uint32_t deadline;      /* wsk__loop_now32 time of the next timeout, 0 = none */
  struct wsk__group *group;
  void *user_data;
  struct wsk__conn_ext *ext;
  struct wsk_parser parser;
  uint8_t spill_len;      /* bytes of a WebSocket frame header cut by the end of a read */
  uint8_t spill[WSK_MAX_FRAME_HEADER - 1];
  uint16_t route;         /* server: 1 + the index of the route it opened on, 0 = none */
};

/* owner_a: the state in its low bits, and WSK_CA_BATCHED (batch.c). */
#define WSK_CA_STATE 0x0f
#define WSK_CA_BATCHED 0x80 /* in the group's batch: output waits for the end of the iteration */
static inline unsigned wsk__conn_state(const wsk_conn *c) { return c->io.owner_a & WSK_CA_STATE; }
static inline void wsk__conn_set_state(wsk_conn *c, unsigned s) {
  c->io.owner_a = (uint8_t)((c->io.owner_a & ~WSK_CA_STATE) | s);
}
static inline int wsk__conn_batched(const wsk_conn *c) { return c->io.owner_a & WSK_CA_BATCHED; }
static inline int wsk__conn_has(const wsk_conn *c, unsigned f) { return (c->io.owner_b & f) != 0; }
static inline void wsk__conn_flag(wsk_conn *c, unsigned f) { c->io.owner_b |= (uint8_t)f; }
static inline void wsk__conn_unflag(wsk_conn *c, unsigned f) { c->io.owner_b &= (uint8_t)~f; }
static inline int wsk__conn_dead(const wsk_conn *c) { return wsk__conn_state(c) == WSK_CS_DEAD; }

/* What the owner of a group (server or client) plugs into the engine. All optional. */
struct wsk__group_ops {
  /* Input while the connection is in WSK_CS_HTTP. Returns the bytes consumed; the rest is kept
   * and offered again, with more, after the next read. May change the state (upgrade). */
  size_t (*http_input)(wsk_conn *c, uint8_t *buf, size_t len);
  /* A connection in WSK_CS_CONNECTING became writable or failed (check SO_ERROR). */
  void (*on_connected)(wsk_conn *c);
  /* The TLS handshake completed; the connection is in WSK_CS_HTTP now. */
  void (*on_secure)(wsk_conn *c);
  /* The deadline passed before the WebSocket opened (CONNECTING, HTTP, UPGRADING). */
  void (*on_timeout)(wsk_conn *c);
  /* The connection is being destroyed; ext->pending is still there. */
  void (*on_destroy)(wsk_conn *c);
  /* A connection left the group (after its memory release was scheduled). */
  void (*on_leave)(struct wsk__group *g);
};

struct wsk__group {
  wsk_loop *loop;
  struct wsk__cork *cork;          /* the loop's */
  const struct wsk__group_ops *ops;
  void *owner;                    /* wsk_server or the client's object */
  wsk_server *server;             /* what wsk_conn_server returns */
  struct wsk_callbacks cb;
  const struct wsk_route *routes; /* server: connections with a route use routes[route-1].cb */
  uint64_t max_message;
  size_t high_water, hard_limit;
  size_t low_water;               /* on_drain at or below it; 0 = high_water / 2 */
  unsigned handshake_timeout_ms, idle_timeout_ms, close_timeout_ms, ping_interval_ms;
  uint8_t drop_on_limit;
  uint8_t client;                 /* connections of this group have the client role */
  uint8_t deliver_closing;        /* on_message also in WSK_CS_CLOSING (deliver_after_close) */
  /* Optional observer of every frame header read (outgoing 0) or written (outgoing 1). */
  void (*on_frame)(wsk_conn *c, int outgoing, const struct wsk_frame_header *h);
  /* permessage-deflate options (the owner's copy), or NULL when the extension is off. */
  const struct wsk_pmd_options *deflate;
  /* The text message being delivered to on_message, valid UTF-8 already: wsk_send of exactly
   * these bytes (an echo, a relay) skips the check. NULL outside on_message. */
  const void *valid_text;
  size_t valid_len;

  wsk_conn **conns;               /* every connection, any state */
  uint32_t n, cap;
  uint32_t walking;               /* > 0 while wsk__group_foreach runs: removals leave holes */
  uint8_t holes;
  size_t n_open;                  /* connections in OPEN or CLOSING state that were opened */
  size_t n_timed;                 /* connections with a deadline */
  wsk_timer *sweep;               /* checks deadlines while n_timed > 0, parked otherwise */
  wsk_timer *ping;                /* keepalive, when ping_interval_ms */
  unsigned sweep_ms;
  /* The batch (batch.c): connections whose output waits in their queue for one write at the end
   * of the loop iteration, and the hook that writes them. */
  wsk_conn **batch;
  uint32_t n_batch, cap_batch;
  struct wsk__hook batch_hook;
};

/* The callbacks of c: its route's, or the group's. */
static inline const struct wsk_callbacks *wsk__conn_cb(const wsk_conn *c) {
  return c->route ? &c->group->routes[c->route - 1].cb : &c->group->cb;
}

/* ---- the batch (batch.c) ----------------------------------------------------------------------
 * Output to a connection other than the one being served (a publish, a broadcast, a send from a
 * timer or from another connection's callback) is not written at once while the loop runs: it is
 * appended to the connection's queue, the connection joins its group's batch, and at the end of
 * the iteration each connection of the batch is written with one call, whatever number of
 * messages it got. (The connection being served collects its own output in the loop's cork.) */
/* Add c to the batch. Returns 0, or -1 when c cannot wait (not an open WebSocket, the loop is not
 * running, or no memory to grow the batch): write now. */
int wsk__conn_batch(wsk_conn *c);
/* Group life: the batch's hook is set up by wsk__group_init; wsk__group_destroy drops the batch. */
void wsk__batch_init(struct wsk__group *g);
void wsk__batch_free(struct wsk__group *g);

/* ---- group (group.c) ---------------------------------------------------------------------- */
void wsk__group_init(struct wsk__group *g, wsk_loop *loop, const struct wsk__group_ops *ops,
                    void *owner);
/* Start timers after the limits are set (ping). Returns 0 or WSK_ENOMEM. */
int wsk__group_start(struct wsk__group *g);
/* Destroy every connection (on_close 1006 for open ones) and stop the timers. */
void wsk__group_destroy(struct wsk__group *g);
/* Call fn for each connection in OPEN state (holes-tolerant: fn may close any connection). */
void wsk__group_foreach(struct wsk__group *g, void (*fn)(wsk_conn *c, void *arg), void *arg);
/* Call fn for each connection in any live state (same walking rules). */
void wsk__group_each(struct wsk__group *g, void (*fn)(wsk_conn *c, void *arg), void *arg);

/* ---- connection life cycle (conn.c) ---------------------------------------------------------- */
/* Wrap a connected (or connecting) non-blocking socket; registers it with the loop, reading.
 * fd -1 makes a connection without a socket yet (a client resolving and dialing), which the owner
 * gives one later (wsk__io_start on c->io). Returns NULL (fd closed) when out of memory. */
wsk_conn *wsk__conn_new(struct wsk__group *g, int fd, enum wsk__conn_state state);
/* HTTP/UPGRADING -> OPEN: set up the parser (RSV1 allowed when wsk__conn_deflate_setup ran),
 * remember the subprotocol, call on_open. The caller then hands any input that followed the
 * handshake to wsk__conn_feed. Returns 0 or WSK_ENOMEM. */
int wsk__conn_open(wsk_conn *c, const char *protocol);
/* Process bytes as if they had just been read (input held across a deferred upgrade). */
void wsk__conn_feed_held(wsk_conn *c);
/* Timeout in ms from now, 0 = none. */
void wsk__conn_set_timeout(wsk_conn *c, unsigned ms);
/* Options that become connection deadlines: ms[i] (the option names[i]) at most
 * WSK_TIMEOUT_MAX_MS. Returns 0, or WSK_EINVAL with a sentence naming the first one over. */
int wsk__timeouts_check(const char *const names[], const unsigned ms[], size_t n, char *errbuf,
                       size_t errlen);
/* How long a lingering connection waits for the peer's FIN when close_timeout_ms is 0. */
#define WSK_LINGER_DEFAULT_MS 2000
/* End the exchange: stop reading input, flush, send FIN (server), wait for EOF or close_timeout. */
void wsk__conn_linger(wsk_conn *c);
/* Close the socket now. err != 0 reports on_error(err, message) first when on_close is owed;
 * on_close(1006) follows when owed. Safe to call from any callback; idempotent. */
void wsk__conn_destroy(wsk_conn *c, int err, const char *message);
/* The ext, allocated on first use (NULL when out of memory). */
struct wsk__conn_ext *wsk__conn_ext(wsk_conn *c);
/* Something in c's ext may no longer be needed: at the end of the iteration, free the input
 * buffer if it is empty, a message dropped by a linger, and the ext itself once it holds nothing
 * (the one place where they are freed; see the top of this file). */
void wsk__conn_release_later(wsk_conn *c);
/* Report on_close once (clean close, timeout or failure), leaving the socket to the caller. */
void wsk__conn_report_close(wsk_conn *c, unsigned code, const char *reason, size_t reason_len,
                           int clean);
/* Pause or resume reading (WSK_CF_HOLD_IN). */
void wsk__conn_hold_input(wsk_conn *c, int hold);
/* The loop's handler of WSK_IO_CONN descriptors (tls.c hands its events on to it). */
void wsk__conn_io(wsk_loop *loop, struct wsk__io *io, unsigned events);
/* Read from the socket and process what arrived, as on EPOLLIN. */
void wsk__conn_read(wsk_conn *c);

/* ---- output (write.c) ------------------------------------------------------------------------ */
/* Write iov[0..n) after whatever is pending: into the cork when c is corked, straight to the
 * socket when nothing is queued, the rest into the queue. The bytes of iov[ref_i] belong to `ref`
 * and are queued by reference, not copied (ref NULL / ref_i -1: copy everything).
 * Returns 0, WSK_ENOMEM, or WSK_ECLOSED when the socket already failed. */
int wsk__conn_writev(wsk_conn *c, const struct iovec *iov, int n, struct wsk__ref *ref, int ref_i);
/* Write a chunk, taking ownership (no copy of what the socket does not take). */
int wsk__conn_write_chunk(wsk_conn *c, struct wsk__chunk *chunk);
/* Drop the whole frames queued that none of is written yet (the head chunk, which may be partly
 * on the wire, and under TLS the bytes a retried write must repeat, stay): what is sent next goes
 * out right after them. */
void wsk__conn_drop_unsent(wsk_conn *c);
/* Bytes not yet handed to the kernel (queue + cork). */
static inline size_t wsk__conn_pending(const wsk_conn *c) {
  size_t n = c->ext ? c->ext->wq.bytes : 0;
  const struct wsk__cork *cork = c->group->cork;
  return cork->owner == c ? n + cork->total : n;
}
/* Collect writes to c until wsk__conn_uncork (one connection at a time per loop). */
void wsk__conn_cork(wsk_conn *c);
void wsk__conn_uncork(wsk_conn *c);
/* Forget c's cork without sending it (the connection is being destroyed). */
void wsk__conn_cork_drop(wsk_conn *c);
/* n bytes to fill in c's cork, in order after what was written before: when c is corked, nothing
 * is queued and the cork has room; else NULL (use wsk__conn_writev). */
uint8_t *wsk__conn_cork_reserve(wsk_conn *c, size_t n);
/* c waits in the batch (and not for EPOLLOUT): write what its queue holds now instead of at the end
 * of the iteration, the rest waiting for EPOLLOUT. For a send that send_hard_limit would refuse:
 * only what the socket did not take may count as a slow reader's backlog, and a batch was never
 * offered to the socket. Runs no callback (a failed write drops the output; the read side ends
 * the connection). */
void wsk__conn_write_batched(wsk_conn *c);
/* EPOLLOUT: write the queue; handles drain, linger and errors. */
void wsk__conn_flush(wsk_conn *c);
/* With io_uring, queue the send of the start of c's queue (a plain connection) for the loop's
 * sends finish (batch.c), whose result goes to wsk__conn_sent. Returns 0, or -1: flush it now. */
#define WSK_SEND_LATER_IOV 8
int wsk__conn_send_later(wsk_conn *c);
/* The result of such a send: what wsk__conn_flush does after its write. */
void wsk__conn_sent(struct wsk__io *io, ssize_t res);
/* Arm the events the connection waits for now: input unless held, output while bytes are queued,
 * and whatever its TLS session needs. */
void wsk__conn_rearm(wsk_conn *c);

/* ---- TLS (tls.c): connections whose io.kind is WSK_IO_TLS ------------------------------------ */
struct wsk__tls_ctx;
/* Put a TLS session on c's socket and start its handshake (state TLS; the deadline already set
 * covers it). host: the client's server name (SNI, verification), NULL for a server. Once the
 * handshake completes the connection is in WSK_CS_HTTP and ops->on_secure runs; a failed
 * handshake destroys it with WSK_ETLS and OpenSSL's reason. Returns 0, or WSK_ENOMEM (c unchanged). */
int wsk__conn_start_tls(wsk_conn *c, struct wsk__tls_ctx *ctx, const char *host);
/* recv() for TLS: bytes, 0 at the end of input, or < 0 to stop reading for now (nothing to read,
 * or the connection failed and was destroyed). */
ssize_t wsk__conn_tls_read(wsk_conn *c, void *buf, size_t len);
/* The events to arm, given the connection's own wishes ev: during the handshake what it waits
 * for; afterwards ev, where a read that waits for output trades EPOLLIN for EPOLLOUT, a write that
 * waits for input EPOLLOUT for EPOLLIN, and a pending close_notify adds EPOLLOUT. */
unsigned wsk__conn_tls_events(const wsk_conn *c, unsigned ev);
/* Plaintext the session decrypted already (epoll does not report it). */
size_t wsk__conn_tls_pending(const wsk_conn *c);
/* Read what the session holds at the end of this loop iteration (after input was resumed). */
void wsk__conn_tls_kick(wsk_conn *c);
/* Send close_notify: 0 when sent, WSK_EAGAIN while the socket is full (EPOLLOUT armed). */
int wsk__conn_tls_close_notify(wsk_conn *c);
/* Free the session now (a TLS port answering plain HTTP goes on without it). */
void wsk__conn_tls_free(wsk_conn *c);
/* The connection is being destroyed: its session (freed with the ext at the end of the
 * iteration) no longer reads on its own. */
void wsk__conn_tls_cancel(wsk_conn *c);

/* ---- frames out (send.c) --------------------------------------------------------------------- */
/* The masking key of the next frame: fresh from the CSPRNG in the client role (0 or WSK_ESYS);
 * nothing to do in the server role. */
int wsk__conn_mask_key(wsk_conn *c, uint8_t key[4]);
/* Write the header of a final frame into hdr (WSK_MAX_FRAME_HEADER bytes), masked with key in the
 * client role, and show it to the frame observer. Returns its length. */
size_t wsk__conn_frame_header(wsk_conn *c, uint8_t *hdr, int rsv, int opcode, uint64_t len,
                             const uint8_t key[4]);
/* Frame and write one message or control frame (masked in the client role). Checks nothing:
 * neither state nor limits. Returns 0 or a negative code. */
int wsk__conn_send_frame(wsk_conn *c, int opcode, const void *data, size_t len,
                         struct wsk__ref *ref);
/* The automatic answer to a ping (len <= 125): while output is queued, it replaces a pong queued
 * before and not yet written (RFC 6455 5.5.3), so pending pongs never pile up. Returns 0 or a
 * negative code (nothing was written). */
int wsk__conn_send_pong(wsk_conn *c, const void *data, size_t len);
/* A data message with the state and backpressure checks of wsk_send (no UTF-8 check). */
int wsk__conn_send_data(wsk_conn *c, int opcode, const void *data, size_t len,
                       struct wsk__ref *ref);
/* The same for a frame built already (server role), queued by reference to `ref`. */
int wsk__conn_send_framed(wsk_conn *c, const uint8_t *frame, size_t len, struct wsk__ref *ref);
/* Start the closing handshake (state OPEN only): close frame, CLOSING, close_timeout_ms. */
int wsk__conn_close_with(wsk_conn *c, unsigned code, const char *reason, size_t reason_len);
/* Queue a close frame (once) and note it; code 0 = empty payload. */
int wsk__conn_send_close(wsk_conn *c, unsigned code, const char *reason, size_t reason_len);
/* Protocol failure: on_error, close frame with the matching code, on_close(1006), linger. */
void wsk__conn_fail(wsk_conn *c, int err, const char *message);

/* ---- frames in (recv.c) ---------------------------------------------------------------------- */
/* Feed WebSocket bytes (state OPEN or CLOSING); returns the bytes consumed. */
size_t wsk__conn_ws_input(wsk_conn *c, uint8_t *buf, size_t len);
/* explain.c: the rule broken by the frame starting at frame[0..len) that the parser refused with
 * WSK_EPROTO, as a sentence for on_error. */
const char *wsk__conn_explain_proto(const wsk_conn *c, const uint8_t *frame, size_t len);

/* ---- permessage-deflate (deflate.c: set-up and prepared frames; deflate_send.c;
 * deflate_recv.c) ------------------------------------------------------------------------------ */
#define WSK_CONN_RSV1 0x4 /* wsk_frame_header.rsv bit of a compressed message's first frame */
/* Give c (before wsk__conn_open) a codec for the agreed parameters, with the group's options and
 * max_message. Returns 0, WSK_ENOMEM or WSK_EINVAL. */
int wsk__conn_deflate_setup(wsk_conn *c, const struct wsk_pmd_params *params);
/* 1 if a len-byte message to c goes out compressed. */
int wsk__conn_compresses(const wsk_conn *c, size_t len);
/* Compress, frame (RSV1) and write one message (state and limits checked by the caller). The
 * masking key is drawn first, so nothing can fail between compressing and writing but the write
 * itself; without the memory to compress, the message goes out uncompressed. Returns 0 or a
 * negative code. */
int wsk__conn_send_compressed(wsk_conn *c, int opcode, const void *data, size_t len);
/* A chunk of a compressed message (ev->compressed): inflate it into ext->msg, and deliver the
 * message with its last chunk; fails the connection (1009, 1007, 1011) when it cannot. */
void wsk__conn_inflate(wsk_conn *c, const struct wsk_event *ev);
/* recv.c: hand a whole message to on_message while the connection is open. */
void wsk__conn_deliver(wsk_conn *c, int opcode, const void *data, size_t len);

/* ---- prepared messages (prepared.c) ---------------------------------------------------------- */
struct wsk_prepared {
  struct wsk__ref ref;  /* first: the block is freed by the last wsk__ref_put */
  size_t frame_len;    /* header + payload, ready for a server-role connection */
  uint8_t header_len;
  uint8_t opcode;
  uint8_t deflated_bits; /* of a compressed copy: the window it was made with */
  /* The same message compressed once (RSV1 frame) for connections whose compressor starts afresh
   * for every message; made on first use (by any loop's thread), dropped with the caller's
   * reference. */
  _Atomic(struct wsk_prepared *) deflated;
  uint8_t frame[];
};
/* deflate.c: p compressed with a fresh compressor of `bits` window and the options' level and
 * mem_level, framed for the server role; NULL when out of memory. */
struct wsk_prepared *wsk__prepared_deflate(const struct wsk_prepared *p,
                                          const struct wsk_pmd_options *opt, int bits);

#endif
