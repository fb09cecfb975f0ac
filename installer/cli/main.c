#include "cli.h"
#include "cmds.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	cli_ctx ctx;
	cli_args args;
	const cli_cmd *cmd = NULL;
	int i, rc, cmd_at = -1;

#if defined(M_TOP_PAD) && defined(M_TRIM_THRESHOLD)
	/* a run is short and allocates in bursts: grow the heap 1 MiB at a
	 * time and never hand it back to the kernel before exit (fewer brk
	 * calls and page-table work; a few percent of `kstage template`) */
	mallopt(M_TOP_PAD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
	memset(&ctx, 0, sizeof(ctx));
	ctx.argv0 = argv[0];
	ctx.color = true;

	/* The command is the first argument that is not a flag or a global
	 * flag's value. */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-') {
			size_t k;
			if (!strcmp(a, "--"))
				break;
			for (k = 0; cli_global_flags[k].name; k++) {
				const cli_flag *f = &cli_global_flags[k];
				int takes = f->kind != FLAG_BOOL;
				if (!takes)
					continue;
				if ((a[1] == '-' && !strcmp(a + 2, f->name)) ||
				    (a[1] == f->shortname && a[2] == '\0'))
					i++;
			}
			continue;
		}
		cmd_at = i;
		break;
	}
	if (cmd_at < 0) {
		rc = cli_parse(&ctx, NULL, argc - 1, argv + 1, &args);
		cli_args_release(&args);
		if (rc)
			return rc;
		cli_usage(NULL, ctx.help ? stdout : stderr);
		return ctx.help ? EXIT_OK : EXIT_USAGE;
	}
	cmd = cli_find_command(argv[cmd_at]);
	if (!cmd) {
		const char *sug = cli_suggest_command(argv[cmd_at]);
		fprintf(stderr, "kstage: error: unknown command \"%s\"\n", argv[cmd_at]);
		if (sug)
			fprintf(stderr, "\nDid you mean this?\n\t%s\n", sug);
		fprintf(stderr, "\nRun 'kstage help' for usage.\n");
		return EXIT_USAGE;
	}
	/* flags before the command are parsed along with the rest */
	{
		int n = argc - 2;
		char **rest = calloc((size_t)argc, sizeof(*rest));
		int j = 0;
		if (!rest)
			return EXIT_FAILED;
		for (i = 1; i < argc; i++)
			if (i != cmd_at)
				rest[j++] = argv[i];
		rc = cli_parse(&ctx, cmd, n, rest, &args);
		if (rc) {
			cli_args_release(&args);
			free(rest);
			return rc;
		}
		cli_output_init(&ctx);
		if (ctx.help && cmd->run != cli_cmd_help.run) {
			cli_usage(cmd, stdout);
			rc = EXIT_OK;
		} else {
			kbuf tmp = KBUF_INIT;
			rc = ctx.bundle_file ? cli_bundle_file_open(&ctx, cmd, &args, &tmp) : 0;
			if (!rc)
				rc = cmd->run(&ctx, &args);
			cli_bundle_file_close(&ctx, &tmp);
		}
		cli_output_release(&ctx);
		cli_args_release(&args);
		free(rest);
	}
	fflush(stdout);
	if (ferror(stdout)) {
		fprintf(stderr, "kstage: error: writing to standard output failed\n");
		return rc ? rc : EXIT_FAILED;
	}
	return rc;
}
