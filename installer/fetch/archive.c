/*
 * fetch/archive.c - tar, tar.gz and zip archives read with libarchive,
 * every entry checked before anything is used or written: no absolute
 * path, no ".." step, no device, FIFO or socket, links that stay inside,
 * no encrypted zip entry, and limits on entry count, path depth, total size and expansion ratio
 * (checked as bytes come out, so a bomb stops at the limit).
 */
#define _XOPEN_SOURCE 700   /* nftw */
#include "fetch.h"

#include <archive.h>
#include <archive_entry.h>
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

#define RATIO_FLOOR ((size_t)1 << 20)   /* below this much output, ratios are not judged */

static void limits_fill(fetch_archive_limits *l, const fetch_archive_limits *in)
{
	memset(l, 0, sizeof(*l));
	if (in)
		*l = *in;
	if (!l->max_entries)
		l->max_entries = 10000;
	if (!l->max_bytes)
		l->max_bytes = FETCH_MAX;
	if (!l->max_ratio)
		l->max_ratio = 100;
	if (!l->max_depth)
		l->max_depth = 32;
}

/* The path without "./" steps or empty steps into out; KE_INPUT when it
 * is absolute, climbs with "..", is empty or nests deeper than max. */
static int clean_path(kbuf *out, const char *p, const char *name, size_t max_depth, kerr *err)
{
	const char *s = p;
	size_t depth = 0;
	kbuf_reset(out);
	if (!p || !*p)
		return kerr_set(err, KE_INPUT, "%s: an entry has no name", name);
	if (p[0] == '/')
		return kerr_set(err, KE_INPUT, "%s: entry \"%s\" has an absolute path", name, p);
	while (*s) {
		size_t n = strcspn(s, "/");
		if (n == 2 && !strncmp(s, "..", 2))
			return kerr_set(err, KE_INPUT, "%s: entry \"%s\" climbs out with \"..\"", name, p);
		if (n && !(n == 1 && s[0] == '.')) {
			if (++depth > max_depth)
				return kerr_set(err, KE_LIMIT, "%s: entry \"%s\" is nested deeper than %zu directories",
						name, p, max_depth);
			if (out->len)
				kbuf_putc(out, '/');
			kbuf_put(out, s, n);
		}
		s += n;
		while (*s == '/')
			s++;
	}
	if (!out->len)
		return kerr_set(err, KE_INPUT, "%s: entry \"%s\" names the archive root", name, p);
	return 0;
}

/* A symlink at path (clean) to target stays inside the archive root,
 * read lexically. */
static bool link_inside(const char *path, const char *target)
{
	long depth = 0;
	const char *s;
	if (target[0] == '/' || !target[0])
		return false;
	for (s = path; (s = strchr(s, '/')); s++)
		depth++;
	for (s = target; *s;) {
		size_t n = strcspn(s, "/");
		if (n == 2 && !strncmp(s, "..", 2)) {
			if (--depth < 0)
				return false;
		} else if (n && !(n == 1 && s[0] == '.')) {
			depth++;
		}
		s += n;
		while (*s == '/')
			s++;
	}
	return true;
}

/* A zip starts with a local file header, or is empty (the end of its
 * central directory alone); anything else is read as tar or tar.gz. */
static bool is_zip(const void *data, size_t len)
{
	const unsigned char *d = data;
	return len >= 4 && d[0] == 'P' && d[1] == 'K' && ((d[2] == 3 && d[3] == 4) || (d[2] == 5 && d[3] == 6));
}

