/* test_version.c - the version macros, wsk_version() and wsk_version_string() agree. */
#include <stdio.h>

#include "check.h"
#include "wsk.h"

int main(void) {
  CHECK_EQ(wsk_version(), WSK_VERSION_HEX);
  CHECK_STR(wsk_version_string(), WSK_VERSION);
  char text[32];
  snprintf(text, sizeof text, "%d.%d.%d", WSK_VERSION_MAJOR, WSK_VERSION_MINOR, WSK_VERSION_PATCH);
  CHECK_STR(WSK_VERSION, text);
  CHECK_EQ(WSK_VERSION_HEX >> 16, WSK_VERSION_MAJOR);
  CHECK_EQ((WSK_VERSION_HEX >> 8) & 0xff, WSK_VERSION_MINOR);
  return check_report();
}
