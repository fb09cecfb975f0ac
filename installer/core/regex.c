/* core/regex.c - regular expressions over PCRE2 (8-bit code units). The
 * only file that includes pcre2.h; see regex.h for the rules. */
#include "regex.h"
#include "alloc.h"

#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

struct kregex {
	pcre2_code *code;
	pcre2_match_data *md;
	size_t ngroups;       /* captures + 1 */
	kregex_span *sub;     /* ngroups spans of the last match */
};

int kregex_compile(kregex **out, const char *pat, size_t len, unsigned flags, kbuf *errmsg)
{
	int ec;
	PCRE2_SIZE eo;
	uint32_t opts = 0, ncap = 0;
	pcre2_compile_context *cc = NULL;
	pcre2_code *code;
	kregex *re;

	*out = NULL;
	if (flags & KREGEX_UTF)
		opts |= PCRE2_UTF;
	if (flags & KREGEX_DOLLAR_ENDONLY)
		opts |= PCRE2_DOLLAR_ENDONLY;
	if (flags & KREGEX_ALT_BSUX) {
		opts |= PCRE2_ALT_BSUX;
		cc = pcre2_compile_context_create(NULL);
		pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX);
	}
	code = pcre2_compile((PCRE2_SPTR)pat, len, opts, &ec, &eo, cc);
	pcre2_compile_context_free(cc);
	if (!code) {
		PCRE2_UCHAR buf[256];
		if (errmsg) {
			pcre2_get_error_message(ec, buf, sizeof(buf));
			kbuf_puts(errmsg, (const char *)buf);
		}
		return -1;
	}
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &ncap);
	re = xcalloc(1, sizeof(*re));
	re->code = code;
	re->md = pcre2_match_data_create_from_pattern(code, NULL);
	re->ngroups = (size_t)ncap + 1;
	re->sub = xcalloc(re->ngroups, sizeof(*re->sub));
	*out = re;
	return 0;
}

void kregex_free(kregex *re)
{
	if (!re)
		return;
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re->sub);
	free(re);
}

kregex_result kregex_match(kregex *re, const char *s, size_t len, size_t start, const kregex_span **sub)
{
	int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, start, 0, re->md, NULL);
	PCRE2_SIZE *ov;
	size_t i;
	if (rc == PCRE2_ERROR_NOMATCH)
		return KREGEX_NOMATCH;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
		return KREGEX_LIMIT;
	if (rc < 0)
		return KREGEX_ERROR;
	ov = pcre2_get_ovector_pointer(re->md);
	for (i = 0; i < re->ngroups; i++) {
		re->sub[i].beg = ov[2 * i] == PCRE2_UNSET ? KREGEX_UNSET : ov[2 * i];
		re->sub[i].end = ov[2 * i] == PCRE2_UNSET ? KREGEX_UNSET : ov[2 * i + 1];
	}
	if (sub)
		*sub = re->sub;
	return KREGEX_MATCH;
}
