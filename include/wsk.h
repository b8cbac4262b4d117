/* wsk.h - the event API of wsk, a WebSocket kit in C (RFC 6455, RFC 7692): loop, server, client,
 * send, topics. It includes <wsk_proto.h>, the sans-I/O core, whose types it uses.
 *
 * Layers, from the inside out (each knows only the one below it):
 *   1. proto  - sans-I/O protocol core (<wsk_proto.h>): HTTP/1.1 head parsing, the opening
 *               handshake, frames, masking, UTF-8, close codes, messages. No syscalls, no globals;
 *               bytes in, events out.
 *   2. net    - the event loop (epoll), sockets, timers, write queues, TLS.
 *   3. server / client - connection life cycle: HTTP request -> upgrade -> WebSocket -> close.
 *   4. this header's event API (wsk_loop, wsk_server, wsk_conn, wsk_connect).
 *
 * Conventions: every function that can fail returns an int that is 0 (or a count) on success and a
 * negative WSK_E* code on failure; wsk_strerror() names the code. Pointers handed to callbacks are
 * borrowed: valid only until the callback returns, unless the comment says otherwise.
 * Threads: one loop per thread; a loop and what is made on it belong to that thread. The calls that
 * any thread may make are few and say so: wsk_loop_post, wsk_publish and wsk_send_id on a server
 * with a hub, the wsk_hub and wsk_prepared reference counts. docs/API.md gathers these rules, the
 * ownership rules and which callbacks can run inside which calls (e.g. never on_close inside a
 * send), in one page.
 */
#ifndef WSK_H
#define WSK_H

#include "wsk_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------------
 * Layer 2-4: the event loop and the event API
 * ---------------------------------------------------------------------------------------------- */
typedef struct wsk_loop wsk_loop;
typedef struct wsk_timer wsk_timer;
typedef struct wsk_server wsk_server;
typedef struct wsk_hub wsk_hub;
typedef struct wsk_conn wsk_conn;
typedef struct wsk_upgrade wsk_upgrade;
typedef struct wsk_http_reply wsk_http_reply;
typedef struct wsk_prepared wsk_prepared;

/* Create an event loop: io_uring, or epoll when the kernel refuses io_uring or the environment
 * variable WSK_LOOP_BACKEND is "epoll". Returns NULL with errno set on failure. The caller owns
 * it. */
WSK_API wsk_loop *wsk_loop_new(void);
/* The kernel interface a loop waits with. */
enum wsk_loop_backend {
  WSK_BACKEND_DEFAULT = 0, /* WSK_LOOP_BACKEND from the environment ("epoll" or "io_uring"),
                              else io_uring (with the fallback to epoll) */
  WSK_BACKEND_EPOLL,
  WSK_BACKEND_IO_URING     /* io_uring (Linux 5.19+): every request of an iteration, with the
                              wait, in one system call (README "epoll or io_uring") */
};
struct wsk_loop_options {
  enum wsk_loop_backend backend;
  /* 0: when io_uring is asked for and the kernel refuses it (too old,
   * kernel.io_uring_disabled, a seccomp filter), use epoll and say why in wsk_loop_backend_why.
   * 1: fail (ENOSYS). */
  int no_fallback;
};
/* wsk_loop_new with options (NULL: the defaults). */
WSK_API wsk_loop *wsk_loop_new_with(const struct wsk_loop_options *opt);
/* "epoll" or "io_uring": the backend the loop uses. */
WSK_API const char *wsk_loop_backend(const wsk_loop *loop);
/* Why io_uring was asked for and epoll is used instead, or "" (static text of the loop). */
WSK_API const char *wsk_loop_backend_why(const wsk_loop *loop);
/* Run until wsk_loop_stop() is called or nothing is left to wait for (no server, connection or
 * other watched descriptor, no pending timer; the signal handler and wakeups do not count). Returns 0 or WSK_ESYS. */
WSK_API int wsk_loop_run(wsk_loop *loop);
/* Make wsk_loop_run return after the current iteration. */
WSK_API void wsk_loop_stop(wsk_loop *loop);
/* Run cb(arg) on the loop's thread, soon (from any thread: thread-safe and lock-free). Callbacks
 * posted from one thread run in the order they were posted; a burst of posts wakes the loop once.
 * Callbacks still waiting when the loop is freed are dropped without being called.
 * Returns 0, WSK_EINVAL or WSK_ENOMEM. */
WSK_API int wsk_loop_post(wsk_loop *loop, void (*cb)(void *arg), void *arg);
/* The same as wsk_loop_post (its first name). */
WSK_API int wsk_loop_wakeup(wsk_loop *loop, void (*cb)(void *arg), void *arg);
/* Free the loop. Servers and connections on it must be freed first. */
WSK_API void wsk_loop_free(wsk_loop *loop);
/* Current loop time in milliseconds (monotonic, updated once per iteration). */
WSK_API uint64_t wsk_loop_now(const wsk_loop *loop);
/* Refresh wsk_loop_now() from the clock. The loop does it once per iteration; call it before using
 * the loop again after the thread did something else for a while (timers and timeouts started
 * from a stale time would expire early). */
WSK_API void wsk_loop_update_time(wsk_loop *loop);
/* On SIGINT or SIGTERM, call cb(arg) on the loop (via signalfd; the two are blocked in the calling
 * thread). Returns 0 or WSK_ESYS. The library changes no other signal disposition: it never makes
 * SIGPIPE fire (its socket writes, TLS included, use MSG_NOSIGNAL), so it does not ignore it. */
WSK_API int wsk_loop_on_signal(wsk_loop *loop, void (*cb)(wsk_loop *loop, int signo, void *arg),
                               void *arg);

/* A timer that calls cb(arg) after `ms`, and then every `repeat_ms` if that is non-zero (periods
 * count from the scheduled times; ticks missed while the loop was busy are skipped, not bunched).
 * Any value works: a delay past the end of the 64-bit clock (UINT64_MAX) means never.
 * Returns NULL on allocation failure. The loop owns the timer until wsk_timer_stop(): a one-shot
 * timer stays allocated after it fired until then (or until wsk_loop_free). */
WSK_API wsk_timer *wsk_timer_start(wsk_loop *loop, uint64_t ms, uint64_t repeat_ms,
                                   void (*cb)(void *arg), void *arg);
/* Cancel and free a timer (safe from inside its own callback). */
WSK_API void wsk_timer_stop(wsk_timer *t);

/* Watch any other descriptor (stdin, a pipe, an eventfd) from the loop, level-triggered: cb runs
 * while fd is readable (WSK_WATCH_IN) or writable (WSK_WATCH_OUT); WSK_WATCH_HUP is added to
 * `events` on hang-up or error. The descriptor stays the caller's (never closed by wsk). A watch
 * keeps wsk_loop_run going until stopped. Returns NULL with errno set on failure (EPERM: regular
 * files and /dev/null cannot be watched; they never block, read them directly). */
typedef struct wsk_watch wsk_watch;
#define WSK_WATCH_IN 1u
#define WSK_WATCH_OUT 2u
#define WSK_WATCH_HUP 4u
WSK_API wsk_watch *wsk_loop_watch_fd(wsk_loop *loop, int fd, unsigned events,
                                     void (*cb)(wsk_watch *w, int fd, unsigned events, void *arg),
                                     void *arg);
