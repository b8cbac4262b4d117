/* raw_peer.h - the start of a raw WebSocket peer for the unit tests that run a real server: a
 * blocking TCP connection to 127.0.0.1:port that has sent a valid upgrade request. The test reads
 * the 101 its own way (some never do). */
#ifndef WSK_TEST_RAW_PEER_H
#define WSK_TEST_RAW_PEER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

/* rcvbuf > 0: that receive buffer (set before connecting, so that the window is small). */
static inline int raw_peer_upgrade(int port, int rcvbuf) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            "Sec-WebSocket-Version: 13\r\n\r\n";
  CHECK_EQ(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
  return fd;
}

#endif
