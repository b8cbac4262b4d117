/* no_uring - run a program where io_uring_setup fails with EPERM, as on a kernel with
 * kernel.io_uring_disabled=2 or under a container's seccomp profile: the way the tests force the
 * loop's fallback to epoll without touching the machine's settings.
 *   no_uring PROGRAM [ARG...] */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: no_uring PROGRAM [ARG...]\n");
    return 2;
  }
  /* (The syscall number is read without checking the architecture: the filter is for programs
   * of this build, so of the same architecture.) */
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    perror("no_uring: seccomp");
    return 1;
  }
  execvp(argv[1], argv + 1);
  perror("no_uring: exec");
  return 127;
}