/* Change the watched events (0 = only hang-ups). Returns 0 or WSK_ESYS. */
WSK_API int wsk_watch_set(wsk_watch *w, unsigned events);
/* Stop watching and free the watch (safe from inside its own callback). */
WSK_API void wsk_watch_stop(wsk_watch *w);

/* The request as seen by on_http and on_upgrade. All pointers are borrowed: valid until the
 * callback returns, and so is everything the wsk_request_* calls below return (request-owned
 * memory, freed by the server after the callback; copy what must outlive it). A call that
 * decodes or copies takes new memory each time, at most the value's size. */
struct wsk_route;
struct wsk_request_ctx;
struct wsk_request {
  const char *method;
  const char *path;     /* percent-decoded path, without the query ('+' stays '+') */
  const char *query;    /* raw query (without '?'), "" if none */
  const struct wsk_header *headers;
  size_t num_headers;
  const void *body;     /* on_http only: the Content-Length body, or NULL */
  size_t body_len;
  const char *remote;   /* peer address, "1.2.3.4:5678" or "[::1]:5678" */
  /* The request-target exactly as sent, nothing decoded: "/a%2Fb?x=1" (where `path` would say
   * "/a/b"). NUL-terminated. */
  const char *target;
  size_t target_len;
  const struct wsk_route *route; /* the route that matched (server option routes), or NULL */
  struct wsk_request_ctx *ctx;   /* the server's, private */
};

/* Header value by name (case-insensitive), NUL-terminated copy in the request's storage, or NULL.
 * The first line of a repeated header; wsk_request_header_next walks them all. */
WSK_API const char *wsk_request_header(const struct wsk_request *req, const char *name);
/* Every value of a header (case-insensitive name), in request order: start with *iter = 0; each
 * call returns the next line's value (NUL-terminated, surrounding whitespace removed) or NULL
 * after the last. Values are per line, not split at commas (wsk_http_list_next does that). */
WSK_API const char *wsk_request_header_next(const struct wsk_request *req, const char *name,
                                            size_t *iter);
/* Query parameter `name` (compared after decoding, case-sensitive; the first if repeated),
 * decoded as HTML forms encode it: %XX escapes, and '+' as a space (a literal plus is %2B).
 * Returns 1 with *value (NUL-terminated, request-owned) and *len, 0 when absent (a bare "?name"
 * or "name=" is present with ""), WSK_EHTTP when its value has a malformed escape ('%' not
 * followed by two hex digits) or an encoded NUL, WSK_ENOMEM, or WSK_EINVAL. */
WSK_API int wsk_request_query(const struct wsk_request *req, const char *name,
                              const char **value, size_t *len);
/* Cookie `name` (case-sensitive; the first if repeated) from the Cookie header lines (RFC 6265:
 * name=value pairs separated by "; "). The value is not decoded (RFC 6265 defines no encoding);
 * a value in DQUOTEs comes without them. Returns 1 with *value (NUL-terminated, request-owned)
 * and *len, 0 when absent, WSK_ENOMEM, or WSK_EINVAL. */
WSK_API int wsk_request_cookie(const struct wsk_request *req, const char *name,
                               const char **value, size_t *len);
/* The peer's address as numbers: an AF_INET (struct sockaddr_in) or AF_INET6 (struct
 * sockaddr_in6; an IPv4 client of a "::" listener is a v4-mapped address) socket address, port
 * in network order as usual (ntohs). Include <sys/socket.h> and <netinet/in.h> to read it.
 * Returns 0, WSK_EINVAL, or a negative errno (the peer is gone: -ENOTCONN). */
struct sockaddr_storage;
WSK_API int wsk_request_remote_addr(const struct wsk_request *req, struct sockaddr_storage *addr);

/* Reply to a plain HTTP request from on_http. extra is preformatted "Name: value\r\n" lines or
 * NULL. The body is copied. Returns 0, WSK_EINVAL if already replied, or WSK_ENOMEM. */
WSK_API int wsk_http_reply_send(wsk_http_reply *reply, int status, const char *content_type,
                                const char *extra, const void *body, size_t body_len);

/* Return values of on_upgrade (or an HTTP status >= 400 to reject with that status). */
#define WSK_UPGRADE_ACCEPT 0
#define WSK_UPGRADE_DEFER 1

/* Within on_upgrade (or later, for a deferred upgrade): read the offer and shape the answer. */
/* Next offered subprotocol: *i starts at 0; returns NULL at the end. The string is borrowed. */
WSK_API const char *wsk_upgrade_offered_protocol(wsk_upgrade *up, size_t *i);
/* Choose the subprotocol to answer with (must be one of the offered). Returns 0 or WSK_EINVAL. */
WSK_API int wsk_upgrade_select_protocol(wsk_upgrade *up, const char *protocol);
/* Add a response header (copied) to the application's answer: the 101 when the upgrade is
 * accepted, or the rejection when on_upgrade returns a status or wsk_upgrade_reject is called
 * (WWW-Authenticate, Retry-After, Set-Cookie). Answers the server makes itself (503 while
 * shutting down, 500 out of memory) do not carry them. Returns 0, WSK_EINVAL (a name that is not
 * a token, a value with a control byte) or WSK_ENOMEM. */
WSK_API int wsk_upgrade_add_header(wsk_upgrade *up, const char *name, const char *value);
/* Attach user data that the new connection will carry (wsk_conn_user_data). Ownership: once the
 * WebSocket opens, the connection holds it (release it in on_close, which every opened
 * connection gets). If it never opens (rejected, the client left during a deferred upgrade, the
 * 101 could not be written, the server shut down or was freed), the on_upgrade_abort callback of
 * the server options (or of the route) gets it back, exactly once, when the upgrade is freed:
 * right after on_upgrade returns, or inside wsk_upgrade_accept / wsk_upgrade_reject for a
 * deferred one. Not called for NULL user data. */
WSK_API void wsk_upgrade_set_user_data(wsk_upgrade *up, void *user_data);
/* Complete a deferred upgrade: accept, or reject with status >= 400 and a text body (may be NULL)
 * and the headers added with wsk_upgrade_add_header. Must be called exactly once, on the loop's
 * thread, even if the client went away meanwhile (it then only frees the upgrade, handing the
 * user data to on_upgrade_abort). Frames the client sent before the 101 are delivered right
 * after on_open. Returns 0, WSK_ECLOSED, or WSK_EINVAL if the upgrade was not deferred. */
WSK_API int wsk_upgrade_accept(wsk_upgrade *up);
WSK_API int wsk_upgrade_reject(wsk_upgrade *up, int status, const char *body);