int fetch_archive_walk(const void *data, size_t len, const char *name, const fetch_archive_limits *lim,
		       fetch_archive_fn fn, void *ctx, kerr *err)
{
	struct archive *ar = archive_read_new();
	struct archive_entry *ent;
	fetch_archive_limits l;
	kbuf path = KBUF_INIT, body = KBUF_INIT;
	size_t entries = 0, total = 0;
	const char *kind = "a tar or tar.gz";
	int rc = 0, r;
	limits_fill(&l, lim);
	if (is_zip(data, len)) {
		/* seekable: names and sizes from the central directory */
		kind = "a zip";
		archive_read_support_format_zip(ar);
	} else {
		archive_read_support_filter_gzip(ar);
		archive_read_support_format_tar(ar);
		archive_read_support_format_gnutar(ar);
	}
	if (archive_read_open_memory(ar, data, len) != ARCHIVE_OK) {
		rc = kerr_set(err, KE_INPUT, "%s: not %s archive: %s", name, kind, archive_error_string(ar));
		goto done;
	}
	while ((r = archive_read_next_header(ar, &ent)) == ARCHIVE_OK) {
		const char *en = archive_entry_pathname(ent);
		const char *hl = archive_entry_hardlink(ent);
		mode_t type = archive_entry_filetype(ent);
		fetch_archive_entry fe;
		if (++entries > l.max_entries) {
			rc = kerr_set(err, KE_LIMIT, "%s: more than %zu entries", name, l.max_entries);
			break;
		}
		if ((rc = clean_path(&path, en, name, l.max_depth, err)))
			break;
		if (archive_entry_is_encrypted(ent)) {
			rc = kerr_set(err, KE_INPUT, "%s: entry \"%s\" is encrypted", name, en);
			break;
		}
		memset(&fe, 0, sizeof(fe));
		fe.path = path.ptr;
		if (hl) {
			kbuf t = KBUF_INIT;
			rc = clean_path(&t, hl, name, l.max_depth, err);
			if (rc) {
				kerr_wrap(err, "hard link \"%s\"", en);
				kbuf_release(&t);
				break;
			}
			fe.type = FETCH_ENTRY_HARDLINK;
			fe.link = t.ptr;
			rc = fn ? fn(ctx, &fe, err) : 0;
			kbuf_release(&t);
			if (rc)
				break;
			continue;
		}
		if (type == AE_IFLNK) {
			const char *target = archive_entry_symlink(ent);
			if (!target || !link_inside(path.ptr, target)) {
				rc = kerr_set(err, KE_INPUT, "%s: symlink \"%s\" -> \"%s\" leaves the archive", name, en,
					      target ? target : "");
				break;
			}
			fe.type = FETCH_ENTRY_SYMLINK;
			fe.link = target;
		} else if (type == AE_IFDIR) {
			fe.type = FETCH_ENTRY_DIR;
		} else if (type == AE_IFREG) {
			char buf[16384];
			la_ssize_t got;
			kbuf_reset(&body);
			while ((got = archive_read_data(ar, buf, sizeof(buf))) > 0) {
				total += (size_t)got;
				if (total > l.max_bytes) {
					rc = kerr_set(err, KE_LIMIT, "%s: more than %zu bytes unpacked", name, l.max_bytes);
					break;
				}
				if (total > RATIO_FLOOR && total / (len ? len : 1) > l.max_ratio) {
					rc = kerr_set(err, KE_LIMIT, "%s: expands more than %zu times (%zu bytes from %zu): "
						      "refused as a decompression bomb", name, l.max_ratio, total, len);
					break;
				}
				kbuf_put(&body, buf, (size_t)got);
			}
			if (!rc && got < 0)
				rc = kerr_set(err, KE_INPUT, "%s: %s: %s", name, en, archive_error_string(ar));
			if (rc)
				break;
			fe.type = FETCH_ENTRY_FILE;
			fe.data = body.ptr;
			fe.len = body.len;
		} else {
			rc = kerr_set(err, KE_INPUT, "%s: entry \"%s\" is a %s: only files, directories and links",
				      name, en, type == AE_IFCHR ? "character device" : type == AE_IFBLK ? "block device" :
				      type == AE_IFIFO ? "FIFO" : type == AE_IFSOCK ? "socket" : "special file");
			break;
		}
		if (fn && (rc = fn(ctx, &fe, err)))
			break;
	}
	if (!rc && r != ARCHIVE_EOF)
		rc = kerr_set(err, KE_INPUT, "%s: not %s archive: %s", name, kind, archive_error_string(ar));
done:
	archive_read_free(ar);
	kbuf_release(&path);
	kbuf_release(&body);
	return rc;
}

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

static int write_entry(void *ctx, const fetch_archive_entry *e, kerr *err)
{
	extract *x = ctx;
	int rc = parents(x, e->path, err), fd;
	size_t off = 0;
	if (rc)
		return rc;
	switch (e->type) {
	case FETCH_ENTRY_DIR:
		if (mkdir(x->full.ptr, 0755) != 0 && errno != EEXIST)
			return kerr_set(err, KE_IO, "%s: cannot make %s: %s", x->name, x->full.ptr, strerror(errno));
		return 0;
	case FETCH_ENTRY_SYMLINK:
		if (symlink(e->link, x->full.ptr) != 0)
			return kerr_set(err, KE_INPUT, "%s: entry \"%s\": %s", x->name, e->path, strerror(errno));
		return 0;
	case FETCH_ENTRY_HARDLINK: {
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
	case FETCH_ENTRY_FILE:
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
			  const fetch_archive_limits *lim, kerr *err)
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
	else if (!(rc = fetch_archive_walk(data, len, name, lim, write_entry, &x, err)))
		rc = symlinks_inside(&x, dir, err);
	if (rc)
		fetch_rmtree(dir);
	free(x.root);
	kbuf_release(&x.full);
	return rc;
}
