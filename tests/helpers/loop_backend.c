/* loop_backend - the backend wsk_loop_new_with chooses: prints "io_uring", "epoll" or
 * "epoll: WHY" (io_uring asked for and refused), or "failed: ERRNO TEXT".
 *   loop_backend default|epoll|io_uring [strict] */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wsk.h"

int main(int argc, char **argv) {
  struct wsk_loop_options opt = {0};
  if (argc > 1 && strcmp(argv[1], "epoll") == 0) opt.backend = WSK_BACKEND_EPOLL;
  if (argc > 1 && strcmp(argv[1], "io_uring") == 0) opt.backend = WSK_BACKEND_IO_URING;
  opt.no_fallback = argc > 2 && strcmp(argv[2], "strict") == 0;
  wsk_loop *loop = wsk_loop_new_with(&opt);
  if (!loop) {
    printf("failed: %s\n", strerror(errno));
    return 0;
  }
  const char *why = wsk_loop_backend_why(loop);
  printf("%s%s%s\n", wsk_loop_backend(loop), *why ? ": " : "", why);
  wsk_loop_free(loop);
  return 0;
}
