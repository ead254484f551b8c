/* A minimal test harness for the C tests: EXPECT() counts failures, TEST_MAIN runs the
 * listed tests and fails the process when any expectation failed. */
#ifndef ASP_C_API_C_TEST_UTIL_H_
#define ASP_C_API_C_TEST_UTIL_H_

#include <stdio.h>
#include <string.h>

#include "asp/c_api/aspx.h"

static int test_failures = 0;

#define EXPECT(condition)                                                                          \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      fprintf(stderr, "%s:%d: expected %s (last error: \"%s\")\n", __FILE__, __LINE__, #condition, \
              aspx_last_error());                                                                  \
      ++test_failures;                                                                             \
    }                                                                                              \
  } while (0)

#define EXPECT_CONTAINS(haystack, needle)                                                        \
  do {                                                                                           \
    if (strstr((haystack), (needle)) == NULL) {                                                  \
      fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, (haystack), \
              (needle));                                                                         \
      ++test_failures;                                                                           \
    }                                                                                            \
  } while (0)

typedef void (*test_fn)(void);

static int run_tests(const char* const* names, const test_fn* tests, int count) {
  for (int i = 0; i < count; ++i) {
    const int before = test_failures;
    tests[i]();
    printf("[%s] %s\n", test_failures == before ? "  OK  " : "FAILED", names[i]);
  }
  printf("%d test(s), %d failed expectation(s)\n", count, test_failures);
  return test_failures == 0 ? 0 : 1;
}

#endif /* ASP_C_API_C_TEST_UTIL_H_ */
