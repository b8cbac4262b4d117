/* random.c - unpredictable bytes for masking keys and handshake nonces, from OpenSSL's generator
 * (which seeds itself from the kernel), so the core stays free of system calls of its own. */
#include <limits.h>
#include <openssl/rand.h>

#include "wsk_proto.h"

int wsk_random(void *out, size_t n) {
  for (unsigned char *p = out; n > 0;) {
    int step = n > INT_MAX ? INT_MAX : (int)n;
    if (RAND_bytes(p, step) != 1) return WSK_ESYS;
    p += step;
    n -= (size_t)step;
  }
  return 0;
}
