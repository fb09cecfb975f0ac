/*
 * cli/store_open.h - what `history` and `status` share: the release name
 * (the argument, else the name of the bundle in the current directory),
 * the kubeconfig and client, and the Secrets store in --release-namespace.
 */
#ifndef KSTAGE_CLI_STORE_OPEN_H
#define KSTAGE_CLI_STORE_OPEN_H

#include "cli.h"
#include "core/arena.h"
#include "kube/kube.h"
#include "release/store.h"

#define CLI_STORE_FLAGS \
	{ "release-namespace", 0, FLAG_STR, "NS", "namespace of the release records (default kstage-system)" }

typedef struct cli_store {
	karena a;
	const char *release;
	kube_config cfg;
	bool cfg_loaded;
	kube_client *client;
	rel_store *store;
} cli_store;

/* Resolve the release name (checked) and open the store. Returns 0 or a
 * KE_* code with err set; cli_store_close() in every case. */
int cli_store_open(cli_store *s, cli_ctx *ctx, const cli_args *args, const char *verb, kerr *err);
void cli_store_close(cli_store *s);
/* The end of a store command: flush stdout, print err if rc, close s, clear
 * err; returns the exit code (an unknown release is an input error, 2). */
int cli_store_finish(cli_store *s, cli_ctx *ctx, kerr *err, int rc);
/* The Lease duration in seconds from the test switch KSTAGE_LEASE_SECONDS
 * (2 to 3600; tests outlive several Leases in little time), else 0: the
 * default. */
long cli_lease_seconds(void);
/* The namespace of the release records: *ns (the --release-namespace
 * flag, checked by the caller) when set, else kstage.releaseNamespace of
 * the values. EXIT_USAGE after printing the error when that is not a
 * namespace name. */
int cli_release_namespace(cli_ctx *ctx, const doc_node *values, const char **ns);

#endif
