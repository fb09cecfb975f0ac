/* Unit tests for installer/core/regex: the PCRE2 wrapper's results and
 * submatches (Go's regexp for templates is tests/unit/test_tmpl_re.c). */
#include "unit.h"
#include "core/regex.h"

#include <stdlib.h>

static kregex *rx(const char *pat, unsigned flags)
{
	kregex *re = NULL;
	kbuf msg = KBUF_INIT;
	if (kregex_compile(&re, pat, strlen(pat), flags, &msg))
		unit_fail(__FILE__, __LINE__, "compile %s: %s", pat, msg.ptr);
	kbuf_release(&msg);
	return re;
}

TEST(core_regex_compile_error_has_words)
{
	kregex *re = (kregex *)1;
	kbuf msg = KBUF_INIT;
	CHECK_INT_EQ(kregex_compile(&re, "a(b", 3, KREGEX_UTF, &msg), -1);
	CHECK(re == NULL);
	CHECK_CONTAINS(msg.ptr, "missing closing parenthesis");
	kbuf_release(&msg);
	CHECK_INT_EQ(kregex_compile(&re, "[", 1, KREGEX_UTF, NULL), -1);
}

TEST(core_regex_match_and_submatches)
{
	kregex *re = rx("(?<key>[a-z]+)=(\\d+)?(x)?", KREGEX_UTF);
	const kregex_span *m;
	CHECK_INT_EQ(kregex_match(re, "  ab=12", 7, 0, &m), KREGEX_MATCH);
	CHECK_INT_EQ(m[0].beg, 2);
	CHECK_INT_EQ(m[0].end, 7);
	CHECK_INT_EQ(m[1].beg, 2);
	CHECK_INT_EQ(m[1].end, 4);
	CHECK_INT_EQ(m[2].beg, 5);
	CHECK(m[3].beg == KREGEX_UNSET && m[3].end == KREGEX_UNSET);
	CHECK_INT_EQ(kregex_match(re, "  ab=12", 7, 3, &m), KREGEX_MATCH);
	CHECK_INT_EQ(m[0].beg, 3);
	CHECK_INT_EQ(kregex_match(re, "=12", 3, 0, NULL), KREGEX_NOMATCH);
	kregex_free(re);
}

/* $ before a final newline, unless DOLLAR_ENDONLY */
TEST(core_regex_dollar)
{
	kregex *re = rx("a$", KREGEX_UTF | KREGEX_DOLLAR_ENDONLY);
	CHECK_INT_EQ(kregex_match(re, "a\n", 2, 0, NULL), KREGEX_NOMATCH);
	kregex_free(re);
	re = rx("a$", KREGEX_UTF);
	CHECK_INT_EQ(kregex_match(re, "a\n", 2, 0, NULL), KREGEX_MATCH);
	kregex_free(re);
}

TEST(core_regex_ecma_escapes)
{
	kregex *re = rx("^\\u0041$", KREGEX_UTF | KREGEX_ALT_BSUX);
	CHECK_INT_EQ(kregex_match(re, "A", 1, 0, NULL), KREGEX_MATCH);
	kregex_free(re);
}

/* a budget running out is its own result, not "no match" */
TEST(core_regex_match_limit_is_a_result)
{
	kregex *re = rx("^(a+)+$", KREGEX_UTF);
	char s[64];
	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 2] = 'b';
	s[sizeof(s) - 1] = 0;
	CHECK_INT_EQ(kregex_match(re, s, strlen(s), 0, NULL), KREGEX_LIMIT);
	kregex_free(re);
}
