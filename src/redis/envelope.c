/* envelope.c - the bytes around a message on a Redis channel (docs/scale-out.md). */
#include "redis/redis_internal.h"

void wsk__redis_envelope_write(uint8_t out[WSK_REDIS_HEADER], uint64_t node, int opcode) {
  out[0] = WSK_REDIS_MAGIC;
  out[1] = WSK_REDIS_VERSION;
  for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t)(node >> (56 - 8 * i));
  out[10] = (uint8_t)opcode;
  out[11] = 0; /* flags: none defined yet */
}

int wsk__redis_envelope_read(const void *in, size_t len, uint64_t *node, int *opcode,
                            const uint8_t **payload, size_t *payload_len) {
  const uint8_t *b = in;
  if (len < WSK_REDIS_HEADER || b[0] != WSK_REDIS_MAGIC || b[1] != WSK_REDIS_VERSION) return -1;
  if (b[10] != WSK_OP_TEXT && b[10] != WSK_OP_BINARY) return -1;
  uint64_t n = 0;
  for (int i = 0; i < 8; i++) n = n << 8 | b[2 + i];
  *node = n;
  *opcode = b[10];
  *payload = b + WSK_REDIS_HEADER;
  *payload_len = len - WSK_REDIS_HEADER;
  return 0;
}