/* Callbacks for WebSocket connections (server and client side alike). All optional. */
struct wsk_callbacks {
  void (*on_open)(wsk_conn *c);
  /* A whole, reassembled message; data valid until the callback returns. Text is valid UTF-8. */
  void (*on_message)(wsk_conn *c, int opcode, const void *data, size_t len);
  void (*on_ping)(wsk_conn *c, const void *data, size_t len); /* the pong is sent for you */
  void (*on_pong)(wsk_conn *c, const void *data, size_t len);
  /* Called once per opened connection. code is the peer's code (1005 if none, 1006 if the TCP
   * connection ended without a close handshake, or when this side failed the connection after a
   * protocol error or a timeout: on_error said which); clean is 1 after a complete close
   * handshake. */
  void (*on_close)(wsk_conn *c, unsigned code, const char *reason, size_t reason_len, int clean);
  /* Something went wrong (protocol violation, I/O error, timeout); on_close follows. */
  void (*on_error)(wsk_conn *c, int err, const char *message);
  /* The send queue dropped to the low-water mark (server option drain_low_water; half of the
   * high-water mark otherwise) after one or more sends returned WSK_SEND_QUEUED_HIGH. */
  void (*on_drain)(wsk_conn *c);
};

/* Routing (server options routes / num_routes): the first route whose pattern matches the
 * request's path (percent-decoded, without the query: the `path` the callbacks see) serves it,
 * plain HTTP and upgrades alike; the server's own callbacks serve what no route matches. A
 * pattern is an exact path ("/chat"), a prefix and a final '*' (with the prefix "/api/", it
 * matches "/api/" and every path below it, not "/api"), or "*" (any path). A route replaces the
 * server's callbacks wholesale: a NULL on_http falls through to the static root or 404, a NULL
 * on_upgrade accepts, and a connection opened on the route gets the route's `cb` (wsk_conn_route
 * tells which). Matching costs one string comparison per route, in table order. */
struct wsk_route {
  const char *pattern;
  int (*on_http)(wsk_server *s, const struct wsk_request *req, wsk_http_reply *reply);
  int (*on_upgrade)(wsk_server *s, const struct wsk_request *req, wsk_upgrade *up);
  void (*on_upgrade_abort)(void *upgrade_user_data);
  struct wsk_callbacks cb;
  void *user_data;      /* the route's own, for its callbacks (req->route->user_data) */
};
/* The route c was opened on (the server's copy of it), or NULL: no route matched, or a client. */
WSK_API const struct wsk_route *wsk_conn_route(const wsk_conn *c);

/* A certificate for one host name (server option tls_sni). hostname is exact ("api.example.com")
 * or a wildcard for one label ("*.example.com"), compared without case; cert and key as for
 * tls_cert and tls_key. */
struct wsk_tls_cert {
  const char *hostname;
  const char *cert;
  const char *key;
};

/* The longest timeout of a connection, 2^31-1 ms (about 24.8 days): wsk_server_new and
 * wsk_connect refuse a larger handshake_timeout_ms, idle_timeout_ms, close_timeout_ms or
 * connect_timeout_ms with WSK_EINVAL (a connection keeps its deadline in 32 bits, which keeps an
 * idle connection small). The timers (wsk_timer_start), ping_interval_ms, the reconnection delays
 * and the wsk_server_shutdown and wsk_sync timeouts are 64-bit and take any value. */
#define WSK_TIMEOUT_MAX_MS 2147483647u

struct wsk_server_options {
  const char *host;             /* listen address; NULL or "" = "0.0.0.0"; "::" for IPv6 */
  int port;                     /* 0 = let the kernel pick (see wsk_server_port) */
  const char *root;             /* serve static files from this directory, or NULL */
  size_t max_message;           /* default 16 MiB */
  size_t max_header_bytes;      /* default 8 KiB */
  size_t max_connections;       /* default 100000 open WebSockets; at it, upgrades and plain HTTP
                                   requests get 503 (docs/SECURITY.md lists every limit) */
  size_t max_http_body;         /* default 1 MiB */
  unsigned handshake_timeout_ms;/* default 10000: from the accept (and from each answer on a
                                   keep-alive connection) until a complete request, TLS handshake
                                   included; then the connection is closed without an answer */
  unsigned idle_timeout_ms;     /* default 0 = none; nothing received for that long: on_error
                                   (WSK_ETIMEDOUT), then the server closes with 1001 */
  unsigned close_timeout_ms;    /* default 5000: the peer's answer to our close frame; then,
                                   the closing handshake over, the server sends FIN and reads
                                   (discarding) until the peer's FIN, at most this long again,
                                   so that late bytes from the peer cannot reset the connection
                                   before our last bytes arrive */
  unsigned ping_interval_ms;    /* default 0 = none; a ping every interval, and a connection that
                                   received nothing (no pong, no data) since the previous ping is
                                   dropped: on_error(WSK_ETIMEDOUT), on_close 1006 */
  size_t send_high_water;       /* default 1 MiB: above it sends return WSK_SEND_QUEUED_HIGH */
  /* on_drain's low-water mark: after a send returned WSK_SEND_QUEUED_HIGH, on_drain runs once,
   * as soon as the bytes not yet written to the socket (wsk_buffered_amount) are at or below it
   * (checked each time the socket takes more of the queue). 0 (the default) = half of
   * send_high_water; 1 = at most one byte left, as good as empty. Over send_high_water:
   * WSK_EINVAL. */
  size_t drain_low_water;
  size_t send_hard_limit;       /* default 64 MiB: above it the send fails (see drop_on_limit) */
  int drop_on_limit;            /* 1: over the hard limit, close the connection with 1008 */
  const char *const *origins;   /* NULL-terminated Origin allow-list (others get 403), or NULL =
                                   any; a request without Origin (not a browser) is allowed */
  struct wsk_callbacks cb;
  /* Plain HTTP request (not an upgrade). Call wsk_http_reply_send before returning, or return
   * nonzero to fall through to the static root / the default 404. */
  int (*on_http)(wsk_server *s, const struct wsk_request *req, wsk_http_reply *reply);
  /* A valid upgrade request. Return WSK_UPGRADE_ACCEPT, WSK_UPGRADE_DEFER (then complete with
   * wsk_upgrade_accept/reject later) or an HTTP status >= 400 to reject. NULL = accept all. */
  int (*on_upgrade)(wsk_server *s, const struct wsk_request *req, wsk_upgrade *up);
  /* The user data of an upgrade that never opened, handed back (see wsk_upgrade_set_user_data).
   * NULL = the application keeps track of it itself. */
  void (*on_upgrade_abort)(void *upgrade_user_data);
  /* Routes by path (struct wsk_route): an array of num_routes (at most 65535), copied by
   * wsk_server_new, which refuses a pattern that is not "*" and does not start with '/', or has a
   * '*' anywhere but at its end (WSK_EINVAL). NULL / 0 = the callbacks above serve everything. */
  const struct wsk_route *routes;
  size_t num_routes;
  /* A failure of the server itself rather than of one connection, for the application's log (the
   * library prints nothing): accept failing for want of descriptors or memory (err -EMFILE,
   * -ENFILE, -ENOBUFS or -ENOMEM; the server stops accepting for 100 ms at a time, and reports it
   * once). NULL = not reported. */
  void (*on_server_error)(wsk_server *s, int err, const char *message);
  void *user_data;              /* wsk_server_user_data() */
  int reuse_port;               /* 1: SO_REUSEPORT, so that several processes share the port */
  /* TLS: with tls_cert set, the port speaks only https:// and wss:// (HTTP and WebSocket alike).
   * tls_cert is a PEM file with the certificate chain (the server's certificate first), tls_key a
   * PEM file with its private key (NULL: the key is in tls_cert). TLS 1.2 and 1.3, ALPN http/1.1,
   * session tickets, no renegotiation; the TLS handshake counts against handshake_timeout_ms, and a
   * client that speaks plain HTTP to the port gets a 400 in plain text and is closed. A library
   * built without TLS (cmake -DWSK_TLS=OFF) fails wsk_server_new with WSK_EUNSUPPORTED. */
  const char *tls_cert;
  const char *tls_key;
  /* More certificates, chosen by the host name the client asks for (SNI): an array ended by an
   * entry whose hostname is NULL, or NULL. Clients that send no name, or a name no entry matches,
   * get tls_cert. */
  const struct wsk_tls_cert *tls_sni;
  /* permessage-deflate (RFC 7692), off by default (deflate.enabled = 0): with context takeover, a
   * connection that has exchanged messages holds zlib's state for its life, about 300 KB with the
   * default window (15) and mem_level (8), against a few hundred bytes for a plain idle connection;
   * about 17 KB with windows of 9 and mem_level 1. Only connections that negotiated the extension
   * get the state; with server_no_context_takeover our compressor's state is released after every
   * message, and with client_no_context_takeover (asked for, or offered by the client) the
   * decompressor's too. The server accepts the first offer it can honour (see
   * wsk_pmd_server_negotiate). A compressed message's inflated size counts against max_message
   * (and so does its payload on the wire): inflating stops at the limit and the connection closes
   * with 1009; data that does not inflate closes with 1007. See wsk_server_broadcast for
   * compression of prepared messages. wsk_server_new fails with WSK_EINVAL for unusable values. */
  struct wsk_pmd_options deflate;
  /* Servers on several loops (threads) that share one hub share their topics: a publish on any
   * of them reaches the subscribers of all, and wsk_publish may be called from any thread. NULL:
   * the server's topics are its own, and wsk_publish belongs to its loop's thread. */
  wsk_hub *hub;
};

