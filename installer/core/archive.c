/*
 * core/archive.c - the one libarchive wrapper: tar, tar.gz and zip read
 * from memory, every entry checked before anything sees it. See archive.h.
 */
#include "archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#define RATIO_FLOOR ((size_t)1 << 20)   /* below this much output, ratios are not judged */
#define READ_MIN ((size_t)64 << 10)      /* room made for the next read */
#define READ_MAX ((size_t)1 << 20)       /* the most one read inflates */

static void limits_fill(karchive_limits *l, const karchive_limits *in)
{
	memset(l, 0, sizeof(*l));
	if (in)
		*l = *in;
	if (!l->max_entries)
		l->max_entries = 10000;
	if (!l->max_bytes)
		l->max_bytes = KARCHIVE_MAX_BYTES;
	if (!l->max_entry_bytes || l->max_entry_bytes > l->max_bytes)
		l->max_entry_bytes = l->max_bytes;
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

/* got more bytes of entry en came out: the limits on one entry, on all
 * of them and on the expansion ratio (of packed bytes) */
static int judge(const karchive_limits *l, const char *name, const char *en, size_t packed, size_t *total,
		 size_t *mine, size_t got, kerr *err)
{
	*total += got;
	*mine += got;
	if (*mine > l->max_entry_bytes)
		return kerr_set(err, KE_LIMIT, "%s: entry \"%s\" is larger than the %zu-byte limit", name, en,
				l->max_entry_bytes);
	if (*total > l->max_bytes)
		return kerr_set(err, KE_LIMIT, "%s: more than %zu bytes unpacked", name, l->max_bytes);
	if (*total > RATIO_FLOOR && *total / (packed ? packed : 1) > l->max_ratio)
		return kerr_set(err, KE_LIMIT, "%s: expands more than %zu times (%zu bytes from %zu): "
				"refused as a decompression bomb", name, l->max_ratio, *total, packed);
	return 0;
}

int karchive_walk(const void *data, size_t len, const char *name, const karchive_limits *lim, karchive_fn fn,
		  void *ctx, kerr *err)
{
	return karchive_walk_into(data, len, name, lim, NULL, fn, ctx, err);
}

int karchive_walk_into(const void *data, size_t len, const char *name, const karchive_limits *lim,
		       karchive_alloc_fn alloc, karchive_fn fn, void *ctx, kerr *err)
{
	struct archive *ar = archive_read_new();
	struct archive_entry *ent;
	karchive_limits l;
	kbuf path = KBUF_INIT, body = KBUF_INIT;
	size_t entries = 0, total = 0;
	const char *kind = "a tar or tar.gz";
	int rc = 0, r;
	limits_fill(&l, lim);
	if (!l.formats)
		l.formats = KARCHIVE_TAR | KARCHIVE_ZIP;
	if (is_zip(data, len) && !(l.formats & KARCHIVE_ZIP)) {
		rc = kerr_set(err, KE_INPUT, "%s: a zip archive, not a tar or tar.gz", name);
		goto done;
	} else if (is_zip(data, len)) {
		/* seekable: names and sizes from the central directory */
		kind = "a zip";
		archive_read_support_format_zip(ar);
	} else if (!(l.formats & KARCHIVE_TAR)) {
		rc = kerr_set(err, KE_INPUT, "%s: not a zip archive", name);
		goto done;
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
		karchive_entry fe;
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
			fe.type = KARCHIVE_HARDLINK;
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
			fe.type = KARCHIVE_SYMLINK;
			fe.link = target;
		} else if (type == AE_IFDIR) {
			fe.type = KARCHIVE_DIR;
		} else if (type == AE_IFREG) {
			la_ssize_t got = 0;
			la_int64_t size = archive_entry_size_is_set(ent) ? archive_entry_size(ent) : -1;
			size_t mine = 0;
			/* the size the header gives, before any byte is inflated */
			if (size > (la_int64_t)l.max_entry_bytes) {
				rc = kerr_set(err, KE_LIMIT, "%s: entry \"%s\" is larger than the %zu-byte limit", name, en,
					      l.max_entry_bytes);
				break;
			}
			fe.type = KARCHIVE_FILE;
			if (alloc && size >= 0) {
				/* straight into the caller's memory: its size is known */
				char *dst = alloc(ctx, (size_t)size + 1), extra[1];
				while (!rc && mine < (size_t)size) {
					size_t room = (size_t)size - mine;
					got = archive_read_data(ar, dst + mine, room < READ_MAX ? room : READ_MAX);
					if (got <= 0)
						break;
					rc = judge(&l, name, en, len, &total, &mine, (size_t)got, err);
				}
				if (!rc && got >= 0 && (got = archive_read_data(ar, extra, 1)) > 0)
					rc = kerr_set(err, KE_INPUT, "%s: entry \"%s\" has more data than its header says",
						      name, en);
				dst[mine] = '\0';
				fe.data = dst;
				fe.len = mine;
			} else {
				/* inflated into body, at most READ_MAX a read */
				kbuf_reset(&body);
				while (!rc) {
					size_t room;
					if (body.cap - body.len < READ_MIN + 1 && kbuf_grow(&body, READ_MIN) != 0) {
						rc = kerr_set(err, KE_LIMIT, "%s: entry \"%s\" does not fit in memory", name, en);
						break;
					}
					room = body.cap - body.len - 1;
					got = archive_read_data(ar, body.ptr + body.len, room < READ_MAX ? room : READ_MAX);
					if (got <= 0)
						break;
					body.len += (size_t)got;
					body.ptr[body.len] = '\0';
					rc = judge(&l, name, en, len, &total, &mine, (size_t)got, err);
				}
				fe.data = body.ptr;
				fe.len = body.len;
				if (alloc && !rc) {   /* the caller's memory all the same */
					char *dst = alloc(ctx, body.len + 1);
					memcpy(dst, body.ptr, body.len + 1);
					fe.data = dst;
				}
			}
			if (!rc && got < 0)
				rc = kerr_set(err, KE_INPUT, "%s: %s: %s", name, en, archive_error_string(ar));
			if (rc)
				break;
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

