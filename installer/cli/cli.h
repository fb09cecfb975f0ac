/*
 * cli/cli.h - the command line: flag parsing, the command table, output.
 *
 * Only cli/ prints or exits. Each command lives in its own file
 * (cmd_NAME.c with cmd_NAME()) and is listed once in commands.c, a table
 * that also drives `kstage help`. Commands get the parsed global options and
 * their own flags, and return a process exit code (see DESIGN.md):
 * 0 ok, 1 failed with the cluster as it was, 2 usage or input error,
 * 3 failed after changing the cluster and not (fully) rolled back (until
 * release records and rollback exist, every apply that fails after
 * applying something), 4 cluster unreachable or auth.
 */
#ifndef KSTAGE_CLI_H
#define KSTAGE_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/event.h"
#include "fetch/fetch.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_ROLLBACK = 3, EXIT_CLUSTER = 4 };

typedef enum cli_flag_kind { FLAG_BOOL, FLAG_STR, FLAG_LIST } cli_flag_kind;

typedef struct cli_flag {
	const char *name;    /* long name without "--" */
	char shortname;      /* 0 if none */
	cli_flag_kind kind;
	const char *argname; /* "FILE", "K=V"; NULL for bools */
	const char *help;
} cli_flag;

/* One parsed flag: for FLAG_LIST every value in command-line order. */
typedef struct cli_flag_val {
	bool set;
	const char *str;
	const char **list;
	size_t nlist;
} cli_flag_val;

/* Values given with any flag, in command-line order (Helm's --set family
 * needs the order across kinds for error messages). */
typedef struct cli_ordered {
	const char *flag;
	const char *val;
} cli_ordered;

typedef struct cli_args {
	const cli_flag *defs;
	size_t ndefs;
	cli_flag_val *vals;      /* parallel to defs */
	char **pos;              /* positional arguments */
	size_t npos;
	cli_ordered *order;
	size_t norder;
} cli_args;

typedef struct cli_ctx {
	const char *kubeconfig;
	const char *context;
	const char *namespace;
	fetch_opts fetch;   /* --cache-dir, --offline, --mirror, --allow-insecure-http */
	const char *mirrors[32];
	bool json;          /* -o json: JSON lines on stdout */
	int verbose;        /* -v count */
	bool quiet;
	bool color;         /* on a TTY, unless --no-color or NO_COLOR */
	bool help;          /* -h/--help was given */
	const char *argv0;
	kev_sink sink;      /* events from lower modules go here */
	kredact *redact;    /* the run's secrets, masked in all output (core/redact.h) */
	const char *bundle_file;  /* --bundle-file IN.tar.gz */
	char *bundle_dir;   /* where it was imported (cli/bundle_file.c) */
} cli_ctx;

typedef struct cli_cmd {
	const char *name;
	int (*run)(cli_ctx *ctx, cli_args *args);
	const char *summary;
	const char *usage;      /* after "kstage NAME " */
	const cli_flag *flags;  /* terminated by a zero entry; may be NULL */
	const char *help;       /* longer text for `kstage NAME --help`, or NULL */
} cli_cmd;

extern const cli_cmd *const cli_commands[];
extern const size_t cli_ncommands;
extern const cli_flag cli_global_flags[];

const cli_cmd *cli_find_command(const char *name);
/* The command name closest to name, or NULL. */
const char *cli_suggest_command(const char *name);

/* Flag accessors by long name. */
bool cli_flag_bool(const cli_args *a, const char *name);
const char *cli_flag_str(const cli_args *a, const char *name, const char *def);
const cli_flag_val *cli_flag_get(const cli_args *a, const char *name);

/* Output (cli/output.c). */
void cli_output_init(cli_ctx *ctx);
/* Free the redaction set (and wipe the secrets it held). */
void cli_output_release(cli_ctx *ctx);
/* Secrets masked by value (core/redact.h), for what a command prints itself:
 * cli_redact masks b in place; cli_redact_str returns s, or a masked copy
 * in a (NULL stays NULL); cli_redact_event fills out with ev's message and
 * fields masked (copies in a). Errors and events are masked already. */
void cli_redact(const cli_ctx *ctx, kbuf *b);
const char *cli_redact_str(const cli_ctx *ctx, karena *a, const char *s);
void cli_redact_event(const cli_ctx *ctx, const kevent *ev, kevent *out, karena *a);
void cli_print_error(const cli_ctx *ctx, const kerr *e);
void cli_errorf(const cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warnf(const cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exit code for an error code from a lower module. */
int cli_exit_code(int kerr_code);
/* Print the usage of one command (or all when cmd is NULL) to f. */
void cli_usage(const cli_cmd *cmd, void *file);
/* The closest known name to s among names (NULL-terminated), or NULL. */
const char *cli_suggest(const char *s, const char *const *names, size_t n);

/* Parse argv for cmd; global flags are accepted anywhere. Returns 0, or
 * EXIT_USAGE after printing the error. */
int cli_parse(cli_ctx *ctx, const cli_cmd *cmd, int argc, char **argv, cli_args *out);
void cli_args_release(cli_args *a);

/* --bundle-file (cli/bundle_file.c): import ctx->bundle_file into a new
 * temporary directory (its path into tmp) and give that directory to cmd
 * as its BUNDLE argument; EXIT_USAGE when cmd takes no bundle or was given
 * one, else the import's exit code, after printing the error. close
 * removes the directory (tmp may be empty) and releases tmp. */
int cli_bundle_file_open(cli_ctx *ctx, const cli_cmd *cmd, cli_args *args, kbuf *tmp);
void cli_bundle_file_close(cli_ctx *ctx, kbuf *tmp);

#endif
