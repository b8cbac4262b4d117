/* micro_sendzc.c - does io_uring's zero-copy send (IORING_OP_SEND_ZC) save CPU on this machine?
 * One TCP connection over 127.0.0.1, a thread that reads and discards, and a sender that writes
 * SIZE-byte buffers through io_uring, 4 in flight, with IORING_OP_SEND or IORING_OP_SEND_ZC (a
 * zero-copy send's buffer may be reused only after its notification, which is waited for too).
 * Prints, per size and kind: GB/s, and CPU seconds per GB of the sender's thread and of the
 * reader's (on loopback the sender's thread also runs the delivery into the reader's socket).
 * Built only with liburing; run by hand: build/bench/micro_sendzc [SECONDS]. */
#ifdef WSK_HAVE_URING
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define INFLIGHT 4

static double thread_cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct reader {
  int fd;
  double cpu;
};

static void *read_all(void *arg) {
  struct reader *r = arg;
  static char buf[1 << 20];
  while (recv(r->fd, buf, sizeof buf, 0) > 0) {
  }
  r->cpu = thread_cpu();
  return NULL;
}

/* A connected pair over loopback: *out writes, *in reads. */
static int pair(int *out, int *in) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  int l = socket(AF_INET, SOCK_STREAM, 0);
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
      getsockname(l, (struct sockaddr *)&a, &alen) != 0)
    return -1;
  *out = socket(AF_INET, SOCK_STREAM, 0);
  if (*out < 0 || connect(*out, (struct sockaddr *)&a, sizeof a) != 0) return -1;
  *in = accept(l, NULL, NULL);
  close(l);
  return *in < 0 ? -1 : 0;
}

/* Queue a send of buffer k (zero-copy or not). */
static void prep(struct io_uring *ring, int zc, int fd, char *buf, size_t size, int k) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
  char *p = buf + (size_t)k * size;
  if (zc)
    io_uring_prep_send_zc(sqe, fd, p, size, MSG_NOSIGNAL, 0);
  else
    io_uring_prep_send(sqe, fd, p, size, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, (uint64_t)k);
}

/* One run: returns 0 and the figures, or -1 (the kernel refused the kind of send). */
static int run(size_t size, int zc, double seconds, double *gbps, double *scpu, double *rcpu) {
  int out, in;
  if (pair(&out, &in) != 0) return -1;
  struct io_uring ring;
  if (io_uring_queue_init(64, &ring, 0) != 0) return -1;
  char *buf = malloc(size * INFLIGHT);
  if (!buf) return -1;
  memset(buf, 'z', size * INFLIGHT);
  struct reader rd = {.fd = in};
  pthread_t th;
  pthread_create(&th, NULL, read_all, &rd);
  double c0 = thread_cpu(), t0 = wall(), t1 = t0;
  size_t sent = 0;
  int pending = 0, failed = 0; /* completions still to come (sends and notifications) */
  for (int k = 0; k < INFLIGHT; k++) {
    prep(&ring, zc, out, buf, size, k);
    pending++;
  }
  while (pending) {
    io_uring_submit_and_wait(&ring, 1);
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    int again[INFLIGHT], nagain = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      seen++;
      pending--;
      if (cqe->flags & IORING_CQE_F_MORE) pending++; /* its notification follows */
      if (cqe->res < 0 && !(cqe->flags & IORING_CQE_F_NOTIF)) failed = cqe->res;
      if (cqe->res > 0) sent += (size_t)cqe->res;
      /* The buffer is free once nothing more comes for it: resend it while time is left. */
      if (!(cqe->flags & IORING_CQE_F_MORE) && (t1 = wall()) - t0 < seconds && !failed)
        again[nagain++] = (int)cqe->user_data;
    }
    io_uring_cq_advance(&ring, seen);
    for (int j = 0; j < nagain; j++) {
      prep(&ring, zc, out, buf, size, again[j]);
      pending++;
    }
  }
  double cpu = thread_cpu() - c0;
  shutdown(out, SHUT_WR);
  pthread_join(th, NULL);
  io_uring_queue_exit(&ring);
  close(out);
  close(in);
  free(buf);
  if (failed) {
    fprintf(stderr, "micro_sendzc: %s: %s\n", zc ? "send_zc" : "send", strerror(-failed));
    return -1;
  }
  double gb = (double)sent / 1e9;
  *gbps = gb / (t1 - t0);
  *scpu = cpu / gb;
  *rcpu = rd.cpu / gb;
  return 0;
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  static const size_t sizes[] = {16384, 65536, 262144, 1048576};
  printf("| size | send GB/s | send_zc GB/s | sender CPU s/GB send | send_zc | reader CPU s/GB send "
         "| send_zc |\n|--:|--:|--:|--:|--:|--:|--:|\n");
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    double g[2], s[2], r[2];
    for (int zc = 0; zc < 2; zc++)
      if (run(sizes[i], zc, seconds, &g[zc], &s[zc], &r[zc]) != 0) return 1;
    printf("| %zu | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", sizes[i], g[0], g[1], s[0], s[1],
           r[0], r[1]);
  }
  return 0;
}
#else
#include <stdio.h>
int main(void) {
  fprintf(stderr, "micro_sendzc: this build has no io_uring (liburing was not found)\n");
  return 1;
}
#endif
