/* fuzz_check.h - REQUIRE(x): a fuzz target's own invariant; a violation traps, so libFuzzer
 * records the input as a crash. */
#ifndef WSK_FUZZ_CHECK_H
#define WSK_FUZZ_CHECK_H

#define REQUIRE(x)        \
  do {                    \
    if (!(x))             \
      __builtin_trap();   \
  } while (0)

#endif
