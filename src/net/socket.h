/* socket.h - socket helpers of the net layer: listening sockets and address text. */
#ifndef WSK_NET_SOCKET_H
#define WSK_NET_SOCKET_H

#include <stddef.h>
#include <sys/socket.h>

/* Longest text of an address: "[ffff:...:ffff%scope]:65535". */
#define WSK_ADDR_TEXT 72

/* A non-blocking, close-on-exec listening TCP socket on host:port (host NULL or "" = 0.0.0.0,
 * "::" = every IPv6 and IPv4 address) with SO_REUSEADDR, and SO_REUSEPORT when reuse_port.
 * Returns the descriptor, or a negative WSK_E* code with a sentence in errbuf. */
int wsk__sock_listen(const char *host, int port, int reuse_port, char *errbuf, size_t errlen);
/* The locally bound port of a socket, or WSK_ESYS (not an IP socket, or getsockname failed). */
int wsk__sock_local_port(int fd);
/* "1.2.3.4:5678" or "[::1]:5678" for an address. */
void wsk__sock_addr_text(const struct sockaddr *sa, char out[WSK_ADDR_TEXT]);
/* The peer address of a connected socket as text ("?" if unknown). */
void wsk__sock_peer_text(int fd, char out[WSK_ADDR_TEXT]);

#endif
