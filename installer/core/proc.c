/* core/proc.c - see proc.h. */
#include "proc.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read the program's output until EOF, until it has ended (a child it
 * left behind may keep the pipe open: what is buffered is read, then no
 * more), or until the deadline. *status gets the wait status; returns 0,
 * KE_TIMEOUT or KE_LIMIT (its process group is killed then). */
static int collect(pid_t pid, int fd, long timeout_ms, size_t max, kbuf *out, int *status)
{
	int64_t deadline = now_ms() + timeout_ms;
	bool exited = false;
	int rc = 0;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		int64_t left = deadline - now_ms();
		char buf[4096];
		ssize_t n;
		if (!exited && waitpid(pid, status, WNOHANG) == pid)
			exited = true;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0) {
			if (out->len + (size_t)n > max) {
				rc = KE_LIMIT;
				break;
			}
			kbuf_put(out, buf, (size_t)n);
			continue;
		}
		if (n == 0 || (n < 0 && errno != EAGAIN))
			break;          /* EOF: every writer is gone */
		if (exited)
			break;          /* drained what it wrote before it exited */
		if (left <= 0) {
			rc = KE_TIMEOUT;
			break;
		}
		/* short slices: notice the exit while a child holds the pipe */
		poll(&pf, 1, left < 50 ? (int)left : 50);
	}
	/* EOF may come before the exit: wait for it until the deadline too */
	while (!rc && !exited) {
		struct timespec ts = { 0, 20 * 1000000L };
		if (waitpid(pid, status, WNOHANG) == pid)
			exited = true;
		else if (now_ms() >= deadline)
			rc = KE_TIMEOUT;
		else
			nanosleep(&ts, NULL);
	}
	if (!exited) {
		kill(-pid, SIGKILL);   /* its process group: children too */
		while (waitpid(pid, status, 0) < 0 && errno == EINTR)
			;
	}
	return rc;
}

int kproc_run(char *const *argv, char *const *envp, const void *in, size_t in_len, long timeout_ms, size_t max_out,
	      kbuf *out, int *status, int *spawn_errno)
{
	int opipe[2], ipipe[2] = { -1, -1 }, rc;   /* output pipe, input socket pair */
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	*status = 0;
	*spawn_errno = 0;
	if (in && in_len > KPROC_INPUT_MAX) {
		*spawn_errno = E2BIG;
		return KE_IO;
	}
	if (pipe(opipe) < 0) {
		*spawn_errno = errno;
		return KE_IO;
	}
	/* stdin through a socket: send() with MSG_NOSIGNAL, so a program that
	 * exits unread costs no SIGPIPE */
	if (in && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ipipe) < 0) {
		*spawn_errno = errno;
		close(opipe[0]);
		close(opipe[1]);
		return KE_IO;
	}
	/* no other child may inherit the pipes (dup2 clears it for 0 and 1) */
	fcntl(opipe[0], F_SETFD, FD_CLOEXEC);
	fcntl(opipe[1], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, opipe[1], 1);
	if (in) {
		posix_spawn_file_actions_adddup2(&fa, ipipe[0], 0);
	} else {
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	}
	/* its own process group, so a timeout can stop what it started */
	posix_spawnattr_init(&sa);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&sa, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, &sa, argv, envp ? envp : environ);
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	close(opipe[1]);
	if (in) {
		close(ipipe[0]);
		/* the socket buffer holds KPROC_INPUT_MAX bytes: this never
		 * blocks; a program that exits unread fails on its own terms */
		if (rc == 0 && in_len && send(ipipe[1], in, in_len, MSG_NOSIGNAL) < 0)
			shutdown(ipipe[1], SHUT_RDWR);
		close(ipipe[1]);
	}
	if (rc != 0) {
		close(opipe[0]);
		*spawn_errno = rc;
		return KE_IO;
	}
	rc = collect(pid, opipe[0], timeout_ms, max_out, out, status);
	close(opipe[0]);
	if (rc) {
		memset(out->ptr, 0, out->len);
		kbuf_reset(out);
	}
	return rc;
}

int kproc_fork(int (*fn)(void *ctx, int fd), void *ctx, long timeout_ms, size_t max_out, kbuf *out, int *status,
	       int *spawn_errno)
{
	int p[2], rc;
	pid_t pid;
	*status = 0;
	*spawn_errno = 0;
	if (pipe(p) < 0) {
		*spawn_errno = errno;
		return KE_IO;
	}
	pid = fork();
	if (pid < 0) {
		*spawn_errno = errno;
		close(p[0]);
		close(p[1]);
		return KE_IO;
	}
	if (pid == 0) {
		setpgid(0, 0);   /* a timeout kills the group */
		close(p[0]);
		_exit(fn(ctx, p[1]));
	}
	setpgid(pid, pid);   /* either may run first */
	close(p[1]);
	rc = collect(pid, p[0], timeout_ms, max_out, out, status);
	close(p[0]);
	return rc;
}