/* Fill options with the documented defaults (zero callbacks, permessage-deflate off with the
 * defaults of wsk_pmd_options_init). */
WSK_API void wsk_server_options_init(struct wsk_server_options *opt);
/* Create a server listening on opt->host:opt->port on this loop. On failure returns a negative
 * code and, if errbuf is non-NULL, a sentence such as "bind 0.0.0.0:8000: Address in use". */
WSK_API int wsk_server_new(wsk_loop *loop, const struct wsk_server_options *opt, wsk_server **out,
                           char *errbuf, size_t errlen);
/* The bound port (useful with port 0). */
WSK_API int wsk_server_port(const wsk_server *s);
WSK_API void *wsk_server_user_data(const wsk_server *s);
/* The loop the server runs on. */
WSK_API wsk_loop *wsk_server_loop(const wsk_server *s);
/* Number of open WebSocket connections. */
WSK_API size_t wsk_server_count(const wsk_server *s);
/* Call fn for every open WebSocket connection (the `wss.clients.forEach` of ws). fn may send or
 * close; connections opened during the walk are not visited. */
WSK_API void wsk_server_foreach(wsk_server *s, void (*fn)(wsk_conn *c, void *arg), void *arg);
/* Send one message to every open connection except `except` (may be NULL); framed once.
 * Returns the number of connections it was queued on, or a negative error.
 * With permessage-deflate: connections without the extension share the plain frame; connections
 * whose agreement has server_no_context_takeover share one compressed frame (compressed once with
 * a fresh compressor, which is exactly what they would send); the other compressed connections
 * (context takeover) compress the message with their own compressor, because a compressed payload
 * refers back to the connection's earlier messages and cannot be shared. Servers that broadcast a
 * lot to compressed clients should set deflate.server_no_context_takeover. Messages below
 * deflate.threshold go out uncompressed everywhere. */
WSK_API int wsk_server_broadcast(wsk_server *s, int opcode, const void *data, size_t len,
                                 wsk_conn *except);
/* Graceful shutdown: stop accepting, close every connection with 1001 (plain HTTP connections
 * finish the answer being written), and after all are closed or timeout_ms passed (the rest are
 * dropped), call done(s, arg) if non-NULL, from the loop. Calling it again does nothing. */
WSK_API void wsk_server_shutdown(wsk_server *s, unsigned timeout_ms,
                                 void (*done)(wsk_server *s, void *arg), void *arg);
/* Close the listener and drop every connection at once (on_close reports 1006). Frees s. */
WSK_API void wsk_server_free(wsk_server *s);

/* ---- Topics (publish/subscribe) -------------------------------------------------------------
 * A server's open connection subscribes to topics (any bytes: a room name, a ticker symbol);
 * wsk_publish sends one message to every subscriber of a topic, framed once (and, for connections
 * with permessage-deflate, compressed as wsk_server_broadcast describes). A connection leaves all
 * its topics when it closes; nothing needs to be undone in on_close.
 * Scope and threads: topics belong to one server, that is one loop; call these on its thread,
 * except wsk_publish on a server with a hub (below), which any thread may call.
 * Cost: subscribe, unsubscribe and wsk_is_subscribed are O(1); publishing is O(subscribers) and
 * allocates nothing per subscriber. Topic names are hashed with a per-server random key.
 * Slow subscribers: each delivery obeys the send limits of the server options. A subscriber over
 * send_hard_limit does not get the message (it is not counted as reached; wsk_conn_dropped counts
 * it) or, with drop_on_limit,
 * is closed with 1008; a publish never blocks and never queues past the limit.
 * Reentrancy: the only callback that can run inside wsk_publish is on_error (a subscriber over
 * the limit with drop_on_limit); it may subscribe, unsubscribe, close or publish. Subscribers who
 * join during a publish get the next message, not this one. */
/* Subscribe c (a server's open WebSocket) to a topic. Returns 0, 1 if c was subscribed already,
 * WSK_EINVAL (NULL, a client's connection), WSK_ECLOSED (not open) or WSK_ENOMEM. */
WSK_API int wsk_subscribe(wsk_conn *c, const void *topic, size_t len);
/* Returns 0, 1 if c was not subscribed, or WSK_EINVAL. */
WSK_API int wsk_unsubscribe(wsk_conn *c, const void *topic, size_t len);
/* 1 if c is subscribed to the topic, else 0. */
WSK_API int wsk_is_subscribed(const wsk_conn *c, const void *topic, size_t len);
/* Call fn for each topic of c (most recent first) until it returns non-zero, which is returned.
 * fn must not subscribe or unsubscribe c. Returns 0 after the last, or WSK_EINVAL. */
WSK_API int wsk_conn_topics(const wsk_conn *c,
                            int (*fn)(const void *topic, size_t len, void *arg), void *arg);
/* Subscribers of a topic on this server (0 for an unknown topic). */
WSK_API size_t wsk_topic_subscribers(const wsk_server *s, const void *topic, size_t len);
/* A hub joins servers on several loops (threads) into one topic space: give it to each of them
 * (wsk_server_options.hub). Then a publish on any server reaches the subscribers of all of them,
 * in publish order per publishing thread, and wsk_publish may be called from any thread (from a
 * thread that is not the server's loop, it returns 0: the loops deliver it soon after). Each loop
 * gets its own copy in a FIFO; a loop with 64 MiB of such messages waiting drops further ones
 * (counted by wsk_hub_dropped). One of its servers may hold topic hooks for all of them (a bridge
 * to other processes: see "Topic hooks"). Free the hub after its servers and their loops.
 * wsk_hub_new returns NULL when out of memory. Thread-safe, wsk_hub_free aside. */
