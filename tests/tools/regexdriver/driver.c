/* tests/tools/regexdriver/driver.c - runs kstage's Go-regexp port
 * (installer/tmpl/re.h) on the cases tests/tools/regexoracle/main.go
 * sends, one per line: hex(pattern) hex(input) hex(replacement) n, and
 * prints the outcome in the form main.go prints Go's regexp outcome:
 *   E <hex(err.Error())>
 *   M <0|1> A <FindAllStringSubmatchIndex(s, -1)> N <same, at most n>
 *     R <hex(ReplaceAllString)> L <hex(ReplaceAllLiteralString)>
 *     S <Split(s, -1)> T <Split(s, n)>
 * Built with the sanitizers, so the oracle also checks memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "tmpl/re.h"

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

/* decodes the hex field at *p (up to a blank), advancing *p */
static int get_hex(char **p, kbuf *out)
{
	char *s = *p;
	kbuf_reset(out);
	while (*s && *s != ' ' && *s != '\n') {
		int h = unhex(s[0]), l = s[1] ? unhex(s[1]) : -1;
		if (h < 0 || l < 0)
			return -1;
		kbuf_putc(out, (char)(h << 4 | l));
		s += 2;
	}
	if (*s == ' ')
		s++;
	*p = s;
	return 0;
}

typedef struct all_ctx {
	kbuf *b;
	size_t slots;
	bool first;
} all_ctx;

static void put_match(void *ctx, const char *s, const int64_t *cap)
{
	all_ctx *c = ctx;
	size_t i;
	(void)s;
	kbuf_puts(c->b, c->first ? "[" : ",[");
	c->first = false;
	for (i = 0; i < c->slots; i++)
		kbuf_printf(c->b, i ? ",%lld" : "%lld", (long long)cap[i]);
	kbuf_putc(c->b, ']');
}

typedef struct piece_ctx {
	kbuf *b;
	bool first;
} piece_ctx;

static void put_piece(void *ctx, const char *s, size_t n)
{
	piece_ctx *c = ctx;
	kbuf_puts(c->b, c->first ? "[" : ",[");
	c->first = false;
	put_hex(c->b, s, n);
	kbuf_putc(c->b, ']');
}

static void put_all(kbuf *b, const re_prog *re, const kbuf *s, int64_t n)
{
	all_ctx c = { b, 2 * re_groups(re), true };
	kbuf_putc(b, '{');
	re_each(re, s->ptr, s->len, n, put_match, &c);
	kbuf_putc(b, '}');
}

static void put_split(kbuf *b, const re_prog *re, const kbuf *s, int64_t n)
{
	piece_ctx c = { b, true };
	if (n == 0) {
		kbuf_puts(b, "nil");
		return;
	}
	kbuf_putc(b, '{');
	re_split(re, s->ptr, s->len, n, put_piece, &c);
	kbuf_putc(b, '}');
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	kbuf pat = KBUF_INIT, s = KBUF_INIT, repl = KBUF_INIT, out = KBUF_INIT, err = KBUF_INIT;
	while (getline(&line, &cap, stdin) > 0) {
		char *p = line;
		long long n;
		re_prog *re;
		if (get_hex(&p, &pat) || get_hex(&p, &s) || get_hex(&p, &repl) || sscanf(p, "%lld", &n) != 1) {
			fprintf(stderr, "regexdriver: bad line: %s", line);
			return 2;
		}
		kbuf_reset(&out);
		kbuf_reset(&err);
		if (re_compile(&re, pat.ptr, pat.len, &err)) {
			kbuf_puts(&out, "E ");
			put_hex(&out, err.ptr, err.len);
		} else {
			int64_t *m = xcalloc(2 * re_groups(re), sizeof(int64_t));
			kbuf_printf(&out, "M %d A ", re_exec(re, s.ptr, s.len, 0, m));
			free(m);
			put_all(&out, re, &s, -1);
			kbuf_puts(&out, " N ");
			put_all(&out, re, &s, n < 0 ? -1 : n);
			kbuf_puts(&out, " R ");
			kbuf_reset(&err);
			re_replace(re, s.ptr, s.len, repl.ptr, repl.len, false, &err);
			put_hex(&out, err.ptr, err.len);
			kbuf_puts(&out, " L ");
			kbuf_reset(&err);
			re_replace(re, s.ptr, s.len, repl.ptr, repl.len, true, &err);
			put_hex(&out, err.ptr, err.len);
			kbuf_puts(&out, " S ");
			put_split(&out, re, &s, -1);
			kbuf_puts(&out, " T ");
			put_split(&out, re, &s, n);
			re_free(re);
		}
		kbuf_putc(&out, '\n');
		fwrite(out.ptr, 1, out.len, stdout);
		fflush(stdout);
	}
	free(line);
	kbuf_release(&pat);
	kbuf_release(&s);
	kbuf_release(&repl);
	kbuf_release(&out);
	kbuf_release(&err);
	return 0;
}
