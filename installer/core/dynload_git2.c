/* core/dynload_git2.c - libgit2, loaded on first use (see dynload.h). */
#include "dynload.h"

#include <git2.h>
#include <pthread.h>

#ifndef KSTAGE_LIBGIT2_SONAME
#define KSTAGE_LIBGIT2_SONAME "libgit2.so.1.5"
#endif

static struct {
	int (*libgit2_version)(int *, int *, int *);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const dynload_sym syms[] = {
		{ "git_libgit2_version", (void **)&fn.libgit2_version },
	};
	dynload_open(KSTAGE_LIBGIT2_SONAME, syms, sizeof(syms) / sizeof(syms[0]));
}

#define LOAD() pthread_once(&once, load)

int git_libgit2_version(int *major, int *minor, int *rev) { LOAD(); return fn.libgit2_version(major, minor, rev); }
