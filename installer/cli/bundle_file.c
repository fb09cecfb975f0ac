/*
 * cli/bundle_file.c - `--bundle-file IN.tar.gz` in place of BUNDLE: the
 * export archive (`kstage bundle export`) is imported as `bundle import`
 * does (checked entry by entry, every artifact into the cache by its
 * digest, every pinned source verified) into a fresh temporary directory,
 * the command runs on that directory, and the directory is removed.
 */
#include "cli.h"
#include "cmds.h"
#include "fetch/fetch.h"
#include "release/release.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Where a command takes its BUNDLE among the positional arguments it was
 * given, or -1 when it takes none (after printing why). */
static int bundle_slot(cli_ctx *ctx, const cli_cmd *cmd, const cli_args *args)
{
	const char *name = cmd->name;
	if (!strcmp(name, "plan") || !strcmp(name, "apply") || !strcmp(name, "verify") || !strcmp(name, "fetch") ||
	    !strcmp(name, "values")) {
		if (args->npos == 0)
			return 0;
	} else if (!strcmp(name, "template")) {
		if (args->npos <= 1)   /* after the release NAME, if any */
			return (int)args->npos;
	} else if (!strcmp(name, "bundle") && args->npos == 2 &&
		   (!strcmp(args->pos[0], "export") || !strcmp(args->pos[0], "push"))) {
		return 1;
	} else {
		cli_errorf(ctx, "--bundle-file: kstage %s%s%s takes no bundle", name, args->npos ? " " : "",
			   args->npos ? args->pos[0] : "");
		return -1;
	}
	cli_errorf(ctx, "--bundle-file stands for BUNDLE: give one or the other, not both");
	return -1;
}

int cli_bundle_file_open(cli_ctx *ctx, const cli_cmd *cmd, cli_args *args, kbuf *tmp)
{
	kerr err = KERR_INIT;
	kbuf dir = KBUF_INIT;
	const char *base = getenv("TMPDIR");
	size_t n = 0;
	int slot = bundle_slot(ctx, cmd, args), rc, i;
	if (slot < 0)
		return EXIT_USAGE;
	kbuf_printf(tmp, "%s/kstage-bundle-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmp->ptr)) {
		cli_errorf(ctx, "--bundle-file: cannot make a directory under %s: %s", base && *base ? base : "/tmp",
			   strerror(errno));
		kbuf_reset(tmp);
		return EXIT_FAILED;
	}
	kbuf_printf(&dir, "%s/bundle", tmp->ptr);
	ctx->fetch.sink = &ctx->sink;
	rc = rel_bundle_import(ctx->bundle_file, dir.ptr, &ctx->fetch, &n, &err);
	if (rc) {
		cli_print_error(ctx, &err);
		kerr_clear(&err);
		kbuf_release(&dir);
		return cli_exit_code(rc);
	}
	/* pos has room: cli_parse sized it for every argument, and
	 * "--bundle-file IN" took at least one that is not positional */
	for (i = (int)args->npos; i > slot; i--)
		args->pos[i] = args->pos[i - 1];
	args->pos[slot] = kbuf_detach(&dir, NULL);
	args->npos++;
	ctx->bundle_dir = args->pos[slot];
	return 0;
}

void cli_bundle_file_close(cli_ctx *ctx, kbuf *tmp)
{
	if (tmp->len)
		fetch_rmtree(tmp->ptr);
	kbuf_release(tmp);
	free(ctx->bundle_dir);
	ctx->bundle_dir = NULL;
}
