/* core/redact: secrets masked by value. */
#include "unit.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/event.h"
#include "core/redact.h"

#include <stdio.h>
#include <stdlib.h>

/* text with r applied, in a static buffer (valid until the next call) */
static const char *masked(kredact *r, const char *text)
{
	static char out[8192];
	kbuf b = KBUF_INIT;
	kredact_apply(r, text, strlen(text), &b);
	snprintf(out, sizeof(out), "%s", b.ptr);
	kbuf_release(&b);
	return out;
}

TEST(redact_masks_every_occurrence_and_substrings)
{
	kredact *r = kredact_new();
	kredact_add(r, "hunter22", 8, 0);
	CHECK_STR_EQ(masked(r, "hunter22"), "<redacted>");
	CHECK_STR_EQ(masked(r, "pw=hunter22, again hunter22."), "pw=<redacted>, again <redacted>.");
	CHECK_STR_EQ(masked(r, "xxhunter22yy"), "xx<redacted>yy");
	CHECK_STR_EQ(masked(r, "hunter2 is not it"), "hunter2 is not it");   /* added whole */
	CHECK_STR_EQ(masked(r, ""), "");
	kredact_free(r);
}

TEST(redact_fragments_of_values)
{
	kredact *r = kredact_new();
	kredact_add(r, "Zmarker-pw-1", 12, KREDACT_FRAGMENTS);
	kredact_add(r, "whole-only-secret", 17, 0);
	/* Go's lexer cuts the identifier out of "{{ Zmarker-pw-1 }}" */
	CHECK_STR_EQ(masked(r, "function \"Zmarker\" not defined"), "function \"<redacted>\" not defined");
	/* time parsing quotes the rest it stopped in */
	CHECK_STR_EQ(masked(r, "cannot parse \"ker-pw-1\" as"), "cannot parse \"<redacted>\" as");
	/* a piece is masked as far as it matches, and only as a word of its own */
	CHECK_STR_EQ(masked(r, "[Zmarker-pw-2]"), "[<redacted>2]");
	CHECK_STR_EQ(masked(r, "ZmarkerRef: x, xZmarker"), "ZmarkerRef: x, xZmarker");
	CHECK_STR_EQ(masked(r, "Zmarker-pwd"), "<redacted>pwd");
	/* less than half, or fewer than KREDACT_MIN_LEN bytes: kept */
	CHECK_STR_EQ(masked(r, "Zmark and pw-1"), "Zmark and pw-1");
	CHECK_STR_EQ(masked(r, "Zmarke"), "<redacted>");
	/* secrets added whole are not masked in pieces */
	CHECK_STR_EQ(masked(r, "whole-only-secre"), "whole-only-secre");
	CHECK_STR_EQ(masked(r, "a whole-only-secret"), "a <redacted>");
	/* adding it again with fragments indexes them */
	kredact_add(r, "whole-only-secret", 17, KREDACT_FRAGMENTS);
	CHECK_STR_EQ(masked(r, "whole-only-secre"), "<redacted>");
	kredact_free(r);
}

TEST(redact_short_values_are_not_masked_by_value)
{
	kredact *r = kredact_new();
	kredact_add(r, "admin", 5, 0);
	kredact_add(r, "  true \n", 8, 0);   /* trimmed first: 4 bytes */
	CHECK_INT_EQ(kredact_count(r), 0);
	CHECK_STR_EQ(masked(r, "cluster-admin is true"), "cluster-admin is true");
	kredact_add(r, "admin1", 6, 0);
	CHECK_STR_EQ(masked(r, "user admin1"), "user <redacted>");
	kredact_free(r);
}

TEST(redact_overlapping_and_adjacent_secrets_make_one_mask)
{
	kredact *r = kredact_new();
	kredact_add(r, "abcdefgh", 8, 0);
	kredact_add(r, "efghijklmn", 10, 0);
	kredact_add(r, "zzzzzz", 6, 0);
	/* the later secret starts inside the first: nothing of either shows */
	CHECK_STR_EQ(masked(r, "[abcdefghijklmn]"), "[<redacted>]");
	CHECK_STR_EQ(masked(r, "[abcdefghzzzzzz]"), "[<redacted>]");
	CHECK_STR_EQ(masked(r, "[abcdefgh zzzzzz]"), "[<redacted> <redacted>]");
	/* the longest secret at a position wins */
	kredact_add(r, "abcdefghXYZ", 11, 0);
	CHECK_STR_EQ(masked(r, "abcdefghXYZ!"), "<redacted>!");
	kredact_free(r);
}

