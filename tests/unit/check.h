/* check.h - the tiny assertion kit of wsk's unit tests. Each test file is one program; a failed
 * check prints the expression, both operands and the location, and the program exits 1 at the end.
 * Use: CHECK(expr); CHECK_EQ(a, b) for integers; CHECK_MEM(a, b, n); CHECK_STR(a, b);
 * and finish main() with `return check_report();`. */
#ifndef WSK_TEST_CHECK_H
#define WSK_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(expr)                                                                       \
  do {                                                                                    \
    check_count++;                                                                        \
    if (!(expr)) {                                                                        \
      check_failures++;                                                                   \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #expr);            \
    }                                                                                     \
  } while (0)

#define CHECK_EQ(a, b)                                                                    \
  do {                                                                                    \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b);                       \
    check_count++;                                                                        \
    if (check_a_ != check_b_) {                                                           \
      check_failures++;                                                                   \
      fprintf(stderr, "%s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld\n", __FILE__,         \
              __LINE__, #a, #b, check_a_, check_b_);                                      \
    }                                                                                     \
  } while (0)

#define CHECK_MEM(a, b, n)                                                                \
  do {                                                                                    \
    check_count++;                                                                        \
    if (memcmp((a), (b), (n)) != 0) {                                                     \
      check_failures++;                                                                   \
      fprintf(stderr, "%s:%d: CHECK_MEM(%s, %s, %s) failed\n", __FILE__, __LINE__, #a,    \
              #b, #n);                                                                    \
    }                                                                                     \
  } while (0)

#define CHECK_STR(a, b)                                                                   \
  do {                                                                                    \
    const char *check_sa_ = (a), *check_sb_ = (b);                                        \
    check_count++;                                                                        \
    if (!check_sa_ || !check_sb_ || strcmp(check_sa_, check_sb_) != 0) {                 \
      check_failures++;                                                                   \
      fprintf(stderr, "%s:%d: CHECK_STR(%s, %s) failed: \"%s\" != \"%s\"\n", __FILE__,    \
              __LINE__, #a, #b, check_sa_ ? check_sa_ : "(null)",                         \
              check_sb_ ? check_sb_ : "(null)");                                          \
    }                                                                                     \
  } while (0)

static inline int check_report(void) {
  printf("%d checks, %d failed\n", check_count, check_failures);
  return check_failures ? 1 : 0;
}

#endif
