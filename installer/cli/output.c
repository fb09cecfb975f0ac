#include "cli.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/redact.h"
#include "doc/doc.h"
#include "tmpl/tmpl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define C_RESET "\033[0m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_DIM "\033[2m"
#define C_BOLD "\033[1m"

/* Every secret the run knows is masked in whatever cli/ prints: errors,
 * events at any -v, plan diffs (core/redact.h). */
const char *cli_redact_str(const cli_ctx *ctx, karena *a, const char *s)
{
	kbuf b = KBUF_INIT;
	const char *r = s;
	if (!s)
		return NULL;
	if (kredact_apply(ctx->redact, s, strlen(s), &b))
		r = karena_strndup(a, b.ptr, b.len);
	kbuf_release(&b);
	return r;
}

void cli_redact(const cli_ctx *ctx, kbuf *b)
{
	kredact_buf(ctx->redact, b);
}

void cli_redact_event(const cli_ctx *ctx, const kevent *ev, kevent *out, karena *a)
{
	size_t i;
	*out = *ev;
	out->msg = cli_redact_str(ctx, a, ev->msg);
	for (i = 0; i < ev->nfields; i++)
		out->fields[i].val = cli_redact_str(ctx, a, ev->fields[i].val);
}

static const char *field(const kevent *ev, const char *key)
{
	size_t i;
	for (i = 0; i < ev->nfields; i++)
		if (!strcmp(ev->fields[i].key, key))
			return ev->fields[i].val;
	return "";
}

/* A download's progress: a bar on a terminal, redrawn in place; nothing
 * when stderr is not one (-o json has the events). */
static void progress_bar(const cli_ctx *ctx, const kevent *ev)
{
	double bytes = atof(field(ev, "bytes")), total = atof(field(ev, "total"));
	bool done = !strcmp(field(ev, "done"), "true");
	int width = 30, fill = total > 0 ? (int)(bytes / total * width) : 0, i;
	if (ctx->quiet || !isatty(2))
		return;
	if (fill > width)
		fill = width;
	fprintf(stderr, "\r%.60s [", field(ev, "name"));
	for (i = 0; i < width; i++)
		fputc(i < fill ? '#' : '.', stderr);
	if (total > 0)
		fprintf(stderr, "] %5.1f/%.1f MiB", bytes / 1048576.0, total / 1048576.0);
	else
		fprintf(stderr, "] %5.1f MiB", bytes / 1048576.0);
	fputs(done ? "\n" : "\033[K", stderr);
	fflush(stderr);
}

/* Terminal control bytes (C0 but newline and tab, DEL) in text that may
 * come from an API server's answer become '?': a message cannot colour,
 * move the cursor or rewrite the terminal's title. */
static void neutralise(char *s, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			s[i] = '?';
	}
}

static const char *neutral_str(karena *a, const char *s)
{
	char *t;
	if (!s)
		return NULL;
	t = karena_strdup(a, s);
	neutralise(t, strlen(t));
	return t;
}

static void text_emit(void *vctx, const kevent *raw)
{
	const cli_ctx *ctx = vctx;
	size_t i;
	const char *pre = "", *post = "";
	karena a = KARENA_INIT;
	kevent rev;
	const kevent *ev = &rev;
	if (raw->level == KEV_DEBUG && ctx->verbose < 1)
		return;
	if (ctx->quiet && raw->level < KEV_WARN)
		return;
	cli_redact_event(ctx, raw, &rev, &a);
	if (!strcmp(raw->kind, "fetch.progress")) {
		progress_bar(ctx, ev);
		karena_release(&a);
		return;
	}
	if (ctx->color) {
		post = C_RESET;
		pre = ev->level == KEV_ERROR ? C_RED : ev->level == KEV_WARN ? C_YELLOW
		    : ev->level == KEV_DEBUG ? C_DIM : "";
		if (!*pre)
			post = "";
	}
	fputs(pre, stderr);
	if (ev->level >= KEV_WARN)
		fprintf(stderr, "%s: ", kev_level_name(ev->level));
	fputs(ev->msg ? neutral_str(&a, ev->msg) : ev->kind, stderr);
	if (ctx->verbose > 1)
		for (i = 0; i < ev->nfields; i++)
			fprintf(stderr, " %s=%s", ev->fields[i].key, neutral_str(&a, ev->fields[i].val));
	fputs(post, stderr);
	fputc('\n', stderr);
	karena_release(&a);
}

static void json_emit(void *vctx, const kevent *raw)
{
	const cli_ctx *ctx = vctx;
	kbuf b = KBUF_INIT;
	size_t i;
	char ts[40];
	time_t now = time(NULL);
	struct tm tm;
	karena a = KARENA_INIT;
	kevent rev;
	const kevent *ev = &rev;
	if (raw->level == KEV_DEBUG && ctx->verbose < 1)
		return;
	cli_redact_event(ctx, raw, &rev, &a);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	kbuf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"event\":", ts, kev_level_name(ev->level));
	doc_json_quote(&b, ev->kind, strlen(ev->kind), 0);
	if (ev->msg) {
		kbuf_puts(&b, ",\"msg\":");
		doc_json_quote(&b, ev->msg, strlen(ev->msg), 0);
	}
	for (i = 0; i < ev->nfields; i++) {
		kbuf_putc(&b, ',');
		doc_json_quote(&b, ev->fields[i].key, strlen(ev->fields[i].key), 0);
		kbuf_putc(&b, ':');
		doc_json_quote(&b, ev->fields[i].val, strlen(ev->fields[i].val), 0);
	}
	kbuf_puts(&b, "}\n");
	fwrite(b.ptr, 1, b.len, stdout);
	fflush(stdout);
	kbuf_release(&b);
	karena_release(&a);
}