TEST(redact_printed_forms)
{
	kredact *r = kredact_new();
	kredact_add(r, "pa\"ss<w>'rd\\", 12, 0);
	/* JSON and Go %q */
	CHECK_STR_EQ(masked(r, "{\"msg\":\"pa\\\"ss<w>'rd\\\\\"}"), "{\"msg\":\"<redacted>\"}");
	/* Go's json encoder escapes <, > and & */
	CHECK_STR_EQ(masked(r, "\"pa\\\"ss\\u003cw\\u003e'rd\\\\\""), "\"<redacted>\"");
	/* YAML single-quoted */
	CHECK_STR_EQ(masked(r, "pw: 'pa\"ss<w>''rd\\'"), "pw: '<redacted>'");
	/* base64, as in a Secret's data */
	{
		kbuf b = KBUF_INIT;
		kredact *q = kredact_new();
		kredact_add(q, "correct horse", 13, 0);
		kredact_apply(q, "password: Y29ycmVjdCBob3JzZQ==", 30, &b);
		CHECK_STR_EQ(b.ptr, "password: <redacted>");
		kbuf_release(&b);
		kredact_free(q);
	}
	kredact_free(r);
}

TEST(redact_multiline_values_mask_each_line)
{
	kredact *r = kredact_new();
	const char *key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\r\nBKcwggSjAgEAAoIBAQC7\n-----END KEY-----\n";
	kredact_add(r, key, strlen(key), 0);
	CHECK_STR_EQ(masked(r, key), "<redacted>\n");
	/* as a diff shows a block scalar: indented, one line at a time */
	CHECK_STR_EQ(masked(r, "+    MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n+    BKcwggSjAgEAAoIBAQC7\n"),
		     "+    <redacted>\n+    <redacted>\n");
	/* JSON-escaped whole value */
	CHECK_STR_EQ(masked(r, "\"-----BEGIN KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\r\\nBKcwggSjAgEAAoIBAQC7\\n-----END KEY-----\""),
		     "\"<redacted>\"");
	kredact_free(r);
}

TEST(redact_base64_data_adds_what_it_decodes_to)
{
	kredact *r = kredact_new();
	kredact_add_base64(r, "aHVudGVyMjI=", 12);   /* hunter22 */
	CHECK_STR_EQ(masked(r, "got hunter22 and aHVudGVyMjI="), "got <redacted> and <redacted>");
	/* not base64: only the text itself */
	kredact_add_base64(r, "not*base64!", 11);
	CHECK_STR_EQ(masked(r, "not*base64!"), "<redacted>");
	/* binary data with a NUL */
	kredact_add_base64(r, "AAECAwQFBgc=", 12);
	{
		kbuf b = KBUF_INIT;
		const char bin[] = "x\0\1\2\3\4\5\6\7y";
		kredact_apply(r, bin, 10, &b);
		CHECK_INT_EQ(b.len, 12);
		CHECK(!memcmp(b.ptr, "x<redacted>y", 12));
		kbuf_release(&b);
	}
	kredact_free(r);
}

TEST(redact_duplicates_are_kept_once)
{
	kredact *r = kredact_new();
	size_t n;
	kredact_add(r, "s3cr3t-token", 12, 0);
	n = kredact_count(r);
	CHECK(n >= 2);
	kredact_add(r, "s3cr3t-token", 12, 0);
	kredact_add(r, " s3cr3t-token\n", 14, 0);
	CHECK_INT_EQ(kredact_count(r), n);
	kredact_free(r);
}

TEST(redact_null_set_and_sink_copy)
{
	kbuf b = KBUF_INIT;
	kev_sink s = { NULL, NULL, NULL };
	CHECK_INT_EQ(kredact_apply(NULL, "hunter22", 8, &b), 0);
	CHECK_STR_EQ(b.ptr, "hunter22");
	kredact_add(NULL, "hunter22", 8, 0);
	kev_secret(&s, "hunter22", 8);
	kev_secret(NULL, "hunter22", 8);
	s.redact = kredact_new();
	kev_secret(&s, "hunter22", 8);
	CHECK_INT_EQ(kredact_buf(s.redact, &b), 1);
	CHECK_STR_EQ(b.ptr, "<redacted>");
	kredact_free(s.redact);
	kbuf_release(&b);
}

