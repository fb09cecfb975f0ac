/* tests/tools/datedriver/driver.c - renders the templates that
 * tests/tools/dateoracle/main.go sends, one per line as hex(text), with
 * kstage's template engine (dot an empty map), and prints the outcome in
 * the form main.go prints Go's text/template outcome with Sprig's date
 * functions:
 *   O <hex(output)>   or   E <hex(error text)>
 * Built with the sanitizers, so the oracle also checks memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "tmpl/tmpl.h"
#include "tmpl/tmpl_int.h"

static void put_hex(kbuf *b, const char *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < n; i++) {
		kbuf_putc(b, hx[(unsigned char)s[i] >> 4]);
		kbuf_putc(b, hx[(unsigned char)s[i] & 15]);
	}
}

static int unhex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	kbuf text = KBUF_INIT, out = KBUF_INIT, res = KBUF_INIT;
	while (getline(&line, &cap, stdin) > 0) {
		karena a = KARENA_INIT;
		kerr err = KERR_INIT;
		tmpl_set *set;
		tmpl_exec_opts o = { 0 };
		char *p;
		kbuf_reset(&text);
		for (p = line; *p && *p != '\n'; p += 2) {
			int h = unhex(p[0]), l = p[1] ? unhex(p[1]) : -1;
			if (h < 0 || l < 0) {
				fprintf(stderr, "datedriver: bad line: %s", line);
				return 2;
			}
			kbuf_putc(&text, (char)(h << 4 | l));
		}
		kbuf_reset(&out);
		kbuf_reset(&res);
		o.keep_no_value = true;
		set = tmpl_set_new(&a);
		if (tmpl_parse(set, "t", text.ptr, text.len, &err) ||
		    tmpl_exec(set, "t", tv_map(&a), &out, &o, &err)) {
			kbuf msg = KBUF_INIT;
			tmpl_error_format_short(&err, &msg);
			kbuf_puts(&res, "E ");
			put_hex(&res, msg.ptr, msg.len);
			kbuf_release(&msg);
		} else {
			kbuf_puts(&res, "O ");
			put_hex(&res, out.ptr, out.len);
		}
		kbuf_putc(&res, '\n');
		fwrite(res.ptr, 1, res.len, stdout);
		fflush(stdout);
		kerr_clear(&err);
		karena_release(&a);
	}
	free(line);
	kbuf_release(&text);
	kbuf_release(&out);
	kbuf_release(&res);
	return 0;
}