void cli_output_init(cli_ctx *ctx)
{
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		ctx->color = false;
	if (!isatty(2))
		ctx->color = false;
	ctx->sink.emit = ctx->json ? json_emit : text_emit;
	ctx->sink.ctx = ctx;
	if (!ctx->redact)
		ctx->redact = kredact_new();
	ctx->sink.redact = ctx->redact;
}

void cli_output_release(cli_ctx *ctx)
{
	kredact_free(ctx->redact);
	ctx->redact = NULL;
	ctx->sink.redact = NULL;
}

void cli_print_error(const cli_ctx *ctx, const kerr *e)
{
	kbuf b = KBUF_INIT;
	tmpl_error_format(e, &b);
	kredact_buf(ctx->redact, &b);
	neutralise(b.ptr, b.len);
	if (ctx->json) {
		kbuf j = KBUF_INIT;
		kbuf s = KBUF_INIT;
		tmpl_error_format_short(e, &s);
		kredact_buf(ctx->redact, &s);
		kbuf_printf(&j, "{\"level\":\"error\",\"event\":\"error\",\"code\":\"%s\",\"msg\":",
			    kerr_code_name(e->code));
		doc_json_quote(&j, s.ptr, s.len, 0);
		kbuf_puts(&j, ",\"detail\":");
		doc_json_quote(&j, b.ptr, b.len, 0);
		kbuf_puts(&j, "}\n");
		fwrite(j.ptr, 1, j.len, stdout);
		kbuf_release(&j);
		kbuf_release(&s);
	}
	if (ctx->color)
		fprintf(stderr, C_RED "kstage: error: " C_RESET "%s\n", b.ptr);
	else
		fprintf(stderr, "kstage: error: %s\n", b.ptr);
	kbuf_release(&b);
}

void cli_errorf(const cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	kerr e = KERR_INIT;
	kbuf b = KBUF_INIT;
	va_start(ap, fmt);
	kbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	kerr_set(&e, KE_USAGE, "%s", b.ptr);
	cli_print_error(ctx, &e);
	kerr_clear(&e);
	kbuf_release(&b);
}

void cli_warnf(const cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	kbuf b = KBUF_INIT;
	va_start(ap, fmt);
	kbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	kev_emit(&ctx->sink, KEV_WARN, "warning", b.ptr, NULL);
	kbuf_release(&b);
}

int cli_exit_code(int code)
{
	switch (code) {
	case KE_OK: return EXIT_OK;
	case KE_USAGE: case KE_INPUT: case KE_LIMIT: return EXIT_USAGE;
	case KE_CLUSTER: return EXIT_CLUSTER;
	case KE_ROLLBACK: return EXIT_ROLLBACK;
	default: return EXIT_FAILED;
	}
}

static void print_flags(FILE *f, const cli_flag *flags)
{
	size_t i;
	for (i = 0; flags && flags[i].name; i++) {
		char left[64];
		if (flags[i].shortname)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", flags[i].shortname, flags[i].name,
				 flags[i].argname ? " " : "", flags[i].argname ? flags[i].argname : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", flags[i].name,
				 flags[i].argname ? " " : "", flags[i].argname ? flags[i].argname : "");
		fprintf(f, "  %-30s %s%s\n", left, flags[i].help,
			flags[i].kind == FLAG_LIST ? " (repeatable)" : "");
	}
}

void cli_usage(const cli_cmd *cmd, void *file)
{
	FILE *f = file;
	size_t i;
	if (!cmd) {
		fprintf(f, "kstage - staged, verified, reversible installs for Kubernetes\n\n"
			   "Usage: kstage COMMAND [ARGS] [FLAGS]\n\nCommands:\n");
		for (i = 0; i < cli_ncommands; i++)
			fprintf(f, "  %-10s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
		fprintf(f, "\nGlobal flags:\n");
		print_flags(f, cli_global_flags);
		fprintf(f, "\nExit codes: 0 ok, 1 failed with the cluster as it was (rolled back), 2 usage or\n"
			   "input error, 3 failed and the cluster is not as it was (rollback incomplete, or\n"
			   "--no-rollback), 4 cluster unreachable or auth.\n"
			   "Run 'kstage help COMMAND' for a command's flags.\n");
		return;
	}
	fprintf(f, "kstage %s - %s\n\nUsage: kstage %s %s\n", cmd->name, cmd->summary, cmd->name,
		cmd->usage);
	if (cmd->help)
		fprintf(f, "\n%s\n", cmd->help);
	if (cmd->flags && cmd->flags[0].name) {
		fprintf(f, "\nFlags:\n");
		print_flags(f, cmd->flags);
	}
	fprintf(f, "\nGlobal flags:\n");
	print_flags(f, cli_global_flags);
}
