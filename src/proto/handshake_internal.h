/* handshake_internal.h - pieces of the opening handshake shared by the server and client sides. */
#ifndef WSK_HANDSHAKE_INTERNAL_H
#define WSK_HANDSHAKE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* 1 if key[0..len) is a Sec-WebSocket-Key: exactly 24 characters of the base64 alphabet that end
 * in "==", i.e. the encoding of 16 bytes. */
int wsk__handshake_key_valid(const char *key, size_t len);

/* sha1.c: the SHA-1 digest of data[0..len). */
#define WSK_SHA1_LEN 20
void wsk__sha1(const void *data, size_t len, uint8_t out[WSK_SHA1_LEN]);

#endif
