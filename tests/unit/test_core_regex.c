/* Unit tests for installer/core/regex: the wrapper's results, submatches,
 * and Go's FindAll, ReplaceAll and Split (examples from Go's regexp docs). */
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

static void join(void *ctx, const char *s, size_t len)
{
	kbuf *b = ctx;
	kbuf_putc(b, '[');
	kbuf_put(b, s, len);
	kbuf_putc(b, ']');
}

static void join_match(void *ctx, const char *s, const kregex_span *m, size_t ng)
{
	CHECK_INT_EQ(ng, 2);
	join(ctx, s + m[0].beg, m[0].end - m[0].beg);
}

TEST(core_regex_compile_error_has_words)
{
	kregex *re = (kregex *)1;
	kbuf msg = KBUF_INIT;
	CHECK_INT_EQ(kregex_compile(&re, "a(b", 3, KREGEX_GO, &msg), -1);
	CHECK(re == NULL);
	CHECK_CONTAINS(msg.ptr, "missing closing parenthesis");
	kbuf_release(&msg);
	CHECK_INT_EQ(kregex_compile(&re, "[", 1, KREGEX_GO, NULL), -1);
}

TEST(core_regex_match_and_submatches)
{
	kregex *re = rx("(?<key>[a-z]+)=(\\d+)?(x)?", KREGEX_GO);
	const kregex_span *m;
	CHECK_INT_EQ(kregex_groups(re), 4);
	CHECK_INT_EQ(kregex_group_index(re, "key", 3), 1);
	CHECK_INT_EQ(kregex_group_index(re, "nope", 4), -1);
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

/* RE2's \s leaves out \v; $ is the end of the text only */
TEST(core_regex_go_spaces_and_dollar)
{
	kregex *re = rx("^\\s$", KREGEX_GO);
	CHECK_INT_EQ(kregex_match(re, "\v", 1, 0, NULL), KREGEX_NOMATCH);
	CHECK_INT_EQ(kregex_match(re, "\t", 1, 0, NULL), KREGEX_MATCH);
	kregex_free(re);
	re = rx("a$", KREGEX_GO);
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
	kregex *re = rx("^(a+)+$", KREGEX_GO);
	char s[64];
	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 2] = 'b';
	s[sizeof(s) - 1] = 0;
	CHECK_INT_EQ(kregex_match(re, s, strlen(s), 0, NULL), KREGEX_LIMIT);
	kregex_free(re);
}

TEST(core_regex_find_all_as_go)
{
	kregex *re = rx("a(.)", KREGEX_GO);
	kbuf b = KBUF_INIT;
	CHECK_INT_EQ(kregex_each(re, "paranormal", 10, -1, join_match, &b), KREGEX_MATCH);
	CHECK_STR_EQ(b.ptr, "[ar][an][al]");
	kbuf_reset(&b);
	kregex_each(re, "paranormal", 10, 2, join_match, &b);
	CHECK_STR_EQ(b.ptr, "[ar][an]");
	kbuf_reset(&b);
	CHECK_INT_EQ(kregex_each(re, "xyz", 3, -1, join_match, &b), KREGEX_NOMATCH);
	CHECK_STR_EQ(b.ptr, "");
	kregex_free(re);
	kbuf_release(&b);
}

TEST(core_regex_replace_as_go)
{
	static const struct {
		const char *repl, *want;
		bool literal;
	} cases[] = {
		{ "T", "-T-T-", false },
		{ "$1", "--xx-", false },
		{ "$1W", "---", false },
		{ "${1}W", "-W-xxW-", false },
		{ "$$", "-$-$-", false },
		{ "${1}", "-${1}-${1}-", true },
	};
	kregex *re = rx("a(x*)b", KREGEX_GO);
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kbuf b = KBUF_INIT;
		kregex_replace(re, "-ab-axxb-", 9, cases[i].repl, strlen(cases[i].repl), cases[i].literal, &b);
		CHECK_STR_EQ(b.ptr, cases[i].want);
		kbuf_release(&b);
	}
	kregex_free(re);
}

TEST(core_regex_split_as_go)
{
	kregex *re = rx("a*", KREGEX_GO);
	kbuf b = KBUF_INIT;
	kregex_split(re, "abaabaccadaaae", 14, 5, join, &b);
	CHECK_STR_EQ(b.ptr, "[][b][b][c][cadaaae]");
	kbuf_reset(&b);
	kregex_split(re, "", 0, -1, join, &b);
	CHECK_STR_EQ(b.ptr, "[]");
	kbuf_reset(&b);
	kregex_split(re, "abc", 3, 0, join, &b);
	CHECK_STR_EQ(b.ptr, "");
	kregex_free(re);
	re = rx("", KREGEX_GO);
	kregex_split(re, "", 0, -1, join, &b);
	CHECK_STR_EQ(b.ptr, "");
	kregex_free(re);
	kbuf_release(&b);
}
