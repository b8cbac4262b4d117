/* wsk_proto.h - the sans-I/O core of wsk (layer 1), a header of its own: HTTP/1.1 heads, the
 * opening handshake (both sides), frames, masking, UTF-8, close codes, the message parser and
 * permessage-deflate. No sockets, no loop, no globals: bytes in, events and bytes out, so the core
 * can be driven from any event loop (libuv, a game engine's, a microcontroller's) or none. It
 * needs libwsk (or its objects) and nothing of <wsk.h>; <wsk.h> includes it.
 *
 * Conventions: every function that can fail returns an int that is 0 (or a count) on success and a
 * negative WSK_E* code on failure; wsk_strerror() names the code. Any thread may use the core on
 * its own objects (a parser, a deflate state): it keeps no shared state.
 */
#ifndef WSK_PROTO_H
#define WSK_PROTO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef WSK_API
#if defined(__GNUC__)
#define WSK_API __attribute__((visibility("default")))
#else
#define WSK_API
#endif
#endif

/* The version of this header. ABI policy (README, "Versions"): while the major is 0, a minor
 * release may change the ABI, so the shared library's SONAME is libwsk.so.0.MINOR; from 1.0 on it
 * is libwsk.so.MAJOR and only a major release changes the ABI. wsk_version() tells the version of
 * the library a program runs with, which may be newer than the header it was built with. */
#define WSK_VERSION_MAJOR 0
#define WSK_VERSION_MINOR 2
#define WSK_VERSION_PATCH 0
#define WSK_VERSION_HEX ((WSK_VERSION_MAJOR << 16) | (WSK_VERSION_MINOR << 8) | WSK_VERSION_PATCH)
#define WSK_VERSION_STR_(x) #x
#define WSK_VERSION_STR(x) WSK_VERSION_STR_(x)
#define WSK_VERSION                                                                         \
  WSK_VERSION_STR(WSK_VERSION_MAJOR) "." WSK_VERSION_STR(WSK_VERSION_MINOR) "."               \
  WSK_VERSION_STR(WSK_VERSION_PATCH)

/* ------------------------------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------------------------- */
/* One error space, libuv's convention. A code with an errno equivalent IS that negative errno
 * (WSK_EAGAIN == -EAGAIN, WSK_ENOMEM == -ENOMEM, WSK_EINVAL == -EINVAL, WSK_ENOSPC == -ENOSPC,
 * WSK_ETIMEDOUT == -ETIMEDOUT): a failure that comes from the kernel can travel up as -errno and
 * still compare equal to the WSK_E* a caller tests for, and no two meanings share a number. The
 * codes with no errno equivalent (WebSocket, HTTP, TLS, ...) sit at WSK_ERR_BASE and below, where
 * no errno can be (Linux keeps -1..-4095 for them). Any other negative value is a negative errno
 * from a system call (-ECONNRESET, -EMFILE, ...); wsk_strerror describes it too.
 * ABI: the values changed after 0.1.0 (they were -1..-19); compare with the names, not numbers. */
#define WSK_ERR_BASE (-5000)
enum wsk_error {
  WSK_OK = 0,
  WSK_EAGAIN = -EAGAIN,       /* need more input bytes (parsers), or the call would block */
  WSK_ENOMEM = -ENOMEM,       /* allocation failed */
  WSK_EINVAL = -EINVAL,       /* bad argument from the caller */
  WSK_ENOSPC = -ENOSPC,       /* caller's output buffer too small */
  WSK_ETIMEDOUT = -ETIMEDOUT, /* a timeout expired */
  WSK_EBUSY = -EBUSY,         /* taken already by another holder (one at a time) */
  WSK_EPROTO = WSK_ERR_BASE - 1,   /* WebSocket protocol violation (close 1002) */
  WSK_EUTF8 = WSK_ERR_BASE - 2,    /* invalid UTF-8 in a text message or close reason (close 1007) */
  WSK_ETOOBIG = WSK_ERR_BASE - 3,  /* message or frame over the configured limit (close 1009) */
  WSK_EHTTP = WSK_ERR_BASE - 4,    /* malformed HTTP (status 400) */
  WSK_EHEADERS = WSK_ERR_BASE - 5, /* HTTP head over the byte or header-count limit (status 431) */
  WSK_ECLOSED = WSK_ERR_BASE - 6,  /* connection is closing or closed; nothing was sent */
  WSK_EHANDSHAKE = WSK_ERR_BASE - 7, /* the opening handshake failed (the message says which rule) */
  WSK_ESYS = WSK_ERR_BASE - 8,     /* a system call failed; errno-derived message in the error text */
  WSK_ETLS = WSK_ERR_BASE - 9,     /* TLS failure; OpenSSL's reason in the error text */
  WSK_EDNS = WSK_ERR_BASE - 10,    /* name resolution failed */
  WSK_EBACKPRESSURE = WSK_ERR_BASE - 11, /* send refused: the queue is over its hard limit */
  WSK_EPOLICY = WSK_ERR_BASE - 12, /* policy violation (close 1008) */
  WSK_EUNSUPPORTED = WSK_ERR_BASE - 13, /* feature not built in (e.g. wss:// without TLS) */
  WSK_EDEFLATE = WSK_ERR_BASE - 14, /* compressed data that does not inflate (close 1007) */
};
#define WSK_ERR_LAST WSK_EDEFLATE /* the lowest code: WSK_ERR_BASE-1..WSK_ERR_LAST are wsk's own */