WSK_API wsk_hub *wsk_hub_new(void);
WSK_API void wsk_hub_free(wsk_hub *h);
/* Messages dropped so far because a loop had too many waiting. */
WSK_API uint64_t wsk_hub_dropped(wsk_hub *h);
/* A server connection's id: unique on its server for the server's life (never reused), stable
 * for the connection's; 0 for a client's connection or when out of memory. For wsk_send_id. */
WSK_API uint64_t wsk_conn_id(wsk_conn *c);
/* Send a message to the connection with this id. On the server's loop thread: as wsk_send, or
 * WSK_ECLOSED when no open connection has the id. From any other thread (the server must have a
 * hub): the message is copied and queued for the loop, which sends it if the connection is still
 * there (else it is dropped); returns 0, WSK_EUTF8, WSK_EINVAL or WSK_ENOMEM. */
WSK_API int wsk_send_id(wsk_server *s, uint64_t id, int opcode, const void *data, size_t len);
#define WSK_PUBLISH_EXCLUDE_SELF 1u /* wsk_conn_publish: not to the publishing connection */
/* To this process's subscribers only: not handed to the topic hooks' on_publish (a bridge
 * delivering what it received from other nodes uses it, so that nothing is sent back). */
#define WSK_PUBLISH_LOCAL 2u
#define WSK_PUBLISH_FLAGS (WSK_PUBLISH_EXCLUDE_SELF | WSK_PUBLISH_LOCAL)
/* Send a text (valid UTF-8, else WSK_EUTF8) or binary message to every subscriber of the topic
 * (of every server of s's hub, if it has one). flags: 0 or WSK_PUBLISH_LOCAL. Returns the number of this server's
 * subscribers it was sent or queued to (0 for a topic nobody here subscribed to), or WSK_EINVAL,
 * WSK_EUTF8, WSK_ENOMEM (with a hub: some loops may have got it). */
WSK_API int wsk_publish(wsk_server *s, const void *topic, size_t topic_len, int opcode,
                        const void *data, size_t len, unsigned flags);
/* The same on c's server; WSK_PUBLISH_EXCLUDE_SELF leaves c out (a chat message to the others). */
WSK_API int wsk_conn_publish(wsk_conn *c, const void *topic, size_t topic_len, int opcode,
                             const void *data, size_t len, unsigned flags);

/* ---- Topic hooks: topics shared with other processes ---------------------------------------
 * What a bridge to a message broker (wsk_redis below, or one of the application's own) needs from a
 * server: to learn which topics have local subscribers, and to see what is published here.
 * Both hooks run on the server's loop thread; data and names are borrowed until they return. They
 * must not subscribe, unsubscribe, publish, close connections, change the hooks or free the
 * server; queueing the news for a socket (as wsk_redis does) is what they are for.
 * Without a hub, they run inside the call that caused them (wsk_subscribe, wsk_unsubscribe, a
 * connection's close, wsk_publish). With a hub, one server holds the hooks for the whole hub (the
 * bridge) and they run on its loop thread, for the topics and publishes of every server of the
 * hub: on_topic soon after the change (whatever loop made it), on_publish when a publish of
 * another loop reaches the bridge's loop (each message once, in the order of its publishing
 * thread), or inside the call for a publish on the bridge's loop. */
struct wsk_topic_hooks {
  /* A topic got its first subscriber on this server (first = 1), or its last one left
   * (first = 0). With a hub: on any of its servers, or on none any more; news that cancel out
   * before the bridge's loop runs are not told (a topic that empties and fills again on another
   * loop at once stays "has subscribers"). Not called when the server is freed. */
  void (*on_topic)(void *arg, const void *topic, size_t len, int first);
  /* A message was published on this server (with a hub: on any of its servers, or from another
   * thread) without WSK_PUBLISH_LOCAL (checked already: a text is valid UTF-8); whether or not
   * there are subscribers. Without a hub, before the local subscribers get it. */
  void (*on_publish)(void *arg, const void *topic, size_t len, int opcode, const void *data,
                     size_t data_len);
};
/* Install hooks (copied; NULL removes them), called with arg, on the server's loop thread. One
 * set per server: a second call replaces the first; one set per hub: a server of a hub whose
 * other server holds the hooks gets WSK_EBUSY (until that one removes them or is freed). Topics
 * that have subscribers already are not announced: walk them with wsk_server_topics. Returns 0,
 * WSK_EINVAL or WSK_EBUSY. */
WSK_API int wsk_server_set_topic_hooks(wsk_server *s, const struct wsk_topic_hooks *hooks,
                                       void *arg);
/* Call fn for each topic that has subscribers on this server, until it returns non-zero, which
 * is returned (0 after the last; WSK_EINVAL for NULL). fn must not subscribe or unsubscribe. On
 * the server that holds the hooks of a hub: each topic on_topic said has subscribers, on any
 * server of the hub (run on its loop thread; the hub's other loops wait meanwhile to count). */
WSK_API int wsk_server_topics(const wsk_server *s,
                              int (*fn)(const void *topic, size_t len, void *arg), void *arg);

/* ---- Redis: topics shared by several processes (docs/scale-out.md) --------------------------
 * A bridge that joins this server's topics to those of every other process attached to the same
 * Redis with the same prefix: wsk_publish here also PUBLISHes to the Redis channel prefix+topic,
 * this node SUBSCRIBEs to a channel while the topic has local subscribers, and what other nodes
 * publish is delivered here with WSK_PUBLISH_LOCAL. Messages from one publishing node on one
 * topic arrive in publish order. The bridge uses the server's topic hooks (one bridge per
 * server, and per hub: attached to one server of a hub, it shares the topics of all its servers,
 * whose publishes it sends from its own loop) and runs on its loop thread: create, query and free
 * it there. Redis being down does
 * not stop the server: local delivery goes on, publishes meanwhile are dropped for the other
 * nodes (counted), and the bridge reconnects with backoff (100 ms doubling to 5 s) and
 * subscribes again to every live topic. Its sockets and retry timer keep wsk_loop_run going
 * until wsk_redis_free. */
typedef struct wsk_redis wsk_redis;
struct wsk_redis_options {
  const char *url;       /* redis://[:password@]host[:port][/db] (port 6379); the host is a
                            numeric address or a name resolved when connecting (that lookup
                            blocks the loop: prefer an address). Pub/sub ignores the db. */
  const char *prefix;    /* channel prefix, NULL = "wsk:" */
  size_t max_pending;    /* default 8 MiB: bytes of publishes sent to Redis and not answered yet;
                            past it a publish is not sent to Redis (counted in dropped) */
  /* Connection state changes, one call per change (up = 1: both connections ready; 0: lost or
   * failing, retrying), with a sentence for the log. NULL = not reported. */
  void (*on_state)(wsk_redis *r, int up, const char *message, void *arg);
  void *arg;
};
struct wsk_redis_stats {
  uint64_t published;    /* messages sent to Redis */
  uint64_t received;     /* messages from other nodes delivered here */
  uint64_t dropped;      /* publishes not sent: Redis down or over max_pending */
  uint64_t invalid;      /* channel messages that were not ours (bad envelope) */
  int up;                /* both connections ready */
};
/* Attach a bridge to s and start connecting (the call does not wait for Redis). Returns 0 and the
 * bridge in *out, or WSK_EINVAL (a bad URL: the sentence says why), WSK_ENOMEM, WSK_EBUSY (another
 * server of s's hub holds the topic hooks), or WSK_EUNSUPPORTED for a library built without
 * hiredis (cmake -DWSK_REDIS=OFF), each with a sentence. */
