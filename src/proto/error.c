/* error.c - descriptions of wsk's error codes (proto layer: no state, no syscalls). */
#include <string.h>

#include "wsk_proto.h"

const char *wsk_strerror(int err) {
  switch (err) {
  case WSK_OK: return "success";
  case WSK_EAGAIN: return "need more data, or the call would block";
  case WSK_ENOMEM: return "out of memory";
  case WSK_EINVAL: return "invalid argument";
  case WSK_ENOSPC: return "output buffer too small";
  case WSK_ETIMEDOUT: return "timed out";
  case WSK_EBUSY: return "in use already (one holder at a time)";
  case WSK_EPROTO: return "WebSocket protocol error";
  case WSK_EUTF8: return "invalid UTF-8 in text";
  case WSK_ETOOBIG: return "message too big";
  case WSK_EHTTP: return "malformed HTTP";
  case WSK_EHEADERS: return "HTTP head too large";
  case WSK_ECLOSED: return "connection closed";
  case WSK_EHANDSHAKE: return "WebSocket handshake failed";
  case WSK_ESYS: return "system call failed";
  case WSK_ETLS: return "TLS error";
  case WSK_EDNS: return "name resolution failed";
  case WSK_EBACKPRESSURE: return "send queue over its hard limit";
  case WSK_EPOLICY: return "policy violation";
  case WSK_EUNSUPPORTED: return "not supported by this build";
  case WSK_EDEFLATE: return "compressed data does not inflate";
  }
  /* The rest of the space is -errno (see wsk.h). glibc's strerror keeps its text per thread. */
  if (err < 0 && err >= -4095) return strerror(-err);
  return "not a wsk error code";
}
