/* Unit tests for installer/tmpl/re (Go's regexp for the template
 * functions): Go's FindAll, ReplaceAll and Split examples from its docs,
 * submatches, error text and linear time. The differential test against Go
 * itself is tests/tools/regexoracle. */
#include "unit.h"
#include "tmpl/re.h"

#include <stdlib.h>

static re_prog *rx(const char *pat)
{
	re_prog *re = NULL;
	kbuf msg = KBUF_INIT;
	if (re_compile(&re, pat, strlen(pat), &msg))
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

static void join_match(void *ctx, const char *s, const int64_t *cap)
{
	join(ctx, s + cap[0], (size_t)(cap[1] - cap[0]));
}

TEST(tmpl_re_error_text_is_go)
{
	re_prog *re = (re_prog *)1;
	kbuf msg = KBUF_INIT;
	CHECK_INT_EQ(re_compile(&re, "a\\e", 3, &msg), -1);
	CHECK(re == NULL);
	CHECK_STR_EQ(msg.ptr, "error parsing regexp: invalid escape sequence: `\\e`");
	kbuf_reset(&msg);
	CHECK_INT_EQ(re_compile(&re, "a(b", 3, &msg), -1);
	CHECK_STR_EQ(msg.ptr, "error parsing regexp: missing closing ): `a(b`");
	kbuf_reset(&msg);
	CHECK_INT_EQ(re_compile(&re, "x{2}{3}", 7, &msg), -1);
	CHECK_STR_EQ(msg.ptr, "error parsing regexp: invalid nested repetition operator: `{2}{3}`");
	kbuf_release(&msg);
}

TEST(tmpl_re_submatches)
{
	re_prog *re = rx("(?P<key>[a-z]+)=(\\d+)?(x)?");
	int64_t m[8];
	CHECK_INT_EQ(re_groups(re), 4);
	CHECK(re_exec(re, "  ab=12", 7, 0, m));
	CHECK_INT_EQ(m[0], 2);
	CHECK_INT_EQ(m[1], 7);
	CHECK_INT_EQ(m[2], 2);
	CHECK_INT_EQ(m[3], 4);
	CHECK_INT_EQ(m[4], 5);
	CHECK(m[6] == -1 && m[7] == -1);
	CHECK(re_exec(re, "  ab=12", 7, 3, m));
	CHECK_INT_EQ(m[0], 3);
	CHECK(!re_exec(re, "=12", 3, 0, m));
	re_free(re);
	/* the bytes before the start still decide \b */
	re = rx("\\bb");
	CHECK(!re_exec(re, "ab", 2, 1, m));
	CHECK(re_exec(re, " b", 2, 1, m));
	re_free(re);
}

TEST(tmpl_re_find_all_as_go)
{
	re_prog *re = rx("a(.)");
	kbuf b = KBUF_INIT;
	CHECK_INT_EQ(re_each(re, "paranormal", 10, -1, join_match, &b), 3);
	CHECK_STR_EQ(b.ptr, "[ar][an][al]");
	kbuf_reset(&b);
	re_each(re, "paranormal", 10, 2, join_match, &b);
	CHECK_STR_EQ(b.ptr, "[ar][an]");
	kbuf_reset(&b);
	CHECK_INT_EQ(re_each(re, "xyz", 3, -1, join_match, &b), 0);
	re_free(re);
	re = rx("a*");
	re_each(re, "baaab", 5, -1, join_match, &b);
	CHECK_STR_EQ(b.ptr, "[][aaa][]");
	re_free(re);
	kbuf_release(&b);
}

TEST(tmpl_re_replace_as_go)
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
		{ "${x}", "--xx-", false },
		{ "${x", "-${x-${x-", false },
	};
	re_prog *re = rx("a(?P<x>x*)b");
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kbuf b = KBUF_INIT;
		re_replace(re, "-ab-axxb-", 9, cases[i].repl, strlen(cases[i].repl), cases[i].literal, &b);
		CHECK_STR_EQ(b.ptr, cases[i].want);
		kbuf_release(&b);
	}
	re_free(re);
}

TEST(tmpl_re_split_as_go)
{
	re_prog *re = rx("a*");
	kbuf b = KBUF_INIT;
	re_split(re, "abaabaccadaaae", 14, 5, join, &b);
	CHECK_STR_EQ(b.ptr, "[][b][b][c][cadaaae]");
	kbuf_reset(&b);
	re_split(re, "", 0, -1, join, &b);
	CHECK_STR_EQ(b.ptr, "[]");
	kbuf_reset(&b);
	re_free(re);
	re = rx("");
	re_split(re, "", 0, -1, join, &b);
	CHECK_STR_EQ(b.ptr, "");
	re_free(re);
	kbuf_release(&b);
}

/* what makes a backtracker give up is an ordinary answer here */
TEST(tmpl_re_linear_time)
{
	size_t n = 200000;
	char *s = malloc(n + 1);
	int64_t m[4];
	re_prog *re = rx("^(a+)+$");
	memset(s, 'a', n);
	s[n - 1] = 'b';
	s[n] = 0;
	CHECK(!re_exec(re, s, n, 0, m));
	s[n - 1] = 'a';
	CHECK(re_exec(re, s, n, 0, m));
	CHECK_INT_EQ(m[1], (int64_t)n);
	re_free(re);
	re = rx("(a|aa)+b|a");
	s[n - 1] = 'c';
	CHECK(re_exec(re, s, n, 0, m));
	CHECK_INT_EQ(m[0], 0);
	CHECK_INT_EQ(m[1], 1);
	re_free(re);
	free(s);
}
