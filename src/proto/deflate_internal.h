/* deflate_internal.h - permessage-deflate (RFC 7692) inside the proto layer: one parsed
 * extension element (shared by the server's and the client's negotiation) and the per-connection
 * compressor/decompressor state behind the opaque wsk_pmd. */
#ifndef WSK_DEFLATE_INTERNAL_H
#define WSK_DEFLATE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "wsk_proto.h"

/* ---- negotiation (deflate_params.c) -------------------------------------------------------- */

/* Bits of wsk__pmd_ext.has: which parameters the element carried. */
#define WSK_PMD_HAS_SERVER_NCT 0x1  /* server_no_context_takeover */
#define WSK_PMD_HAS_CLIENT_NCT 0x2  /* client_no_context_takeover */
#define WSK_PMD_HAS_SERVER_BITS 0x4 /* server_max_window_bits=N */
#define WSK_PMD_HAS_CLIENT_BITS 0x8 /* client_max_window_bits, with or without =N */

/* One permessage-deflate element of a Sec-WebSocket-Extensions header, syntax and values checked
 * (RFC 7692 section 7.1): every parameter known, none twice, values 8..15 without leading zeros
 * (a quoted-string value is unquoted first, as RFC 6455 section 9.1 allows). */
struct wsk__pmd_ext {
  unsigned has;         /* WSK_PMD_HAS_* */
  uint8_t server_bits;  /* value of server_max_window_bits */
  uint8_t client_bits;  /* value of client_max_window_bits, 0 when it came without one */
};

/* Parse one element as given by wsk_handshake_next_extension. Returns 1 and fills *ext for a
 * valid permessage-deflate element, 0 for an element naming another extension, or WSK_EINVAL
 * for a malformed permessage-deflate element with *why naming the rule. In a response
 * (is_response), client_max_window_bits must carry a value. */
int wsk__pmd_parse(const char *elem, size_t len, int is_response, struct wsk__pmd_ext *ext,
                  const char **why);

/* ---- the codec (deflate_ctx.c, deflate_compress.c, deflate_inflate.c) ---------------------- */

struct wsk_pmd {
  z_stream tx;          /* raw deflate of our messages (initialised on first use) */
  z_stream rx;          /* raw inflate of the peer's messages (initialised on first use) */
  size_t mem;           /* bytes zlib holds now, through the counting allocator */
  size_t mem_peak;
  uint64_t max_message; /* limit on the inflated size of one message, 0 = none */
  uint64_t rx_total;    /* bytes inflated so far in the current message */
  uint64_t rx_fed;      /* compressed bytes consumed since the message or a DEFLATE stream began */
  uint64_t tx_fed;      /* bytes of the current outgoing message taken in so far */
  size_t threshold;
  int level;
  uint8_t mem_level;
  uint8_t tx_bits;      /* our compressor's window; 8 means we may not compress (zlib cannot) */
  uint8_t rx_bits;      /* our decompressor's window (9..15) */
  uint8_t tx_reset;     /* no context takeover on our side: fresh compressor per message */
  uint8_t rx_reset;     /* no context takeover on the peer's side: fresh decompressor per message */
  uint8_t tx_live, rx_live;
  uint8_t tx_nhold;     /* output bytes held back: they may be the 00 00 ff ff tail */
  uint8_t tx_hold[4];
  uint8_t rx_tail;      /* bytes of the 00 00 ff ff tail fed to inflate at the message's end */
};

/* Counting allocator hooks for zlib (opaque = the wsk_pmd). */
voidpf wsk__pmd_zalloc(voidpf opaque, uInt items, uInt size);
void wsk__pmd_zfree(voidpf opaque, voidpf ptr);

/* The largest chunk handed to zlib in one call (its counters are 32-bit). */
#define WSK_PMD_ZCHUNK ((size_t)1 << 30)

#endif