WSK_API int wsk_redis_attach(wsk_server *s, const struct wsk_redis_options *opt, wsk_redis **out,
                             char *errbuf, size_t errlen);
WSK_API void wsk_redis_stats(const wsk_redis *r, struct wsk_redis_stats *st);
/* Detach from the server (its hooks are removed) and close both connections. Free the bridge
 * before its server. NULL is ignored. */
WSK_API void wsk_redis_free(wsk_redis *r);

/* Results of the send calls (>= 0 means the message was accepted). */
#define WSK_SEND_OK 0          /* written or queued below the high-water mark */
#define WSK_SEND_QUEUED_HIGH 1 /* queued, but the queue is above the high-water mark: wait for
                                  on_drain before sending more */

/* Send a text (must be valid UTF-8, else WSK_EUTF8), binary or any data opcode message.
 * The data is written at once or copied; the caller keeps ownership. While the loop runs, output
 * to a connection other than the one whose input is being handled (a broadcast, a publish, a send
 * from a timer) waits in that connection's queue and is written at the end of the loop iteration,
 * one write per connection for all its messages of the iteration; wsk_buffered_amount counts it
 * until then (a send that send_hard_limit would refuse writes it first: the limit counts only what
 * the socket did not take). Returns WSK_SEND_OK,
 * WSK_SEND_QUEUED_HIGH, or a negative error (WSK_ECLOSED, WSK_EBACKPRESSURE, WSK_ENOMEM) in which
 * case nothing was sent. */
WSK_API int wsk_send(wsk_conn *c, int opcode, const void *data, size_t len);
WSK_API int wsk_send_text(wsk_conn *c, const char *text, size_t len);
WSK_API int wsk_send_binary(wsk_conn *c, const void *data, size_t len);
/* Send a ping/pong with up to 125 bytes of payload. Same returns; WSK_EINVAL if len > 125. */
WSK_API int wsk_ping(wsk_conn *c, const void *data, size_t len);
WSK_API int wsk_pong(wsk_conn *c, const void *data, size_t len);
/* Start the closing handshake with code (0 = no code) and reason (may be NULL). The connection
 * closes TCP after the peer answers or close_timeout_ms; on_close follows. Returns 0, WSK_EINVAL
 * for an invalid code or a reason over 123 bytes, WSK_EUTF8 for a reason that is not UTF-8 (as
 * wsk_close_reason_check; nothing is sent), or WSK_ECLOSED if already closing. */
WSK_API int wsk_close(wsk_conn *c, unsigned code, const char *reason);
/* Drop the TCP connection now, without a close handshake (on_close reports 1006). */
WSK_API void wsk_terminate(wsk_conn *c);
/* Bytes queued and not yet written to the socket. */
WSK_API size_t wsk_buffered_amount(const wsk_conn *c);
/* Messages not sent to c because its queue was over send_hard_limit (a slow reader; each such
 * send returned WSK_EBACKPRESSURE, and a publish skipped c). A connection that dropped any keeps
 * 160 bytes more for its life to count them. */
WSK_API uint64_t wsk_conn_dropped(const wsk_conn *c);
WSK_API void *wsk_conn_user_data(const wsk_conn *c);
WSK_API void wsk_conn_set_user_data(wsk_conn *c, void *user_data);
/* The negotiated subprotocol, "" if none. */
WSK_API const char *wsk_conn_protocol(const wsk_conn *c);
/* The server this connection belongs to, or NULL for a client connection. */
WSK_API wsk_server *wsk_conn_server(const wsk_conn *c);
/* Peer address as text ("127.0.0.1:5555"), kept with the connection until on_close returns. */
WSK_API const char *wsk_conn_remote(const wsk_conn *c);
/* 1 if the connection negotiated permessage-deflate (and *params, if non-NULL, receives the
 * agreed parameters), else 0. wsk_send then compresses every message of at least
 * deflate.threshold bytes (RSV1 on its frame; control frames never), and compressed messages
 * received are inflated before on_message. */
WSK_API int wsk_conn_deflate(const wsk_conn *c, struct wsk_pmd_params *params);

/* A message framed once and sent to many connections without a copy per receiver. Reference
 * counted: wsk_prepared_new returns one reference; each queued send holds its own. On compressed
 * connections it is compressed as wsk_server_broadcast describes (the shared compressed frame is
 * made on first use and dropped with the caller's reference). The counts and that shared frame
 * are atomic: one prepared message may be sent on connections of several loops (threads) at once;
 * the caller releases it once every wsk_send_prepared call has returned. */
WSK_API wsk_prepared *wsk_prepared_new(int opcode, const void *data, size_t len);
/* (NULL for an opcode other than text or binary, text that is not UTF-8, or no memory.) */
/* Queue a prepared message on c. Same returns as wsk_send. */
WSK_API int wsk_send_prepared(wsk_conn *c, wsk_prepared *p);
/* Drop the caller's reference. */
WSK_API void wsk_prepared_release(wsk_prepared *p);

/* ------------------------------------------------------------------------------------------------
 * Client
 *
 * A wsk_client is the application's handle on one ws:// or wss:// endpoint. It makes connection
 * attempts: the host name is resolved without blocking the loop (IP literals skip DNS), every
 * address is tried in turn (the next one starts when one fails, or after 250 ms without an answer),
 * then (wss://) the TLS handshake verifies the server, and the upgrade request is sent and the 101
 * answer checked. Each attempt is a wsk_conn, handed to the callbacks and valid until on_close
 * returns (the library frees it then). An attempt that fails before the WebSocket opens reports
 * on_error with what failed (DNS, connect, TLS, timeout, the HTTP status and body of a refused
 * upgrade, the handshake rule the server broke) and then on_close with 1006; wsk_client_error
 * gives the same as values (a category, the HTTP status of a refusal). Once open, a client
 * connection is driven exactly like a server one: wsk_send, wsk_ping, wsk_close,
 * wsk_buffered_amount, and the same callbacks; its frames are masked with a fresh key from the
 * CSPRNG for every frame, and a masked frame from the server fails it (1002).
 *
 * With `reconnect`, a connection that ends (or an attempt that fails) is followed by a new attempt
 * after a backoff delay, until wsk_client_close or a permanent error (see on_retry); the
 * wsk_client stays the same across attempts, the wsk_conn is new each time. wsk_client_send queues
 * or refuses messages while no connection is open. The client lives until wsk_client_free, also
 * without `reconnect`.
 *
 * Threads: a client belongs to its loop; every wsk_client_* call is made on the loop's thread (from
 * its callbacks, or while the loop is not running).
 * ---------------------------------------------------------------------------------------------- */
typedef struct wsk_client wsk_client;