/* The library's version as WSK_VERSION_HEX encodes it (0x000200 for 0.2.0), and as text. */
WSK_API unsigned wsk_version(void);
WSK_API const char *wsk_version_string(void);

/* Short English description of an error code ("WebSocket protocol error", ...), specific for every
 * WSK_E* and, through the C library, for any other negative errno. Never NULL. */
WSK_API const char *wsk_strerror(int err);

/* ------------------------------------------------------------------------------------------------
 * Layer 1: proto - HTTP/1.1 heads (sans-I/O)
 * ---------------------------------------------------------------------------------------------- */
#define WSK_DEFAULT_MAX_HEADER_BYTES 8192
#define WSK_DEFAULT_MAX_HEADERS 100

/* One header line. Both strings point into the caller's input buffer; not NUL-terminated. */
struct wsk_header {
  const char *name;
  size_t name_len;
  const char *value; /* leading and trailing whitespace removed */
  size_t value_len;
};

/* A parsed request head. Every pointer points into the buffer given to wsk_http_parse_request. */
struct wsk_http_request {
  const char *method;
  size_t method_len;
  const char *target; /* request-target as sent: path and optional ?query */
  size_t target_len;
  int version_minor;  /* 1 for HTTP/1.1, 0 for HTTP/1.0 */
  struct wsk_header *headers; /* the caller's array */
  size_t num_headers;
  size_t head_len;    /* bytes of the head, including the final CRLF CRLF */
};

/* A parsed response head (client side of the handshake). Pointers into the caller's buffer. */
struct wsk_http_response {
  int status;
  const char *reason;
  size_t reason_len;
  int version_minor;
  struct wsk_header *headers;
  size_t num_headers;
  size_t head_len;
};

/* Parse an HTTP/1.x request head from buf[0..len). Works for any split of the input: call again
 * with the longer buffer when more bytes arrive. headers[0..max_headers) is caller storage.
 * Returns the head length (> 0) when complete, WSK_EAGAIN when more bytes are needed,
 * WSK_EHEADERS when the head exceeds max_bytes or max_headers (answer 431), WSK_EHTTP when
 * malformed (answer 400: bare CR, NUL, obs-fold, bad token, bad version, ...). */
WSK_API int wsk_http_parse_request(const char *buf, size_t len, struct wsk_http_request *req,
                                   struct wsk_header *headers, size_t max_headers, size_t max_bytes);

/* Same for a response head. Returns the head length, WSK_EAGAIN, WSK_EHEADERS or WSK_EHTTP. */
WSK_API int wsk_http_parse_response(const char *buf, size_t len, struct wsk_http_response *res,
                                    struct wsk_header *headers, size_t max_headers, size_t max_bytes);

/* First header named `name` (ASCII case-insensitive) or NULL. */
WSK_API const struct wsk_header *wsk_http_find_header(const struct wsk_header *headers, size_t n,
                                                      const char *name);

/* Number of header lines named `name`. */
WSK_API size_t wsk_http_count_headers(const struct wsk_header *headers, size_t n, const char *name);

/* 1 if any header named `name` holds `token` (case-insensitive) as an element of its
 * comma-separated list (across all lines with that name), else 0. */
WSK_API int wsk_http_has_token(const struct wsk_header *headers, size_t n, const char *name,
                               const char *token);

/* Iterate the elements of a comma-separated header value. Start with *pos = 0; each call stores
 * the next trimmed element (quoted strings kept whole) in *elem and *elem_len and returns 1, or
 * returns 0 when none are left. Empty elements are skipped. */
WSK_API int wsk_http_list_next(const char *value, size_t len, size_t *pos, const char **elem,
                               size_t *elem_len);

/* Reason phrase for an HTTP status ("Not Found"), "Unknown" for unknown codes. */
WSK_API const char *wsk_http_status_text(int status);

/* Write a complete, self-contained HTTP/1.1 response into out[0..cap): status line, Content-Type
 * (if non-NULL), Content-Length, `extra` (already formatted "Name: value\r\n" lines, or NULL),
 * a blank line and the body. `close` adds "Connection: close". Returns the length written,
 * or WSK_ENOSPC if it does not fit. */
