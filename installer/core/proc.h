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
/* What kproc_run does once the program runs, for a child started another
 * way (it must lead its own process group): read fd into out (at most max
 * bytes) until the child pid ends or timeout_ms passes; 0 (*status: its
 * wait status), KE_TIMEOUT or KE_LIMIT (the group is killed then). */
int kproc_collect(int pid, int fd, long timeout_ms, size_t max, kbuf *out, int *status);

#endif