TEST(redact_cap_never_keeps_the_clear_text)
{
	kredact *r = kredact_new();
	kbuf b = KBUF_INIT;
	kredact_add(r, "hunter22", 8, 0);
	kbuf_set_cap(&b, 20);
	kbuf_puts(&b, "aaaaaa hunter22 bbbb");
	/* masking grows the text past the cap: b keeps a masked prefix */
	CHECK_INT_EQ(kredact_buf(r, &b), -1);
	CHECK(!strstr(b.ptr, "hunter"));
	kbuf_release(&b);
	kredact_free(r);
}

TEST(redact_many_secrets_long_text)
{
	kredact *r = kredact_new();
	kbuf text = KBUF_INIT, out = KBUF_INIT;
	char s[32];
	size_t i;
	long n;
	/* 5,000 secrets sharing a long prefix (one table chain) and 5,000 not */
	for (i = 0; i < 5000; i++) {
		snprintf(s, sizeof(s), "common-prefix-%zu;", i);
		kredact_add(r, s, strlen(s), 0);
		snprintf(s, sizeof(s), "%zu-tok-%zu", i * 7919, i);
		kredact_add(r, s, strlen(s), 0);
	}
	for (i = 0; i < 20000; i++)
		kbuf_printf(&text, "line %zu common-prefix-%zu; %zu-tok-%zu ok\n", i, i % 5000 + 5000, (i % 5000) * 7919,
			    i % 5000);
	n = kredact_apply(r, text.ptr, text.len, &out);
	CHECK_INT_EQ(n, 20000);
	CHECK(!strstr(out.ptr, "-tok-"));
	CHECK_CONTAINS(out.ptr, "line 19999 common-prefix-9999; <redacted> ok\n");
	kbuf_release(&text);
	kbuf_release(&out);
	kredact_free(r);
}

TEST(redact_adding_a_known_secret_again_adds_nothing)
{
	kredact *r = kredact_new();
	const char *key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----\n";
	size_t n;
	int i;
	kredact_add(r, key, strlen(key), KREDACT_FRAGMENTS);
	n = kredact_count(r);
	for (i = 0; i < 3; i++)
		kredact_add(r, key, strlen(key), KREDACT_FRAGMENTS);
	kredact_add(r, key, strlen(key), 0);
	CHECK_INT_EQ(kredact_count(r), n);
	CHECK_STR_EQ(masked(r, "MIIEvQIBADANBgkqhkiG9"), "<redacted>");   /* a fragment of a line */
	kredact_free(r);
}

TEST(redact_budgets_fail_closed)
{
	kredact *r = kredact_new();
	/* fragments stop at their budget; values are still masked whole */
	kredact_set_cap(r, (size_t)1 << 20, 10);
	kredact_add(r, "Zfirst-secret-1", 15, KREDACT_FRAGMENTS);    /* 8 fragment entries */
	kredact_add(r, "Zsecond-secret-2", 16, KREDACT_FRAGMENTS);   /* would pass 10: whole only */
	CHECK_STR_EQ(masked(r, "Zfirst-secr"), "<redacted>");
	CHECK_STR_EQ(masked(r, "Zsecond-secr"), "Zsecond-secr");
	CHECK_STR_EQ(masked(r, "a Zsecond-secret-2"), "a <redacted>");
	/* a secret that does not fit at all: nothing is printed in clear */
	kredact_set_cap(r, 2048, 10);
	{
		char big[4096];
		memset(big, 'x', sizeof(big));
		kredact_add(r, big, sizeof(big), 0);
	}
	CHECK_STR_EQ(masked(r, "anything at all"), KREDACT_OVER);
	kredact_free(r);
}