WSK_API int wsk_http_write_response(char *out, size_t cap, int status, const char *content_type,
                                    const char *extra, const void *body, size_t body_len, int close);

/* ------------------------------------------------------------------------------------------------
 * Layer 1: proto - the opening handshake (RFC 6455 section 4)
 * ---------------------------------------------------------------------------------------------- */
#define WSK_KEY_LEN 24    /* base64 of 16 bytes */
#define WSK_ACCEPT_LEN 28 /* base64 of a SHA-1 digest */

/* The WebSocket parts of a valid upgrade request. Pointers into the request buffer. */
struct wsk_upgrade_request {
  const char *key;             /* Sec-WebSocket-Key, WSK_KEY_LEN bytes */
  const struct wsk_header *headers; /* all request headers, to walk protocols/extensions */
  size_t num_headers;
  const char *origin;          /* Origin or NULL */
  size_t origin_len;
  const char *host;
  size_t host_len;
};

/* 1 if the request asks for a WebSocket upgrade at all (an Upgrade header naming "websocket");
 * such a request is then validated by wsk_handshake_check_request, anything else is plain HTTP. */
WSK_API int wsk_handshake_is_upgrade(const struct wsk_http_request *req);

/* Validate an upgrade request per RFC 6455 4.2.1. Returns 0 and fills *out when valid; otherwise
 * returns the HTTP status to answer (400, 405, 426) and sets *why to a static sentence naming the
 * broken rule. For 426 the response must carry "Sec-WebSocket-Version: 13". */
WSK_API int wsk_handshake_check_request(const struct wsk_http_request *req,
                                        struct wsk_upgrade_request *out, const char **why);

/* Compute Sec-WebSocket-Accept for a key: out receives WSK_ACCEPT_LEN chars and a NUL. */
WSK_API void wsk_handshake_accept(const char *key, size_t key_len, char out[WSK_ACCEPT_LEN + 1]);

/* Iterate offered subprotocols (all Sec-WebSocket-Protocol lines). Start with *line = *pos = 0.
 * Returns 1 and the next token, or 0 at the end. */
WSK_API int wsk_handshake_next_protocol(const struct wsk_header *headers, size_t n, size_t *line,
                                        size_t *pos, const char **proto, size_t *proto_len);

/* One offered extension with its raw parameter text ("permessage-deflate; client_max_window_bits").
 * Iterate all Sec-WebSocket-Extensions lines like wsk_handshake_next_protocol. */
WSK_API int wsk_handshake_next_extension(const struct wsk_header *headers, size_t n, size_t *line,
                                         size_t *pos, const char **ext, size_t *ext_len);

/* Write the 101 Switching Protocols response. protocol and extensions may be NULL; extra is
 * preformatted "Name: value\r\n" lines or NULL. Returns the length or WSK_ENOSPC. */
WSK_API int wsk_handshake_write_response(char *out, size_t cap, const char *key, size_t key_len,
                                         const char *protocol, const char *extensions,
                                         const char *extra);

/* Write an error response for a failed upgrade: status, a text/plain body `why`, Connection:
 * close, and Sec-WebSocket-Version: 13 when status is 426. Returns the length or WSK_ENOSPC. */
WSK_API int wsk_handshake_write_error(char *out, size_t cap, int status, const char *why);

/* Client side: base64-encode 16 random bytes (the caller supplies them from a CSPRNG) into a key:
 * out receives WSK_KEY_LEN chars and a NUL. */
WSK_API void wsk_handshake_make_key(const uint8_t nonce[16], char out[WSK_KEY_LEN + 1]);

/* Client side: write the GET upgrade request. host_port is the Host header value; path includes
 * the query ("/" if empty); protocols is a comma-separated offer or NULL; origin and extensions
 * may be NULL; extra is preformatted "Name: value\r\n" lines or NULL.
 * Returns the length or WSK_ENOSPC. */
WSK_API int wsk_handshake_write_request(char *out, size_t cap, const char *host_port,
                                        const char *path, const char *key, const char *protocols,
                                        const char *origin, const char *extensions,
                                        const char *extra);

/* Client side: validate a parsed response against the request we sent. offered_protocols is the
 * comma-separated list we offered (or NULL); any extension in the response is refused unless
 * allow_extensions. Returns 0 if valid, else WSK_EHANDSHAKE with *why naming the rule
 * (status not 101, missing Upgrade/Connection, wrong Accept, unsolicited subprotocol/extension). */
WSK_API int wsk_handshake_check_response(const struct wsk_http_response *res, const char *key,
                                         const char *offered_protocols, int allow_extensions,
                                         const char **why);

/* ------------------------------------------------------------------------------------------------
 * Layer 1: proto - frames, masking, UTF-8, close codes (RFC 6455 section 5, 7)
 * ---------------------------------------------------------------------------------------------- */
