/*
 * values/pointer.c - JSON pointers in schema references (RFC 6901 inside a
 * URI fragment, RFC 3986 percent-encoding), shared by validation and the
 * secret-mark walk so both read "#/$defs/a~1b" and "#/$defs/e%25f" alike.
 */
#include "values_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void values_pct_decode(kbuf *out, const char *s)
{
	while (*s) {
		if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char h[3] = { s[1], s[2], 0 };
			kbuf_putc(out, (char)strtol(h, NULL, 16));
			s += 3;
		} else {
			kbuf_putc(out, *s++);
		}
	}
}

const doc_node *values_pointer_child(const doc_node *n, const char *tok, size_t len, kbuf *scratch)
{
	size_t i;
	kbuf_reset(scratch);
	for (i = 0; i < len; i++) {
		if (tok[i] == '~' && i + 1 < len && (tok[i + 1] == '0' || tok[i + 1] == '1')) {
			kbuf_putc(scratch, tok[i + 1] == '1' ? '/' : '~');
			i++;
		} else {
			kbuf_putc(scratch, tok[i]);
		}
	}
	if (!n)
		return NULL;
	if (n->type == DOC_MAP)
		return doc_map_getn(n, scratch->ptr, scratch->len);
	if (n->type == DOC_SEQ) {
		char *end;
		long idx = strtol(scratch->ptr, &end, 10);
		return (*end || !scratch->len || idx < 0) ? NULL : doc_seq_get(n, (size_t)idx);
	}
	return NULL;
}
