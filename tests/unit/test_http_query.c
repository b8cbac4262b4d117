/* test_http_query.c - percent-decoding, query parameters and cookies (proto/http_query.c): the
 * rules, malformed escapes, and every input cut short at each byte (each piece is copied into a
 * block of exactly its size, so a read past the end is caught by ASan and valgrind). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/http_internal.h"
#include "wsk.h"

static long decode(const char *in, int plus, char *out) {
  long n = wsk__http_decode(in, strlen(in), out, plus);
  if (n >= 0) out[n] = '\0';
  return n;
}

static void test_decode(void) {
  char out[64];
  CHECK_EQ(decode("a%20b%2Fc", 0, out), 5);
  CHECK_STR(out, "a b/c");
  CHECK_EQ(decode("%c3%A9", 0, out), 2);
  CHECK_STR(out, "\xc3\xa9");
  CHECK_EQ(decode("a+b", 0, out), 3);
  CHECK_STR(out, "a+b"); /* a path keeps '+' */
  CHECK_EQ(decode("a+b%2B", 1, out), 4);
  CHECK_STR(out, "a b+"); /* a form value: '+' is a space, %2B a plus */
  CHECK_EQ(decode("", 1, out), 0);
  static const char *const bad[] = {"%", "%2", "a%2", "%zz", "%2g", "%g2", "%00", "x%00y", "%%41"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK_EQ(decode(bad[i], 1, out), WSK_EHTTP);
  char inplace[] = "x%41%42y"; /* decoding in place */
  CHECK_EQ(wsk__http_decode(inplace, 8, inplace, 0), 4);
  CHECK_MEM(inplace, "xABy", 4);
}

typedef int find_fn(const char *s, size_t len, const char *name, const char **val, size_t *vlen);

/* The value of `name` in s[0..len) as `find` sees it, "<none>" when absent. */
static const char *lookup(find_fn *find, const char *s, size_t len, const char *name) {
  static char buf[128];
  const char *v;
  size_t n;
  if (!find(s, len, name, &v, &n)) return "<none>";
  memcpy(buf, v, n);
  buf[n] = '\0';
  return buf;
}

static const char *query(const char *q, size_t len, const char *name) {
  return lookup(wsk__http_query_find, q, len, name);
}

static const char *cookie(const char *h, size_t len, const char *name) {
  return lookup(wsk__http_cookie_find, h, len, name);
}

static void test_query(void) {
  const char *q = "a=1&b=x%20y&a=2&flag&empty=&c%5Bd%5D=3&sp+ace=4&=5&&e=%zz&f%z=6";
  size_t n = strlen(q);
  CHECK_STR(query(q, n, "a"), "1");         /* the first of a repeated name */
  CHECK_STR(query(q, n, "b"), "x%20y");     /* values come back raw, for the caller to decode */
  CHECK_STR(query(q, n, "flag"), "");       /* a bare name */
  CHECK_STR(query(q, n, "empty"), "");
  CHECK_STR(query(q, n, "c[d]"), "3");      /* names are compared decoded */
  CHECK_STR(query(q, n, "sp ace"), "4");    /* '+' in a name is a space */
  CHECK_STR(query(q, n, "e"), "%zz");       /* a bad value is the caller's to refuse */
  CHECK_STR(query(q, n, "f%z"), "<none>");  /* a name with a bad escape matches nothing */
  CHECK_STR(query(q, n, "c%5Bd%5D"), "<none>");
  CHECK_STR(query(q, n, "A"), "<none>");    /* case-sensitive */
  CHECK_STR(query(q, n, "fla"), "<none>");
  CHECK_STR(query(q, n, "flagx"), "<none>");
  CHECK_STR(query("", 0, "a"), "<none>");
  CHECK_STR(query("a=1=2", 5, "a"), "1=2"); /* the first '=' splits */
}

static void test_cookie(void) {
  const char *h = "sid=abc123; theme=\"dark\";lang=en ;  empty=; sid=second; noeq; x=a=b; q=\"";
  size_t n = strlen(h);
  CHECK_STR(cookie(h, n, "sid"), "abc123");
  CHECK_STR(cookie(h, n, "theme"), "dark"); /* DQUOTEs removed */
  CHECK_STR(cookie(h, n, "lang"), "en");    /* no space after ';', a space before it */
  CHECK_STR(cookie(h, n, "empty"), "");
  CHECK_STR(cookie(h, n, "x"), "a=b");
  CHECK_STR(cookie(h, n, "q"), "\"");       /* a lone quote is kept */
  CHECK_STR(cookie(h, n, "noeq"), "<none>");
  CHECK_STR(cookie(h, n, "SID"), "<none>");
  CHECK_STR(cookie(h, n, "si"), "<none>");
  CHECK_STR(cookie("", 0, "sid"), "<none>");
}

/* Cut text at every byte: find sees only the prefix (copied into a block of exactly that size),
 * finds `name` once the prefix has `from` bytes, and never points outside it; decoding the
 * prefix succeeds or refuses, never reads past it. */
static void cut_anywhere(find_fn *find, const char *text, const char *name, size_t from) {
  for (size_t cut = 0; cut <= strlen(text); cut++) {
    char *p = malloc(cut ? cut : 1);
    memcpy(p, text, cut);
    const char *v;
    size_t vn;
    int found = find(p, cut, name, &v, &vn);
    CHECK_EQ(found, cut >= from);
    if (found) CHECK(v >= p && v + vn <= p + cut);
    char out[64];
    long d = wsk__http_decode(p, cut, out, 1);
    CHECK(d >= 0 || d == WSK_EHTTP);
    free(p);
  }
}

static void test_cut_anywhere(void) {
  const char *q = "tok=a%2Fb&x=1&tok=2&name+x=%41";
  cut_anywhere(wsk__http_query_find, q, "tok", 3);
  cut_anywhere(wsk__http_query_find, q, "name x", 26);
  cut_anywhere(wsk__http_cookie_find, "a=1; tok=\"v\"; b=2", "tok", 9);
}

int main(void) {
  test_decode();
  test_query();
  test_cookie();
  test_cut_anywhere();
  return check_report();
}