enum wsk_opcode {
  WSK_OP_CONT = 0x0,
  WSK_OP_TEXT = 0x1,
  WSK_OP_BINARY = 0x2,
  WSK_OP_CLOSE = 0x8,
  WSK_OP_PING = 0x9,
  WSK_OP_PONG = 0xA,
};

enum wsk_close_code {
  WSK_CLOSE_NORMAL = 1000,
  WSK_CLOSE_GOING_AWAY = 1001,
  WSK_CLOSE_PROTOCOL = 1002,
  WSK_CLOSE_UNSUPPORTED = 1003,
  WSK_CLOSE_NO_STATUS = 1005, /* never on the wire: "close frame had no code" */
  WSK_CLOSE_ABNORMAL = 1006,  /* never on the wire: "TCP closed without a close frame" */
  WSK_CLOSE_INVALID_DATA = 1007,
  WSK_CLOSE_POLICY = 1008,
  WSK_CLOSE_TOO_BIG = 1009,
  WSK_CLOSE_EXTENSION = 1010,
  WSK_CLOSE_INTERNAL = 1011,
  WSK_CLOSE_RESTART = 1012,
  WSK_CLOSE_TRY_LATER = 1013,
  WSK_CLOSE_BAD_GATEWAY = 1014,
};

#define WSK_MAX_FRAME_HEADER 14 /* 2 + 8 (64-bit length) + 4 (mask key) */
#define WSK_MAX_CONTROL_PAYLOAD 125

struct wsk_frame_header {
  uint8_t fin;      /* 1 if final fragment */
  uint8_t rsv;      /* RSV1..3 as bits 0x4, 0x2, 0x1 */
  uint8_t opcode;
  uint8_t masked;
  uint8_t mask[4];
  uint64_t payload_len;
  uint8_t header_len; /* 2..14 */
};

/* Parse one frame header from buf[0..len). Returns the header length (2..14), WSK_EAGAIN if the
 * header is not complete yet, or WSK_EPROTO for a 64-bit length with the top bit set or a
 * non-minimal length encoding. Checks nothing else (see wsk_parser for the rules). */
WSK_API int wsk_frame_parse_header(const uint8_t *buf, size_t len, struct wsk_frame_header *h);

/* Write a frame header into out (at least WSK_MAX_FRAME_HEADER bytes) using the shortest length
 * encoding. rsv is RSV bits as in wsk_frame_header. mask is NULL (server) or the 4-byte key
 * (client; the caller then masks the payload with wsk_mask). Returns the header length. */
WSK_API size_t wsk_frame_write_header(uint8_t *out, int fin, int rsv, int opcode,
                                      uint64_t payload_len, const uint8_t *mask);

/* A whole frame in one call: the header, then the payload copied after it, masked with key when
 * key is non-NULL (a client's frames: RFC 6455 wants a fresh unpredictable key per frame, which
 * wsk_random gives) or plain when key is NULL (a server's). flags: WSK_FRAME_FIN on the last (or
 * only) fragment of a message and on every control frame, WSK_FRAME_RSV1 on the first fragment of
 * a compressed message. out[0..cap) must not overlap payload; WSK_FRAME_SIZE(len, masked) bytes
 * suffice. Returns 0 with *out_len set, WSK_ENOSPC when cap is too small, or WSK_EINVAL for an
 * unknown opcode or a control frame (close, ping, pong) without FIN or over 125 bytes. */
#define WSK_FRAME_FIN 1u
#define WSK_FRAME_RSV1 2u
#define WSK_FRAME_SIZE(len, masked)                                                         \
  ((size_t)(len) + 2 + ((size_t)(len) < 126 ? 0 : (size_t)(len) <= 0xFFFF ? 2 : 8) +          \
   ((masked) ? 4 : 0))
WSK_API int wsk_frame_encode(uint8_t *out, size_t cap, int opcode, unsigned flags,
                             const void *payload, size_t len, const uint8_t *key,
                             size_t *out_len);

/* n bytes from OpenSSL's random generator (RAND_bytes): masking keys, handshake nonces. Returns 0
 * or WSK_ESYS when the generator could not be seeded. */
WSK_API int wsk_random(void *out, size_t n);

/* XOR data[0..len) in place with the key, starting at key byte (offset & 3); returns the offset
 * to pass to the next call so masking continues across calls. */
WSK_API size_t wsk_mask(uint8_t *data, size_t len, const uint8_t key[4], size_t offset);

/* Incremental UTF-8 validation. State 0 is "at a character boundary". */
typedef uint32_t wsk_utf8_state;
#define WSK_UTF8_ACCEPT 0u
#define WSK_UTF8_REJECT 1u
/* Feed bytes; returns the new state: WSK_UTF8_ACCEPT at a boundary, WSK_UTF8_REJECT as soon as the
 * bytes seen cannot be the start of valid UTF-8 (sticky), any other value = inside a sequence. */
