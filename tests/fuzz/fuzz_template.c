/*
 * fuzz_template: the template engine (tmpl/lex.c, parse.c, exec.c and the
 * functions). The input is a template; it is parsed and, when it parses,
 * executed with a small fixed data tree. Errors are fine; crashes, leaks,
 * sanitizer reports and runaway time or memory are not (steps, output and
 * memory are capped small here).
 *
 * An input starting with byte 0x01 is a rendered document instead: the fast
 * YAML check of tmpl/render.c must never accept what libyaml rejects, and
 * must find the same kind and hook (a disagreement aborts).
 */
#include "doc/doc.h"
#include "tmpl/tmpl.h"
#include "tmpl/tmpl_int.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char data_yaml[] =
	"name: web\n"
	"port: 80\n"
	"ratio: 0.5\n"
	"on: true\n"
	"list: [a, b, 3, null]\n"
	"map: {k: v, n: {deep: 1}}\n"
	"empty: \"\"\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf out = KBUF_INIT;
	doc_node *root = NULL;
	tmpl_set *s;
	tmpl_exec_opts o;
	if (size > 65536)
		return 0;
	if (size >= 1 && data[0] == 1) {
		char *fk = NULL, *fh = NULL, *fe = NULL, *sk = NULL, *sh = NULL, *se = NULL;
		if (doc_head_check((const char *)data + 1, size - 1, true, &fk, &fh, &fe)) {
			if (!doc_head_check((const char *)data + 1, size - 1, false, &sk, &sh, &se))
				__builtin_trap();
			if ((fk == NULL) != (sk == NULL) || (fk && strcmp(fk, sk)) || (fh == NULL) != (sh == NULL) ||
			    (fh && strcmp(fh, sh)))
				__builtin_trap();
		}
		free(fk); free(fh); free(fe); free(sk); free(sh); free(se);
		return 0;
	}
	e.quiet = 1;
	memset(&o, 0, sizeof(o));
	o.max_output = 1 << 20;
	o.max_steps = 20000;
	o.max_memory = 64 << 20;
	if (doc_load_yaml1(&root, &a, "data", data_yaml, sizeof(data_yaml) - 1, NULL, &e) == 0) {
		s = tmpl_set_new(&a);
		if (tmpl_parse(s, "fuzz", (const char *)data, size, &e) == 0) {
			kerr_clear(&e);
			e.quiet = 1;
			tmpl_exec(s, "fuzz", root, &out, &o, &e);
		}
	}
	kbuf_release(&out);
	kerr_clear(&e);
	karena_release(&a);
	return 0;
}