/* What kind of end an attempt or a connection came to (struct wsk_client_error.category). */
enum wsk_client_err_category {
  WSK_CLIENT_ERR_NONE = 0,   /* nothing has ended yet */
  /* DNS, connect, a reset or lost socket, a timeout, a server that closed before answering the
   * upgrade, no memory or descriptors on this side: worth another attempt. */
  WSK_CLIENT_ERR_NETWORK = 1,
  WSK_CLIENT_ERR_TLS = 2,        /* a TLS failure not about the certificate (an alert, a version) */
  WSK_CLIENT_ERR_TLS_VERIFY = 3, /* the server's certificate did not verify (expired, wrong name) */
  /* The server broke HTTP or WebSocket rules: a bad 101, a masked frame, invalid UTF-8, a message
   * over max_message, ... */
  WSK_CLIENT_ERR_PROTOCOL = 4,
  WSK_CLIENT_ERR_REFUSED = 5, /* the upgrade was answered with a status other than 101 */
  /* The connection ended without on_error: a closing handshake, the peer went away without one
   * (close_code 1006), or wsk_client_close abandoned an attempt. */
  WSK_CLIENT_ERR_CLOSED = 6,
};

/* Why the last attempt or connection of a client ended: given to on_retry, and returned by
 * wsk_client_error. Owned by the client; the values (message included) stay until the next end. */
struct wsk_client_error {
  int category;         /* WSK_CLIENT_ERR_* */
  int code;             /* the WSK_E* error on_error got; 0 for WSK_CLIENT_ERR_CLOSED */
  int http_status;      /* WSK_CLIENT_ERR_REFUSED: the HTTP status (401, 503, ...); else 0 */
  unsigned close_code;  /* the code on_close reports (1006 for an attempt that failed); 0 inside
                           on_error, which comes first */
  /* 1 when the default policy stops here: a permanent error (a refusal with a 4xx status other
   * than 408 and 429, or WSK_CLIENT_ERR_TLS_VERIFY), or backoff.max_attempts reached. */
  int stop;
  const char *message;  /* the sentence on_error got ("" for WSK_CLIENT_ERR_CLOSED) */
};

/* What on_retry returns. */
enum wsk_retry_decision {
  WSK_RETRY_STOP = 0, /* no more attempts: the client stops (wsk_client_state: STOPPED) */
  WSK_RETRY = 1,      /* another attempt after *delay_ms */
};

/* Where a client is (wsk_client_state). */
enum wsk_client_state {
  WSK_CLIENT_CONNECTING = 1, /* an attempt is in progress: DNS, TCP, TLS or the upgrade */
  WSK_CLIENT_OPEN = 2,       /* wsk_client_conn returns the connection */
  /* The closing handshake is in progress, or (inside on_error and on_close) the attempt or the
   * connection is ending; wsk_client_conn returns NULL. */
  WSK_CLIENT_CLOSING = 3,
  WSK_CLIENT_WAITING = 4,    /* between attempts: the next one starts after the backoff delay */
  /* No connection and none to come: after wsk_client_close, a policy that stopped, an end
   * without `reconnect`, or inside wsk_client_free. */
  WSK_CLIENT_STOPPED = 5,
};

/* Reconnection delays: attempt n (1, 2, ... since the last open) waits
 * min(max_delay_ms, initial_delay_ms * factor^(n-1)), shortened by a random fraction of up to
 * `jitter`, so that many clients of a restarted server do not come back in lockstep. */
struct wsk_backoff {
  unsigned initial_delay_ms; /* default 500 */
  unsigned max_delay_ms;     /* default 30000 */
  double factor;             /* default 2.0 (values below 1 count as 1) */
  double jitter;             /* default 0.5; 0 = exact delays, 1 = anywhere in [0, delay] */
  unsigned max_attempts;     /* attempts in a row without an open before giving up; 0 = never */
};

struct wsk_client_options {
  const char *const *headers;   /* NULL-terminated "Name: value" request headers, or NULL */
  const char *const *protocols; /* NULL-terminated subprotocol offer, or NULL */
  const char *origin;           /* Origin header or NULL */
  unsigned connect_timeout_ms;  /* DNS + TCP connect, default 10000 (0 also means the default) */
  unsigned handshake_timeout_ms;/* TCP connected to 101 received, default 10000; 0 = none */
  unsigned close_timeout_ms;    /* default 5000 */
  size_t max_message;           /* default 16 MiB */
  size_t send_high_water;       /* default 1 MiB */
  size_t send_hard_limit;       /* default 64 MiB */
  struct wsk_callbacks cb;
  void *user_data;              /* wsk_client_user_data, and each connection's initial user data */
  int reconnect;                /* 1: reconnect after every end not asked for (default 0) */
  struct wsk_backoff backoff;
  /* Messages given to wsk_client_send while no connection is open are queued, up to this many
   * bytes of payload, and sent in order as soon as the next connection opens (before on_open).
   * 0 (the default) refuses them with WSK_ECLOSED. */
  size_t queue_limit;
  /* A new attempt is scheduled: the attempt number since the last open and its delay. It may call
   * wsk_client_set_url and wsk_client_set_headers (a refreshed token) for that attempt. */
  void (*on_reconnect)(wsk_client *cl, unsigned attempt, unsigned delay_ms);
  /* The retry policy (with `reconnect`; NULL = the default). An attempt failed or an open
   * connection ended, and neither wsk_client_close nor wsk_client_free asked for it: called before
   * on_close of that connection with why (err; err->stop is the default's decision), the number
   * the next attempt would have (1, 2, ... since the last open), and *delay_ms, the backoff delay
   * before it, which the policy may change. Returns WSK_RETRY (then on_reconnect follows on_close)
   * or WSK_RETRY_STOP. It may call wsk_client_set_url and wsk_client_set_headers, not
   * wsk_client_free. Without a policy: WSK_RETRY unless err->stop. */
  int (*on_retry)(wsk_client *cl, const struct wsk_client_error *err, unsigned attempt,
                  unsigned *delay_ms);
  /* Observers for tools and debugging (NULL = off): the header of every frame read (outgoing 0) or
   * written (outgoing 1), and every line of the handshake request and response (without CRLF). */
  void (*on_frame)(wsk_conn *c, int outgoing, const struct wsk_frame_header *h);
  void (*on_handshake_line)(wsk_conn *c, int outgoing, const char *line, size_t len);
  /* wss:// only. The server's certificate must chain to a trusted CA and name the URL's host (a
   * DNS name, or an IP address for an IP literal, in its subjectAltName); the host name is also
   * sent as SNI. Trusted CAs: the system's store, or instead the PEM bundle tls_ca_file and/or the
   * hashed directory tls_ca_dir (c_rehash / openssl rehash) when either is set. A certificate that
   * does not pass fails the attempt with WSK_ETLS and OpenSSL's verification error
   * ("certificate has expired", "hostname mismatch", "self-signed certificate",
   * "unable to get local issuer certificate", ...). */
  const char *tls_ca_file;
  const char *tls_ca_dir;
  /* 1: no verification at all. The traffic is encrypted, but anyone on the path can pose as the
   * server: for tests against throw-away certificates only. */
  int tls_insecure;
  /* permessage-deflate (RFC 7692), off by default (memory: see the server option). With
   * deflate.enabled the request offers it (wsk_pmd_client_offer); a server that accepts it with
   * parameters that break the offer fails the attempt with WSK_EHANDSHAKE and the rule it broke,
   * and one that does not accept it gives a plain connection. */
  struct wsk_pmd_options deflate;  /* 1: messages that arrive after this side sent its close frame (while the server has not yet
   * answered it) still reach on_message, as a command-line client that closes at the end of its
   * input wants; 0 (the default): they are dropped, as RFC 6455 allows. */
  int deliver_after_close;
};

