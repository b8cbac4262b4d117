/* test_errors.c - the one error space of wsk.h: codes with an errno equivalent are that negative
 * errno, the others sit where no errno can be, and wsk_strerror gives every value its own text. */
#include <errno.h>

#include "check.h"
#include "wsk.h"

static const int codes[] = {
    WSK_EAGAIN,    WSK_ENOMEM,   WSK_EINVAL,  WSK_ENOSPC,        WSK_ETIMEDOUT,   WSK_EPROTO,
    WSK_EUTF8,     WSK_ETOOBIG,  WSK_EHTTP,   WSK_EHEADERS,      WSK_ECLOSED,     WSK_EHANDSHAKE,
    WSK_ESYS,      WSK_ETLS,     WSK_EDNS,    WSK_EBACKPRESSURE, WSK_EPOLICY,     WSK_EUNSUPPORTED,
    WSK_EDEFLATE,  WSK_EBUSY,
};
#define NCODES (sizeof codes / sizeof codes[0])

/* Errors a socket or the system hands up as they are (-errno). */
static const int sys[] = {-ECONNRESET, -EPIPE, -EMFILE, -ECONNREFUSED, -EADDRINUSE};
#define NSYS (sizeof sys / sizeof sys[0])

static int generic(const char *s) {
  return !s || !*s || strstr(s, "not a wsk error") || strstr(s, "Unknown error");
}

int main(void) {
  CHECK_EQ(WSK_EAGAIN, -EAGAIN);
  CHECK_EQ(WSK_ENOMEM, -ENOMEM);
  CHECK_EQ(WSK_EINVAL, -EINVAL);
  CHECK_EQ(WSK_ENOSPC, -ENOSPC);
  CHECK_EQ(WSK_ETIMEDOUT, -ETIMEDOUT);
  CHECK_EQ(WSK_EBUSY, -EBUSY);
  /* wsk's own codes: the whole range WSK_ERR_BASE-1..WSK_ERR_LAST, below every errno (Linux's
   * largest is 4095), and the list above names each of them. */
  int own = 0;
  for (size_t i = 0; i < NCODES; i++) {
    if (codes[i] > -4096) continue;
    own++;
    CHECK(codes[i] <= WSK_ERR_BASE - 1 && codes[i] >= WSK_ERR_LAST);
  }
  CHECK_EQ(own, WSK_ERR_BASE - WSK_ERR_LAST);
  CHECK(generic(wsk_strerror(WSK_ERR_LAST - 1)));
  CHECK(generic(wsk_strerror(WSK_ERR_BASE)));
  CHECK(generic(wsk_strerror(1)));

  /* Every value has its own text: the codes, and the plain -errno values. */
  const char *text[NCODES + NSYS + 1];
  size_t n = 0;
  for (size_t i = 0; i < NCODES; i++) text[n++] = wsk_strerror(codes[i]);
  for (size_t i = 0; i < NSYS; i++) text[n++] = wsk_strerror(sys[i]);
  text[n++] = wsk_strerror(WSK_OK);
  for (size_t i = 0; i < n; i++) {
    CHECK(!generic(text[i]));
    if (generic(text[i])) continue;
    for (size_t j = 0; j < i; j++) {
      if (!strcmp(text[i], text[j])) fprintf(stderr, "values %zu, %zu: '%s'\n", j, i, text[i]);
      CHECK(strcmp(text[i], text[j]) != 0);
    }
  }
  CHECK_STR(wsk_strerror(-ECONNRESET), strerror(ECONNRESET));
  CHECK_STR(wsk_strerror(WSK_EPROTO), "WebSocket protocol error");
  return check_report();
}
