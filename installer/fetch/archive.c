/*
 * fetch/archive.c - archives extracted into a directory: every entry
 * checked by core/archive.c first, then written without ever going
 * through a symlink, and every symlink checked again once all are on disk.
 */
#define _XOPEN_SOURCE 700   /* nftw */
#include "fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct extract {
	const char *dir;
	const char *name;
	char *root;              /* realpath of dir */
	kbuf full;
} extract;

/* Every directory on the way to rel (clean) under dir exists (made 0755)
 * and is a real directory, never a symlink. */
static int parents(extract *x, const char *rel, kerr *err)
{
	const char *s;
	for (s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		struct stat st;
		kbuf_reset(&x->full);
		kbuf_printf(&x->full, "%s/%.*s", x->dir, (int)(s - rel), rel);
		if (lstat(x->full.ptr, &st) == 0) {
			if (!S_ISDIR(st.st_mode))
				return kerr_set(err, KE_INPUT, "%s: entry \"%s\" goes through \"%.*s\", which is not a directory",
						x->name, rel, (int)(s - rel), rel);
		} else if (mkdir(x->full.ptr, 0755) != 0) {
			return kerr_set(err, KE_IO, "%s: cannot make %s: %s", x->name, x->full.ptr, strerror(errno));
		}
	}
	kbuf_reset(&x->full);
	kbuf_printf(&x->full, "%s/%s", x->dir, rel);
	return 0;
}

static int write_entry(void *ctx, const karchive_entry *e, kerr *err)
{
	extract *x = ctx;
	int rc = parents(x, e->path, err), fd;
	size_t off = 0;
	if (rc)
		return rc;
	switch (e->type) {
	case KARCHIVE_DIR:
		if (mkdir(x->full.ptr, 0755) != 0 && errno != EEXIST)
			return kerr_set(err, KE_IO, "%s: cannot make %s: %s", x->name, x->full.ptr, strerror(errno));
		return 0;
	case KARCHIVE_SYMLINK:
		if (symlink(e->link, x->full.ptr) != 0)
			return kerr_set(err, KE_INPUT, "%s: entry \"%s\": %s", x->name, e->path, strerror(errno));
		return 0;
	case KARCHIVE_HARDLINK: {
		kbuf t = KBUF_INIT;
		struct stat st;
		kbuf_printf(&t, "%s/%s", x->dir, e->link);
		/* only to a regular file already written here, by a path with no symlinks */
		rc = parents(x, e->link, err);
		if (!rc && (lstat(t.ptr, &st) != 0 || !S_ISREG(st.st_mode)))
			rc = kerr_set(err, KE_INPUT, "%s: hard link \"%s\" -> \"%s\": not a file earlier in the archive",
				      x->name, e->path, e->link);
		if (!rc && (rc = parents(x, e->path, err)) == 0 && link(t.ptr, x->full.ptr) != 0)
			rc = kerr_set(err, KE_INPUT, "%s: entry \"%s\": %s", x->name, e->path, strerror(errno));
		kbuf_release(&t);
		return rc;
	}
	case KARCHIVE_FILE:
		break;
	}
	fd = open(x->full.ptr, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return kerr_set(err, KE_INPUT, "%s: entry \"%s\": %s", x->name, e->path,
				errno == EEXIST ? "appears twice" : strerror(errno));
	while (off < e->len) {
		ssize_t w = write(fd, e->data + off, e->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (close(fd) != 0 || off != e->len)
		return kerr_set(err, KE_IO, "%s: cannot write %s", x->name, x->full.ptr);
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

void fetch_rmtree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* After extraction every symlink under sub must resolve inside the
 * root (physically: a chain of links is followed by the kernel, which the
 * lexical check alone cannot see), and not dangle. */
static int symlinks_inside(extract *x, const char *sub, kerr *err)
{
	DIR *d = opendir(sub);
	struct dirent *de;
	int rc = 0;
	size_t n = strlen(x->root);
	if (!d)
		return kerr_set(err, KE_IO, "%s: cannot read %s", x->name, sub);
	while (!rc && (de = readdir(d))) {
		kbuf p = KBUF_INIT;
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		kbuf_printf(&p, "%s/%s", sub, de->d_name);
		if (lstat(p.ptr, &st) == 0 && S_ISLNK(st.st_mode)) {
			char *real = realpath(p.ptr, NULL);
			if (!real || strncmp(real, x->root, n) || (real[n] != '/' && real[n] != '\0'))
				rc = kerr_set(err, KE_INPUT, "%s: symlink \"%s\" %s", x->name, p.ptr + strlen(x->dir) + 1,
					      real ? "resolves outside the archive" : "points at nothing in the archive");
			free(real);
		} else if (S_ISDIR(st.st_mode)) {
			rc = symlinks_inside(x, p.ptr, err);
		}
		kbuf_release(&p);
	}
	closedir(d);
	return rc;
}

int fetch_archive_extract(const void *data, size_t len, const char *name, const char *dir,
			  const karchive_limits *lim, kerr *err)
{
	extract x;
	int rc;
	memset(&x, 0, sizeof(x));
	x.dir = dir;
	x.name = name;
	if (mkdir(dir, 0700) != 0)
		return kerr_set(err, KE_IO, "%s: cannot make %s: %s", name, dir, strerror(errno));
	x.root = realpath(dir, NULL);
	if (!x.root)
		rc = kerr_set(err, KE_IO, "%s: cannot resolve %s", name, dir);
	else if (!(rc = karchive_walk(data, len, name, lim, write_entry, &x, err)))
		rc = symlinks_inside(&x, dir, err);
	if (rc)
		fetch_rmtree(dir);
	free(x.root);
	kbuf_release(&x.full);
	return rc;
}