/* Fill options with the documented defaults (zero callbacks, no reconnection, permessage-deflate
 * off with the defaults of wsk_pmd_options_init). */
WSK_API void wsk_client_options_init(struct wsk_client_options *opt);
/* Start connecting to a ws:// or wss:// URL (host name, IPv4 or [IPv6] literal, optional port,
 * path and query) on this loop. Returns 0 and the client in *out (on_open, or on_error + on_close, follow
 * from the loop), or a negative error with a sentence in errbuf for options or a URL that cannot
 * be used (WSK_EINVAL; WSK_ETLS for CA files that cannot be loaded; WSK_EUNSUPPORTED for wss:// in
 * a library built without TLS). The options and the strings they point to are copied. */
WSK_API int wsk_connect(wsk_loop *loop, const char *url, const struct wsk_client_options *opt,
                        wsk_client **out, char *errbuf, size_t errlen);
/* The open connection (state open), or NULL while connecting, closing (wsk_client_close or
 * wsk_close was called, or the peer's close frame arrived), between attempts or after the end:
 * wsk_client_state says which. */
WSK_API wsk_conn *wsk_client_conn(const wsk_client *cl);
/* Where the client is: a WSK_CLIENT_* state (WSK_CLIENT_STOPPED for NULL). */
WSK_API int wsk_client_state(const wsk_client *cl);
/* Why the last attempt or connection ended (inside on_error already: close_code is 0 there), or
 * NULL before anything ended. Valid until the client ends another one or is freed. */
WSK_API const struct wsk_client_error *wsk_client_error(const wsk_client *cl);
/* The next attempts go to url (a ws:// or wss:// URL, as wsk_connect takes it; copied). An attempt
 * or connection in progress keeps the URL it started with: call it from on_retry or on_reconnect
 * for the attempt that follows. A different host forgets the TLS session kept for resumption.
 * Returns 0, or WSK_EINVAL (a bad URL: the client keeps its URL), WSK_ETLS (the CA files of the
 * options cannot be loaded for a first wss:// URL), WSK_EUNSUPPORTED or WSK_ENOMEM, with a
 * sentence in errbuf. */
WSK_API int wsk_client_set_url(wsk_client *cl, const char *url, char *errbuf, size_t errlen);
/* Replace the extra request headers of the next attempts: a NULL-terminated "Name: value" list
 * as the headers option takes it (copied; NULL or an empty list: none). Same timing as
 * wsk_client_set_url. Returns 0, WSK_EINVAL (a header the option refuses, the client keeps its
 * headers) or WSK_ENOMEM, with a sentence in errbuf. */
WSK_API int wsk_client_set_headers(wsk_client *cl, const char *const *headers, char *errbuf,
                                   size_t errlen);
/* The client a connection belongs to, or NULL for a server-side connection. */
WSK_API wsk_client *wsk_conn_client(const wsk_conn *c);
WSK_API void *wsk_client_user_data(const wsk_client *cl);
/* Send on the open connection (the returns of wsk_send) or, while none is open, queue the message
 * (WSK_SEND_OK; WSK_EBACKPRESSURE when queue_limit would be exceeded) or refuse it (WSK_ECLOSED,
 * also after wsk_client_close). */
WSK_API int wsk_client_send(wsk_client *cl, int opcode, const void *data, size_t len);
/* Stop: no more attempts, queued messages dropped. An open connection starts the closing handshake
 * with code (0 = none) and reason; an attempt in progress is abandoned (on_close 1006 follows,
 * without on_error). Returns 0, WSK_EINVAL or WSK_EUTF8 for a bad code or reason (as wsk_close,
 * in every state; the client goes on), or WSK_ECLOSED if already stopped. */
WSK_API int wsk_client_close(wsk_client *cl, unsigned code, const char *reason);
/* 1 while the client means to make another attempt; in on_close: whether one will follow (the
 * policy has decided by then). */
WSK_API int wsk_client_reconnecting(const wsk_client *cl);
/* Drop every connection at once (on_close 1006 for an open one, no reconnection) and free the
 * client. Safe from any callback. */
WSK_API void wsk_client_free(wsk_client *cl);
/* During on_open of a client connection: the value of the 101's header `name` (ASCII
 * case-insensitive; the first of several), NUL-terminated, or NULL. Always NULL outside on_open and
 * for server-side connections. */
WSK_API const char *wsk_conn_response_header(const wsk_conn *c, const char *name);

/* ------------------------------------------------------------------------------------------------
 * Blocking client, for simple programs and scripts: connect, send, receive with a timeout, close.
 * A thin layer over wsk_connect that runs a private loop inside each call (pings are answered,
 * and messages received and queued, only while a call runs). One wsk_sync per thread.
 * ---------------------------------------------------------------------------------------------- */
typedef struct wsk_sync wsk_sync;

/* Connect and wait until the WebSocket is open, the attempt failed, or timeout_ms passed (0 = only
 * the options' own timeouts). opt may be NULL for the defaults; its callbacks, reconnection and
 * queue settings are not used (the observers are). Returns 0 and *out, or a negative error with
 * the reason in errbuf. */
WSK_API int wsk_sync_connect(const char *url, const struct wsk_client_options *opt,
                             unsigned timeout_ms, wsk_sync **out, char *errbuf, size_t errlen);
/* Send a message and wait until the kernel has all of it. Returns 0 or a negative error
 * (WSK_ECLOSED once the connection has ended). */
WSK_API int wsk_sync_send(wsk_sync *s, int opcode, const void *data, size_t len);
/* The next message: 0 with *opcode, *data (valid until the next wsk_sync_recv or wsk_sync_close)
 * and *len; WSK_ETIMEDOUT after timeout_ms (-1 = no limit, 0 = only what has already arrived);
 * WSK_ECLOSED once the connection has ended and every message received before was returned. */
WSK_API int wsk_sync_recv(wsk_sync *s, int *opcode, const void **data, size_t *len,
                          int timeout_ms);
/* The open connection (wsk_conn_protocol, wsk_ping, ...), or NULL once it has ended. */
WSK_API wsk_conn *wsk_sync_conn(const wsk_sync *s);
/* Why the connection ended: a sentence (NULL while open) and, if code is non-NULL, the peer's
 * close code (1006 when it sent none). */
WSK_API const char *wsk_sync_error(const wsk_sync *s, unsigned *code);
/* Close with code (0 = 1000) and reason, wait for the peer's answer (at most close_timeout_ms) and
 * free everything. Returns 0 after a clean closing handshake, else a negative error. */
WSK_API int wsk_sync_close(wsk_sync *s, unsigned code, const char *reason);

#ifdef __cplusplus
}
#endif
#endif /* WSK_H */
