/*
 * core/proc.h - run a credential program (a kubeconfig exec plugin, a
 * Docker credential helper) and collect what it prints, bounded in time
 * and size. It runs in its own process group, so a timeout stops whatever
 * it started too; its stderr is inherited (it may ask the user nothing:
 * stdin is the bytes given, or /dev/null).
 */
#ifndef KSTAGE_CORE_PROC_H
#define KSTAGE_CORE_PROC_H

#include <stddef.h>

#include "buf.h"

#define KPROC_INPUT_MAX ((size_t)4096)   /* what a pipe takes without blocking */

/* Run argv (argv[0] looked up on PATH) with envp (NULL: this process's
 * environment); in (at most KPROC_INPUT_MAX bytes, NULL: none) on its
 * stdin; stdout appended to out. Returns 0 when it ended (*status: its
 * wait status), KE_TIMEOUT after timeout_ms and KE_LIMIT past max_out
 * bytes (it is killed then; out is wiped), or KE_IO when it could not
 * start (*spawn_errno: why). */
int kproc_run(char *const *argv, char *const *envp, const void *in, size_t in_len, long timeout_ms, size_t max_out,
	      kbuf *out, int *status, int *spawn_errno);
/* Run fn(ctx, fd) in a forked child process (for work a library cannot
 * bound in time: a fetch through libgit2 1.5, which has no timeouts); what
 * it writes to fd comes back in out, what it returns is its exit status.
 * The child leaves without atexit handlers (they are the parent's). Then
 * as kproc_run: 0 (*status), KE_TIMEOUT, KE_LIMIT, or KE_IO when it could
 * not start (*spawn_errno). */
int kproc_fork(int (*fn)(void *ctx, int fd), void *ctx, long timeout_ms, size_t max_out, kbuf *out, int *status,
	       int *spawn_errno);

#endif
