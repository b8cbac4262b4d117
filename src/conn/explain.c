/* explain.c - which rule a frame broke, for the error message of a connection failed with 1002.
 * The parser says only WSK_EPROTO, and always refuses a frame at its header (or, for a close
 * frame, its payload), so the bytes where it stopped begin that frame and tell the rule. */
#include "conn/conn_internal.h"

const char *wsk__conn_explain_proto(const wsk_conn *c, const uint8_t *frame, size_t len) {
  if (len < 2) return "the peer broke the WebSocket protocol";
  unsigned op = frame[0] & 0x0f, rsv = (frame[0] >> 4) & 7, fin = frame[0] >> 7;
  unsigned masked = frame[1] >> 7, len7 = frame[1] & 0x7f;
  int client = c->parser.role == WSK_ROLE_CLIENT;
  if (client && masked) return "the server sent a masked frame (servers must not mask)";
  if (!client && !masked) return "the client sent an unmasked frame (clients must mask)";
  if ((op & 8) && op > WSK_OP_PONG) return "the peer sent a frame with a reserved control opcode";
  if (!(op & 8) && op > WSK_OP_BINARY) return "the peer sent a frame with a reserved data opcode";
  if ((rsv & 3) || (rsv && ((op & 8) || op == WSK_OP_CONT || !c->parser.allow_rsv1)))
    return "the peer set RSV bits that no negotiated extension defines";
  if (op & 8) {
    if (!fin) return "the peer sent a fragmented control frame";
    if (len7 > WSK_MAX_CONTROL_PAYLOAD) return "the peer sent a control frame over 125 bytes";
    return "the peer sent a close frame with a 1-byte payload or a code not allowed on the wire";
  }
  if (op == WSK_OP_CONT && !c->parser.msg_opcode)
    return "the peer sent a continuation frame outside a fragmented message";
  if (op != WSK_OP_CONT && c->parser.msg_opcode)
    return "the peer started a new message inside a fragmented one";
  return "the peer sent a frame length in a non-minimal encoding or over 2^63";
}
