/* socket.c - listening sockets and address formatting. */
#include "net/socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wsk.h"

int wsk__sock_listen(const char *host, int port, int reuse_port, char *errbuf, size_t errlen) {
  if (!host || !*host) host = "0.0.0.0";
  if (port < 0 || port > 65535) {
    if (errbuf) snprintf(errbuf, errlen, "invalid port %d (use 0-65535)", port);
    return WSK_EINVAL;
  }
  char service[8];
  snprintf(service, sizeof service, "%d", port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  int gai = getaddrinfo(host, service, &hints, &res);
  if (gai != 0) {
    if (errbuf) snprintf(errbuf, errlen, "cannot resolve listen address %s: %s", host,
                         gai_strerror(gai));
    return WSK_EDNS;
  }
  int fd = -1, err = 0;
  const char *what = "socket";
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      what = "socket";
      continue;
    }
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    /* "::" means every address, IPv4 included, whatever the system default is. */
    if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      what = "bind";
    } else if (listen(fd, 4096) != 0) {
      err = errno;
      what = "listen";
    } else {
      break;
    }
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    if (errbuf) {
      if (strchr(host, ':'))
        snprintf(errbuf, errlen, "%s [%s]:%d: %s", what, host, port, strerror(err));
      else
        snprintf(errbuf, errlen, "%s %s:%d: %s", what, host, port, strerror(err));
    }
    return WSK_ESYS;
  }
  return fd;
}

int wsk__sock_local_port(int fd) {
  struct sockaddr_storage ss = {0}; /* (what the kernel does not fill reads as AF_UNSPEC) */
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return WSK_ESYS;
  if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return WSK_ESYS;
}

void wsk__sock_addr_text(const struct sockaddr *sa, char out[WSK_ADDR_TEXT]) {
  char host[INET6_ADDRSTRLEN];
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    snprintf(out, WSK_ADDR_TEXT, "%s:%u", host, (unsigned)ntohs(in->sin_port));
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    snprintf(out, WSK_ADDR_TEXT, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
  } else {
    snprintf(out, WSK_ADDR_TEXT, "?");
  }
}

void wsk__sock_peer_text(int fd, char out[WSK_ADDR_TEXT]) {
  struct sockaddr_storage ss = {0}; /* (what the kernel does not fill reads as AF_UNSPEC) */
  socklen_t len = sizeof ss;
  if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) {
    snprintf(out, WSK_ADDR_TEXT, "?");
    return;
  }
  wsk__sock_addr_text((struct sockaddr *)&ss, out);
}
