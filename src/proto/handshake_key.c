/* handshake_key.c - Sec-WebSocket-Key and Sec-WebSocket-Accept (RFC 6455 4.1, 4.2.2): SHA-1 from
 * sha1.c, base64 from OpenSSL's libcrypto. */
#include <string.h>

#include <openssl/evp.h>

#include "proto/handshake_internal.h"
#include "wsk_proto.h"

static const char accept_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* Longest key hashed as given. A valid key has WSK_KEY_LEN bytes; a longer string is not a key,
 * and hashing only its first KEY_MAX bytes yields an accept value that no client expects. */
#define KEY_MAX 64

static int is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

int wsk__handshake_key_valid(const char *key, size_t len) {
  if (len != WSK_KEY_LEN || key[22] != '=' || key[23] != '=')
    return 0;
  for (size_t i = 0; i < 22; i++)
    if (!is_base64_char(key[i]))
      return 0;
  return 1;
}

void wsk_handshake_accept(const char *key, size_t key_len, char out[WSK_ACCEPT_LEN + 1]) {
  unsigned char text[KEY_MAX + sizeof accept_guid - 1];
  uint8_t digest[WSK_SHA1_LEN];
  if (key_len > KEY_MAX)
    key_len = KEY_MAX;
  if (key_len)
    memcpy(text, key, key_len);
  memcpy(text + key_len, accept_guid, sizeof accept_guid - 1);
  wsk__sha1(text, key_len + sizeof accept_guid - 1, digest);
  EVP_EncodeBlock((unsigned char *)out, digest, WSK_SHA1_LEN);
}

void wsk_handshake_make_key(const uint8_t nonce[16], char out[WSK_KEY_LEN + 1]) {
  EVP_EncodeBlock((unsigned char *)out, nonce, 16);
}
