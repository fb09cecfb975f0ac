/*
 * tests/unit/unit.h - a small test runner: TEST() registers a function,
 * CHECK*() record failures and go on. The runner prints each failure with
 * file:line and ends with the plain line "N passed, N failed".
 *
 *   TEST(doc_loads_maps) { CHECK_STR_EQ(doc_get_str(n, "a", NULL), "b"); }
 *
 * Run one test or a prefix: build/asan/unit doc_   (KSTAGE_FIXTURES names
 * the shared fixtures folder; unit_fixture() builds a path inside it.)
 */
#ifndef KSTAGE_UNIT_H
#define KSTAGE_UNIT_H

#include <stdint.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, unit_fn fn, const char *file);
void unit_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Path of a file under the fixtures folder; static buffer, valid until next call. */
const char *unit_fixture(const char *rel);
/* Path of a file under tests/ (the runner's working directory is the repo root). */
const char *unit_testdata(const char *rel);
int unit_failed_current(void);

#define TEST(name) \
	static void name(void); \
	__attribute__((constructor)) static void unit_reg_##name(void) { unit_register(#name, name, __FILE__); } \
	static void name(void)

#define CHECK(c) do { if (!(c)) unit_fail(__FILE__, __LINE__, "CHECK(%s)", #c); } while (0)
#define CHECK_MSG(c, ...) do { if (!(c)) unit_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define CHECK_INT_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) unit_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); } while (0)
#define CHECK_STR_EQ(a, b) do { const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_)) unit_fail(__FILE__, __LINE__, "%s == %s:\n  got:      \"%s\"\n  expected: \"%s\"", \
		#a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define CHECK_CONTAINS(hay, needle) do { const char *h_ = (hay), *n_ = (needle); \
	if (!h_ || !strstr(h_, n_)) unit_fail(__FILE__, __LINE__, "%s contains \"%s\":\n  got: \"%s\"", \
		#hay, n_, h_ ? h_ : "(null)"); } while (0)

#endif
