/*
 * values/schema_regex.c - the pattern and patternProperties keywords and
 * the "regex" format: ECMA-262 patterns run with PCRE2, compiled once per
 * validation.
 */
#include "schema_int.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

typedef struct vs_re {
	const doc_node *node;
	pcre2_code *code;  /* NULL: does not compile */
} vs_re;

struct vs_regexes {
	vs_re *re;
	size_t nre, capre;
	pcre2_match_data *md;
};

/* ECMA-262 long general category names that PCRE2 spells short. */
static void ecma_to_pcre(kbuf *out, const char *s, size_t len)
{
	static const char *const names[][2] = {
		{ "Letter", "L" }, { "Cased_Letter", "L&" }, { "Uppercase_Letter", "Lu" },
		{ "Lowercase_Letter", "Ll" }, { "Titlecase_Letter", "Lt" }, { "Modifier_Letter", "Lm" },
		{ "Other_Letter", "Lo" }, { "Mark", "M" }, { "Number", "N" }, { "Decimal_Number", "Nd" },
		{ "digit", "Nd" }, { "Letter_Number", "Nl" }, { "Other_Number", "No" }, { "Punctuation", "P" },
		{ "punct", "P" }, { "Symbol", "S" }, { "Math_Symbol", "Sm" }, { "Currency_Symbol", "Sc" },
		{ "Separator", "Z" }, { "Space_Separator", "Zs" }, { "Other", "C" }, { "Control", "Cc" },
		{ "Format", "Cf" }, { "Unassigned", "Cn" }, { "Private_Use", "Co" },
	};
	size_t i, j;
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 2 < len && (s[i + 1] == 'p' || s[i + 1] == 'P') && s[i + 2] == '{') {
			const char *e = memchr(s + i + 3, '}', len - i - 3);
			bool done = false;
			if (e) {
				size_t nl = (size_t)(e - (s + i + 3));
				for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
					if (strlen(names[j][0]) == nl && !memcmp(names[j][0], s + i + 3, nl)) {
						kbuf_printf(out, "\\%c{%s}", s[i + 1], names[j][1]);
						i = (size_t)(e - s);
						done = true;
						break;
					}
			}
			if (done)
				continue;
		}
		if (s[i] == '\\' && i + 1 < len) {
			kbuf_put(out, s + i, 2);
			i++;
			continue;
		}
		kbuf_putc(out, s[i]);
	}
}

static pcre2_code *regex_for(vs *v, const doc_node *pat)
{
	kbuf tr = KBUF_INIT;
	size_t i;
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *c;
	pcre2_compile_context *cc;
	vs_regexes *rc;
	if (!v->re)
		v->re = xcalloc(1, sizeof(*v->re));
	rc = v->re;
	for (i = 0; i < rc->nre; i++)
		if (rc->re[i].node == pat)
			return rc->re[i].code;
	cc = pcre2_compile_context_create(NULL);
	pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX);
	ecma_to_pcre(&tr, pat->u.s.ptr, pat->u.s.len);
	c = pcre2_compile((PCRE2_SPTR)tr.ptr, tr.len, PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY,
			  &ec, &eo, cc);
	kbuf_release(&tr);
	pcre2_compile_context_free(cc);
	ALLOC_GROW(rc->re, rc->nre + 1, rc->capre);
	rc->re[rc->nre].node = pat;
	rc->re[rc->nre].code = c;
	rc->nre++;
	return c;
}

int vs_re_match(vs *v, const doc_node *pat, const char *s, size_t len)
{
	pcre2_code *c = regex_for(v, pat);
	int r;
	if (!c)
		return -1;
	if (!v->re->md)
		v->re->md = pcre2_match_data_create(16, NULL);
	r = pcre2_match(c, (PCRE2_SPTR)s, len, 0, 0, v->re->md, NULL);
	return r >= 0 ? 1 : 0;
}

bool vs_regex_compiles(const char *s, size_t n)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)s, n, PCRE2_UTF, &ec, &eo, NULL);
	if (!c)
		return false;
	pcre2_code_free(c);
	return true;
}

void vs_regex_release(vs *v)
{
	size_t i;
	if (!v->re)
		return;
	for (i = 0; i < v->re->nre; i++)
		if (v->re->re[i].code)
			pcre2_code_free(v->re->re[i].code);
	if (v->re->md)
		pcre2_match_data_free(v->re->md);
	free(v->re->re);
	free(v->re);
	v->re = NULL;
}
