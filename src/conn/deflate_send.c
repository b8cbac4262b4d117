/* deflate_send.c - compressed messages out (RFC 7692 section 6.1): the whole message through the
 * connection's compressor into one frame with RSV1, masked afterwards in the client role.
 *
 * The compressed payload is written behind WSK_MAX_FRAME_HEADER bytes of headroom, so that the
 * header (whose length depends on the compressed size) goes right in front of it: small messages
 * on the stack (then copied like any frame), larger ones into a queue chunk that is written from
 * and, if the socket does not take it all, queued as is, without another copy.
 *
 * Without the memory to compress (zlib's state, or the output chunk), the message goes out
 * uncompressed, which RFC 7692 allows for any message: nothing of it was written yet, and the
 * compressor, which has not seen it, stays in step with the peer's decompressor. */
#include <string.h>

#include "conn/conn_internal.h"
#include "proto/alloc_internal.h"

/* Room on the stack for header + compressed payload of small messages. */
#define STACK_FRAME 4096
/* A chunk that ends up this much larger than its frame is shrunk before it can be queued. */
#define SLACK_MAX 4096

int wsk__conn_send_compressed(wsk_conn *c, int opcode, const void *data, size_t len) {
  uint8_t key[4] = {0};
  if (wsk__conn_mask_key(c, key) != 0) return WSK_ESYS; /* before the compressor moves on */
  size_t bound = wsk_pmd_compress_bound(len);
  uint8_t stack[STACK_FRAME];
  struct wsk__chunk *chunk = NULL;
  uint8_t *buf = stack;
  if (bound > sizeof stack - WSK_MAX_FRAME_HEADER) {
    if (!(chunk = wsk__chunk_new(WSK_MAX_FRAME_HEADER + bound)))
      return wsk__conn_send_frame(c, opcode, data, len, NULL);
    buf = wsk__chunk_buf(chunk);
  }
  uint8_t *payload = buf + WSK_MAX_FRAME_HEADER;
  size_t used, made;
  int r = wsk_pmd_compress(c->ext->pmd, data, len, 1, payload, bound, &used, &made);
  if (r != 0) { /* only before any output: zlib's state could not be allocated */
    if (chunk) wsk__chunk_free(chunk);
    if (r == WSK_ENOMEM) return wsk__conn_send_frame(c, opcode, data, len, NULL);
    return r == WSK_PMD_MORE ? WSK_EINVAL : r;
  }
  uint8_t hdr[WSK_MAX_FRAME_HEADER];
  size_t hl = wsk__conn_frame_header(c, hdr, WSK_CONN_RSV1, opcode, made, key);
  uint8_t *frame = payload - hl;
  memcpy(frame, hdr, hl);
  if (c->group->client) wsk_mask(payload, made, key, 0);
  if (!chunk) {
    struct iovec iov = {frame, hl + made};
    return wsk__conn_writev(c, &iov, 1, NULL, -1);
  }
  if (bound - made > SLACK_MAX) {
    /* Compressible data leaves most of the bound unused: give it back before it may sit in the
     * queue. The chunk is one block (header, then its storage), so realloc keeps the bytes. */
    struct wsk__chunk *small = wsk__realloc(chunk, sizeof *chunk + WSK_MAX_FRAME_HEADER + made);
    if (small) {
      chunk = small;
      chunk->cap = WSK_MAX_FRAME_HEADER + made; /* (later copies may fill what is left) */
    }
    frame = wsk__chunk_buf(chunk) + WSK_MAX_FRAME_HEADER - hl;
  }
  chunk->data = frame;
  chunk->len = hl + made;
  return wsk__conn_write_chunk(c, chunk);
}