WSK_API wsk_utf8_state wsk_utf8_feed(wsk_utf8_state state, const uint8_t *data, size_t len);
/* 1 if data[0..len) is complete, valid UTF-8. */
WSK_API int wsk_utf8_valid(const uint8_t *data, size_t len);

/* 1 if code may appear in a close frame on the wire (1000-1003, 1007-1014, 3000-4999). */
WSK_API int wsk_close_code_valid(unsigned code);
/* 0 if reason[0..len) can be sent in a close frame, else WSK_EINVAL (over 123 bytes: it must fit
 * a control frame with the code) or WSK_EUTF8 (not UTF-8). reason may be NULL when len is 0. */
WSK_API int wsk_close_reason_check(const char *reason, size_t len);

/* Parse a close frame payload. Empty payload: *code = 1005, no reason, returns 0. Returns
 * WSK_EPROTO for a 1-byte payload or an invalid code, WSK_EUTF8 for a reason that is not UTF-8. */
WSK_API int wsk_close_parse(const uint8_t *payload, size_t len, unsigned *code, const char **reason,
                            size_t *reason_len);

/* Build a close payload (code in network order + reason, reason cut at 123 bytes on a character
 * boundary) into out[0..125]. code 0 means an empty payload. Returns the payload length. */
WSK_API size_t wsk_close_build(uint8_t out[WSK_MAX_CONTROL_PAYLOAD], unsigned code,
                               const char *reason, size_t reason_len);

/* The close code a peer must send for a protocol-layer error (WSK_EPROTO -> 1002, WSK_EUTF8 and
 * WSK_EDEFLATE -> 1007, WSK_ETOOBIG -> 1009, WSK_EPOLICY -> 1008, anything else -> 1011). */
WSK_API unsigned wsk_close_code_for_error(int err);

/* The message layer: a small state machine (no allocation, WSK_PARSER_SIZE bytes) that turns a byte stream
 * into events. Data payload is unmasked in place and delivered as chunks; the caller reassembles
 * messages (or streams them). Control frames are delivered whole: the parser consumes a control
 * frame only when all of it is in the buffer, so the caller keeps unconsumed bytes for the
 * next call (at most WSK_MAX_FRAME_HEADER + 125 bytes of them). */
enum wsk_role { WSK_ROLE_SERVER = 0, WSK_ROLE_CLIENT = 1 };

enum wsk_event_type {
  WSK_EV_NONE = 0,  /* nothing complete yet; keep the unconsumed bytes and call again with more */
  WSK_EV_DATA,      /* a chunk of a text/binary message (possibly empty) */
  WSK_EV_PING,
  WSK_EV_PONG,
  WSK_EV_CLOSE,     /* code/reason parsed and validated */
};

struct wsk_event {
  enum wsk_event_type type;
  uint8_t opcode;     /* DATA: WSK_OP_TEXT or WSK_OP_BINARY of the message */
  uint8_t first;      /* DATA: first chunk of the message */
  uint8_t fin;        /* DATA: last chunk of the message */
  uint8_t compressed; /* DATA: message had RSV1 set (permessage-deflate); UTF-8 not checked */
  uint8_t *data;      /* payload chunk, unmasked, points into the caller's buffer */
  size_t len;
  unsigned close_code;      /* CLOSE: 1005 when the frame had no code */
  const char *close_reason; /* CLOSE: points into the buffer */
  size_t close_reason_len;
};

/* The parser's state. Its fields are part of the ABI (a caller embeds the struct and
 * wsk_parser_init fills it): read them if useful, write none. Its size is fixed per SONAME and
 * checked by a static assertion in src/proto/parser.c (WSK_PARSER_SIZE). */
#define WSK_PARSER_SIZE 40
struct wsk_parser {
  uint64_t remaining;     /* payload bytes left in the current data frame (0: between frames) */
  uint64_t message_len;   /* bytes of the current message so far */
  uint64_t max_message;   /* 0 = unlimited */
  wsk_utf8_state utf8;
  uint8_t mask[4];
  uint8_t mask_offset;
  uint8_t role;           /* enum wsk_role */
  uint8_t allow_rsv1;     /* permessage-deflate negotiated */
  uint8_t msg_opcode;     /* WSK_OP_TEXT/BINARY of the open message, 0 between messages */
  uint8_t msg_compressed;
  uint8_t frame_fin;      /* the current data frame has FIN set */
  uint8_t first_pending;  /* next DATA chunk is the first of its message */
  uint8_t closed;         /* a close frame was parsed; further input is ignored */
};

