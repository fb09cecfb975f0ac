/*
 * values/schema_regex.c - the pattern and patternProperties keywords and
 * the "regex" format: ECMA-262 patterns run by core/regex, compiled once per
 * validation.
 */
#include "schema_int.h"
#include "core/alloc.h"
#include "core/regex.h"

#include <stdlib.h>
#include <string.h>

typedef struct vs_re {
	const doc_node *node;
	kregex *re;        /* NULL: does not compile */
} vs_re;

struct vs_regexes {
	vs_re *re;
	size_t nre, capre;
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

static kregex *regex_for(vs *v, const doc_node *pat)
{
	kbuf tr = KBUF_INIT;
	size_t i;
	kregex *re;
	vs_regexes *rc;
	if (!v->re)
		v->re = xcalloc(1, sizeof(*v->re));
	rc = v->re;
	for (i = 0; i < rc->nre; i++)
		if (rc->re[i].node == pat)
			return rc->re[i].re;
	ecma_to_pcre(&tr, pat->u.s.ptr, pat->u.s.len);
	if (kregex_compile(&re, tr.ptr, tr.len, KREGEX_UTF | KREGEX_ALT_BSUX | KREGEX_DOLLAR_ENDONLY, NULL))
		re = NULL;
	kbuf_release(&tr);
	ALLOC_GROW(rc->re, rc->nre + 1, rc->capre);
	rc->re[rc->nre].node = pat;
	rc->re[rc->nre].re = re;
	rc->nre++;
	return re;
}

int vs_re_match(vs *v, const doc_node *pat, const char *s, size_t len)
{
	kregex *re = regex_for(v, pat);
	if (!re)
		return -1;
	switch (kregex_match(re, s, len, 0, NULL)) {
	case KREGEX_MATCH: return 1;
	case KREGEX_NOMATCH: return 0;
	default: return -2;
	}
}

bool vs_regex_compiles(const char *s, size_t n)
{
	kregex *re;
	if (kregex_compile(&re, s, n, KREGEX_UTF, NULL))
		return false;
	kregex_free(re);
	return true;
}

void vs_regex_release(vs *v)
{
	size_t i;
	if (!v->re)
		return;
	for (i = 0; i < v->re->nre; i++)
		kregex_free(v->re->re[i].re);
	free(v->re->re);
	free(v->re);
	v->re = NULL;
}
