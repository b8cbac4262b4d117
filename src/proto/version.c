/* version.c - the library's version at run time (the header's macros give it at build time). */
#include "wsk_proto.h"

unsigned wsk_version(void) { return WSK_VERSION_HEX; }

const char *wsk_version_string(void) { return WSK_VERSION; }