TEST(redact_base64_inside_a_longer_text)
{
	kredact *r = kredact_new();
	kredact_add(r, "hunter22-pw", 11, 0);
	/* base64 of "" / "u:" / "us:" / "user:" / "x" + secret + "!tail": the
	 * characters the secret alone decides are masked at every alignment */
	CHECK(!strstr(masked(r, "aHVudGVyMjItcHchdGFpbA=="), "aHVudGVyMjItcHc"));
	CHECK(!strstr(masked(r, "dTpodW50ZXIyMi1wdyF0YWls"), "odW50ZXIyMi1wdy"));
	CHECK(!strstr(masked(r, "dXM6aHVudGVyMjItcHchdGFpbA=="), "aHVudGVyMjItcHc"));
	CHECK(!strstr(masked(r, "dXNlcjpodW50ZXIyMi1wdyF0YWls"), "odW50ZXIyMi1wdy"));
	CHECK_STR_EQ(masked(r, "eGh1bnRlcjIyLXB3IXRhaWw="), "eG<redacted>IXRhaWw=");
	kredact_free(r);
}

/* Property: over a two-letter alphabet and spaces (so secrets overlap, nest
 * and touch all the time), no secret is left in the output, nor a piece of
 * half a fragment-masked one as a word of its own. */
TEST(redact_nothing_left_in_random_texts)
{
	unsigned long seed = 12345;
	int round;
	for (round = 0; round < 300; round++) {
		kredact *r = kredact_new();
		char sec[8][24], text[400];
		size_t slen[8], i, k, n = 1 + round % 8, tlen;
		kbuf out = KBUF_INIT;
		for (i = 0; i < n; i++) {
			slen[i] = 6 + (seed = seed * 6364136223846793005UL + 1442695040888963407UL) % 16;
			for (k = 0; k < slen[i]; k++)
				sec[i][k] = "ab"[(seed = seed * 6364136223846793005UL + 1442695040888963407UL) >> 63];
			sec[i][slen[i]] = 0;
			kredact_add(r, sec[i], slen[i], i % 2 ? KREDACT_FRAGMENTS : 0);
		}
		tlen = 50 + round % 350;
		for (k = 0; k < tlen; k++)
			text[k] = "aabab "[((seed = seed * 6364136223846793005UL + 1442695040888963407UL) >> 33) % 6];
		text[tlen] = 0;
		kredact_apply(r, text, tlen, &out);
		for (i = 0; i < n; i++) {
			size_t need = slen[i] / 2 + slen[i] % 2;
			if (need < KREDACT_MIN_LEN)
				need = KREDACT_MIN_LEN;
			CHECK_MSG(!strstr(out.ptr, sec[i]), "secret %s left in %s (from %s)", sec[i], out.ptr, text);
			for (k = 0; i % 2 && k + need <= slen[i]; k++) {
				char piece[24];
				const char *at;
				memcpy(piece, sec[i] + k, need);
				piece[need] = 0;
				/* a piece is masked where it is a word of its own (a mask
				 * next to it stands for letters that were there) */
				for (at = strstr(out.ptr, piece); at; at = strstr(at + 1, piece))
					CHECK_MSG((at > out.ptr && at[-1] != ' ') || (at[need] && at[need] != ' '),
						  "piece %s of %s left in %s", piece, sec[i], out.ptr);
			}
		}
		kbuf_release(&out);
		kredact_free(r);
		if (unit_failed_current())
			break;
	}
}

TEST(redact_url_passwords_whatever_their_length)
{
	kredact *r = kredact_new();
	/* never added: masked by where they stand, also when short */
	CHECK_STR_EQ(masked(r, "fetching https://u:pw@m.example/a.yaml"), "fetching https://u:<redacted>@m.example/a.yaml");
	CHECK_STR_EQ(masked(r, "from \"oci://bob:s3cr:et@reg/x\" and git://a:b@h/p"),
		     "from \"oci://bob:<redacted>@reg/x\" and git://a:<redacted>@h/p");
	/* a user alone, an empty password, '@' past the host or in a path: left */
	CHECK_STR_EQ(masked(r, "https://bob@h/x https://bob:@h https://h/p:q@r x:y@z"),
		     "https://bob@h/x https://bob:@h https://h/p:q@r x:y@z");
	CHECK_STR_EQ(masked(r, "://"), "://");
	CHECK_STR_EQ(masked(r, "https://u:p"), "https://u:p");
	kredact_free(r);
}
