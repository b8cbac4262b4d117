/* frame_internal.h - helpers shared by the frame header codec and the message parser. */
#ifndef WSK_PROTO_FRAME_INTERNAL_H
#define WSK_PROTO_FRAME_INTERNAL_H

#include "wsk_proto.h"

/* Decode what the first two bytes of a frame tell: fin, rsv, opcode, masked, the 7-bit length
 * field (in payload_len: 0..125, or 126/127 for the 16/64-bit forms) and the full header length.
 * Lets the parser apply the protocol rules before the rest of the header has arrived. */
void wsk__frame_decode_start(const uint8_t b[2], struct wsk_frame_header *h);

#endif
