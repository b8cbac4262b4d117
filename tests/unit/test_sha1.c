/* test_sha1.c - the handshake's SHA-1: the FIPS 180 examples, then every length from 0 to 300
 * (one and two final blocks, block boundaries) against OpenSSL's implementation. */
#include <openssl/evp.h>

#include "check.h"
#include "proto/handshake_internal.h"
#include "wsk.h"

static void hex(const uint8_t d[WSK_SHA1_LEN], char out[2 * WSK_SHA1_LEN + 1]) {
  for (int i = 0; i < WSK_SHA1_LEN; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void check_vector(const char *in, size_t len, const char *want) {
  uint8_t d[WSK_SHA1_LEN];
  char h[2 * WSK_SHA1_LEN + 1];
  wsk__sha1(in, len, d);
  hex(d, h);
  CHECK_STR(h, want);
}

int main(void) {
  check_vector("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  check_vector("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  check_vector(two, strlen(two), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  static char million[1000000];
  memset(million, 'a', sizeof million);
  check_vector(million, sizeof million, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  /* RFC 6455 1.3: the accept value of the example key. */
  char accept[WSK_ACCEPT_LEN + 1];
  wsk_handshake_accept("dGhlIHNhbXBsZSBub25jZQ==", 24, accept);
  CHECK_STR(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

  uint8_t buf[300];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 151 + 7);
  for (size_t len = 0; len <= sizeof buf; len++) {
    uint8_t mine[WSK_SHA1_LEN], theirs[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    wsk__sha1(buf, len, mine);
    CHECK(EVP_Digest(buf, len, theirs, &n, EVP_sha1(), NULL) == 1 && n == WSK_SHA1_LEN);
    CHECK_MEM(mine, theirs, WSK_SHA1_LEN);
  }
  return check_report();
}