/* Initialise a parser. max_message 0 means unlimited. */
WSK_API void wsk_parser_init(struct wsk_parser *p, enum wsk_role role, uint64_t max_message,
                             int allow_rsv1);

/* Consume bytes from buf[0..len) and produce at most one event in *ev. Returns the number of bytes
 * consumed (possibly 0 with ev->type == WSK_EV_NONE: keep them and call again with more) or a
 * negative error (WSK_EPROTO, WSK_EUTF8, WSK_ETOOBIG); wsk_close_code_for_error() gives the close
 * code to send. A call may also consume bytes without an event (a data frame's header whose payload
 * has not arrived yet, or anything after a close frame), so loop while it returns > 0 or an event.
 * Modifies buf (unmasking in place). After an error the parser must not be fed. */
WSK_API int wsk_parser_feed(struct wsk_parser *p, uint8_t *buf, size_t len, struct wsk_event *ev);

/* The session: an optional small layer over the parser for a program that runs the core in a
 * loop of its own (no allocation; the caller owns the socket and the buffers). It does what every
 * endpoint must and nobody wants to write again: the client's opening handshake (request with a
 * fresh key, response checked), the server's (request checked, 101 or an error answer), a pong
 * for each ping, the answer to the peer's close frame, the close frame for a protocol error, and
 * the rule that nothing but control frames follow our close. Every call that has bytes for the
 * peer writes them into out[0..cap) and sets *out_len (0: nothing to send); write them to the
 * socket in order, before anything a later call gives. cap must be at least WSK_SESSION_OUT_MIN
 * (a control frame) for wsk_session_feed, the head's size for the handshakes, and
 * WSK_FRAME_SIZE(len, 1) for a message. README, "The core in your own loop", is an example. */
#define WSK_SESSION_OUT_MIN (WSK_MAX_FRAME_HEADER + WSK_MAX_CONTROL_PAYLOAD)
enum wsk_session_state {
  WSK_SESSION_CONNECTING = 0, /* the opening handshake is not complete */
  WSK_SESSION_OPEN,           /* messages flow both ways */
  WSK_SESSION_CLOSING,        /* we sent our close frame; the peer's answer is awaited */
  WSK_SESSION_CLOSED,         /* both close frames (or a failure): see wsk_session_feed */
};
struct wsk_session {
  struct wsk_parser parser;
  uint8_t role;  /* enum wsk_role */
  uint8_t state; /* enum wsk_session_state */
  uint8_t close_sent;
  uint8_t close_received;
  char key[WSK_KEY_LEN + 1]; /* a client's Sec-WebSocket-Key, to check the 101 against */
};
/* Start a session. max_message bounds a message's size (0: none; the parser's limit). */
WSK_API void wsk_session_init(struct wsk_session *s, enum wsk_role role, uint64_t max_message);
/* Client: the upgrade request for ws://host_port/path (path with its query; extra: more
 * "Name: value\r\n" lines or NULL) into out. Returns 0, WSK_ENOSPC, WSK_EINVAL (not a client
 * session, or not CONNECTING) or WSK_ESYS (no random key). */
WSK_API int wsk_session_request(struct wsk_session *s, const char *host_port, const char *path,
                                const char *extra, uint8_t *out, size_t cap, size_t *out_len);
/* Feed input, as wsk_parser_feed does (one event per call; keep what it did not consume and call
 * again with more), with the session's work done on the way:
 * - CONNECTING: a client reads the 101, a server reads the request and answers it (the 101 in
 *   out). Once the head is whole and valid, the call consumes it and the session is OPEN (no
 *   event: check s->state); ev->data/len hold the head (parse it again for headers of your own).
 *   Bytes after it belong to the next call. A refusal returns WSK_EHANDSHAKE (WSK_EHEADERS for a
 *   head over 8 KiB or 64 headers) with ev->close_reason naming the broken rule, and on a server
 *   the 400/405/426/431 answer in out: send it and close.
 * - WSK_EV_PING: the pong is in out. WSK_EV_CLOSE: the answering close frame is in out (unless
 *   ours went first), and the session is CLOSED.
 * - A protocol error (WSK_EPROTO, WSK_EUTF8, WSK_ETOOBIG): our close frame with the matching code
 *   is in out; the session is CLOSED.
 * When CLOSED: a server closes the TCP connection once out is written; a client waits for the
 * server to close it (RFC 6455 7.1.1), a few seconds at most. Feeding a CLOSED session consumes
 * everything and gives no event. */
WSK_API int wsk_session_feed(struct wsk_session *s, uint8_t *buf, size_t len, struct wsk_event *ev,
                             uint8_t *out, size_t cap, size_t *out_len);
/* A text (valid UTF-8, else WSK_EUTF8), binary or ping message as one frame into out (masked
 * with a fresh key on a client). Returns 0, WSK_ECLOSED (not OPEN), WSK_ENOSPC or WSK_EINVAL. */
WSK_API int wsk_session_send(struct wsk_session *s, int opcode, const void *data, size_t len,
                             uint8_t *out, size_t cap, size_t *out_len);
/* Our close frame (code 0: none; reason may be NULL) into out: CLOSING, or CLOSED when the peer's
 * came first. Returns 0, WSK_ECLOSED (sent already, or still CONNECTING), WSK_EINVAL (bad code or
 * reason) or WSK_ENOSPC. */
WSK_API int wsk_session_close(struct wsk_session *s, unsigned code, const char *reason,
                              uint8_t *out, size_t cap, size_t *out_len);

/* ------------------------------------------------------------------------------------------------
 * Layer 1: proto - permessage-deflate (RFC 7692)
 *
 * Sans-I/O building blocks: negotiation on both sides (pure functions over the parsed headers)
 * and a per-connection compressor/decompressor (zlib raw DEFLATE) that reads and writes
 * caller-supplied buffers. The parser already accepts RSV1 (allow_rsv1) and flags compressed
 * messages (wsk_event.compressed); their payload goes through wsk_pmd_decompress, and text is
 * UTF-8 checked by the caller after inflating. Control frames are never compressed.
 *
 * Window sizes: zlib cannot compress with an 8-bit window (it refuses raw DEFLATE with 8), so a
 * server declines an offer that demands server_max_window_bits=8, and a client told to use
 * client_max_window_bits=8 keeps the extension but sends every message uncompressed (which
 * RFC 7692 allows; wsk_pmd_should_compress says 0). A peer that announced 8 is inflated with a
 * 9-bit window: a larger window reads everything a smaller one wrote (and forgives old zlib
 * versions that wrote 9 while announcing 8).
 * ---------------------------------------------------------------------------------------------- */
#define WSK_PMD_EXTENSION_MAX 160 /* room for the longest offer or response text and its NUL */
#define WSK_PMD_MIN_OUT 16        /* smallest output room wsk_pmd_compress works with */
#define WSK_PMD_MORE 1            /* (de)compress: out is full; call again with more room */

/* What this end wants. Names follow RFC 7692: server_* is about the server's compressor,
 * client_* about the client's, whichever side we are. */
struct wsk_pmd_options {
  int enabled;                    /* 0 (default): never offer or accept the extension */
  /* Server: reset our compressor after every message and say so (also done when the client asks).
   * Client: ask the server to do that for its compressor. Default 0. */
  int server_no_context_takeover;
  /* Server: ask the client to reset its compressor after every message (a client's own hint in
   * its offer is echoed too, so our decompressor can be freed between messages).
   * Client: reset our compressor after every message and say so. Default 0. */
  int client_no_context_takeover;
  /* 9..15, default 15. Server: our compressor's window (not announced unless the client offered
   * server_max_window_bits, for clients that refuse unasked parameters). Client: ask the server
   * for at most this (offered when < 15). */
  int server_max_window_bits;
  /* 9..15, default 15. Server: ask the client for at most this, when its offer has
   * client_max_window_bits (a client that did not offer it cannot be limited; its messages are
   * inflated with a 15-bit window). Client: our compressor's window, offered as
   * client_max_window_bits=N when < 15, and as a bare client_max_window_bits otherwise. */
  int client_max_window_bits;
  int mem_level;                  /* 1..9, default 8: zlib memLevel of our compressor */
  int level;                      /* 0..9, default 6: zlib compression level (1 = fastest) */
  size_t threshold;               /* messages shorter than this go uncompressed; default 0 */
};

/* Fill options with the defaults above (enabled = 0). */
WSK_API void wsk_pmd_options_init(struct wsk_pmd_options *opt);
/* 0 if the options are usable, else WSK_EINVAL with *why naming the field. */
WSK_API int wsk_pmd_options_check(const struct wsk_pmd_options *opt, const char **why);

/* The agreed parameters (RFC 7692 section 7.1) as this end applies them. */
struct wsk_pmd_params {
  uint8_t server_no_context_takeover; /* the server's compressor starts afresh for each message */
  uint8_t client_no_context_takeover; /* the client's does */
  uint8_t server_max_window_bits;     /* 8..15: largest LZ77 window of the server's compressor */
  uint8_t client_max_window_bits;     /* 8..15: the same for the client's */
};

/* Server: walk the offers of all Sec-WebSocket-Extensions lines in order and accept the first
 * permessage-deflate offer that is well-formed (known parameters, none twice, valid values) and
 * that we can honour; other extensions and declined offers are skipped. Returns 1 with *params
 * and the response text (for the 101's Sec-WebSocket-Extensions, e.g. "permessage-deflate;
 * server_no_context_takeover; client_max_window_bits=10"), 0 when nothing is accepted (or the
 * options are disabled), or WSK_EINVAL for invalid options. The response never carries a
 * parameter the accepted offer did not allow. */
WSK_API int wsk_pmd_server_negotiate(const struct wsk_pmd_options *opt,
                                     const struct wsk_header *headers, size_t n,
                                     struct wsk_pmd_params *params,
                                     char response[WSK_PMD_EXTENSION_MAX]);

/* Client: the offer text for the request's Sec-WebSocket-Extensions. Returns its length, or
 * WSK_EINVAL for invalid options. */
WSK_API int wsk_pmd_client_offer(const struct wsk_pmd_options *opt,
                                 char offer[WSK_PMD_EXTENSION_MAX]);

/* Client: check the 101's Sec-WebSocket-Extensions (all lines) against the offer built from the
 * same options. Returns 1 with *params when the server accepted, 0 when it answered no extension,
 * or WSK_EHANDSHAKE (fail the connection) with *why: an extension other than permessage-deflate
 * or more than one, an unknown or repeated parameter, a bad value, client_max_window_bits without
 * a value, a window above the one offered, or a parameter of the offer the server left out. */
WSK_API int wsk_pmd_client_accept(const struct wsk_pmd_options *opt,
                                  const struct wsk_header *headers, size_t n,
                                  struct wsk_pmd_params *params, const char **why);

/* The per-connection codec. Allocate wsk_pmd_size() bytes (malloc alignment) only for a
 * connection that negotiated the extension, then wsk_pmd_init; wsk_pmd_end releases zlib's memory
 * (the caller frees the block). zlib's state is allocated on first use in each direction; the
 * side that has no context takeover frees its state after every message. */
typedef struct wsk_pmd wsk_pmd;
WSK_API size_t wsk_pmd_size(void);
/* max_message limits the inflated size of one message (0 = none). Uses opt's mem_level, level and
 * threshold. Returns 0 or WSK_EINVAL (bad role, window bits or options). */
WSK_API int wsk_pmd_init(wsk_pmd *z, enum wsk_role role, const struct wsk_pmd_params *params,
                         const struct wsk_pmd_options *opt, uint64_t max_message);
WSK_API void wsk_pmd_end(wsk_pmd *z);

/* 1 if a message of len bytes should be sent compressed (len >= threshold and compression is
 * possible), 0 to send it as is (RSV1 clear). */
WSK_API int wsk_pmd_should_compress(const wsk_pmd *z, size_t len);
/* Output room that always lets wsk_pmd_compress finish a len-byte message in one call. */
WSK_API size_t wsk_pmd_compress_bound(size_t len);

/* Compress a message given in one or more pieces; fin = 1 with the last piece (possibly empty).
 * Appends to out[0..out_cap) (out_cap >= WSK_PMD_MIN_OUT, else WSK_EINVAL) and sets *consumed and
 * *produced. Returns 0 when all of in was taken (with fin: the message is complete, its payload
 * flushed with Z_SYNC_FLUSH and the 00 00 ff ff tail already removed), WSK_PMD_MORE when out is
 * full (call again with in + *consumed and fresh room; the bytes produced so far are final, so
 * each call's output may go out as its own frame: RSV1 on the first, FIN on the last),
 * WSK_ENOMEM, or WSK_EINVAL when this end may not compress. */
WSK_API int wsk_pmd_compress(wsk_pmd *z, const void *in, size_t in_len, int fin, void *out,
                             size_t out_cap, size_t *consumed, size_t *produced);

/* Inflate a compressed message fed in pieces as its frames arrive; fin = 1 with the last piece
 * (the 00 00 ff ff tail is appended internally). Appends to out[0..out_cap), *consumed and
 * *produced as above. Returns 0 when all of in was taken (with fin: the message is complete and
 * the decompressor is ready for the next one), WSK_PMD_MORE when out is full (call again with
 * in + *consumed and more room), WSK_ETOOBIG as soon as the message would inflate past
 * max_message (at most max_message bytes are ever written, so grow out step by step and a deflate
 * bomb costs no more than the limit), WSK_EDEFLATE for data that does not inflate or does not end
 * on a block boundary, or WSK_ENOMEM. After an error the decompressor must not be used again.
 * An empty payload is taken as an empty message. Text must then be UTF-8 checked by the caller. */
WSK_API int wsk_pmd_decompress(wsk_pmd *z, const void *in, size_t in_len, int fin, void *out,
                               size_t out_cap, size_t *consumed, size_t *produced);

/* Bytes this connection's extension holds now: wsk_pmd_size() plus zlib's allocations, counted
 * exactly through zlib's allocator hooks; *peak (if non-NULL) receives the most held so far. */
WSK_API size_t wsk_pmd_memory(const wsk_pmd *z, size_t *peak);

#ifdef __cplusplus
}
#endif
#endif /* WSK_PROTO_H */
