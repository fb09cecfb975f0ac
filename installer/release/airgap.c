/*
 * release/airgap.c - `kstage bundle export` and `import`: a bundle and every
 * artifact its lock pins, as one .tar.gz that needs no network on the other
 * side. Export verifies each source first (rel_fetch); import unpacks with
 * core/archive.c's checks into a temporary directory beside DIR, takes
 * each artifact into the cache only when its bytes have the digest it is
 * named by, moves bundle/ to DIR and verifies every pinned source again
 * from the cache alone.
 */
#include "release.h"
#include "core/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 32

typedef struct packer {
	kbuf tar;
	char **seen;             /* bundle-relative paths already packed */
	size_t nseen, cap;
	size_t files;
} packer;

static bool seen(packer *p, const char *rel)
{
	size_t i;
	for (i = 0; i < p->nseen; i++)
		if (!strcmp(p->seen[i], rel))
			return true;
	if (p->nseen == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->seen = xrealloc(p->seen, st_mult(p->cap, sizeof(char *)));
	}
	p->seen[p->nseen++] = xstrdup(rel);
	return false;
}

/* rel (a file or directory of the bundle, symlinks followed) into the tar
 * under bundle/. A missing optional path is skipped. */
static int pack(packer *p, const rel_bundle *b, const char *rel, int depth, kerr *err)
{
	kbuf full = KBUF_INIT, name = KBUF_INIT;
	struct stat st;
	int rc = 0;
	kbuf_printf(&full, "%s/%s", b->dir, rel);
	if (stat(full.ptr, &st) != 0)
		goto done;
	if (depth > MAX_DEPTH) {
		rc = kerr_set(err, KE_LIMIT, "%s: directories nested deeper than %d", full.ptr, MAX_DEPTH);
	} else if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(full.ptr);
		struct dirent *de;
		char **names = NULL;
		size_t n = 0, cap = 0, i;
		if (!d) {
			rc = kerr_set(err, KE_IO, "cannot read directory %s: %s", full.ptr, strerror(errno));
			goto done;
		}
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				names = xrealloc(names, st_mult(cap, sizeof(char *)));
			}
			names[n++] = xstrdup(de->d_name);
		}
		closedir(d);
		/* sorted, so the same bundle packs to the same bytes */
		for (i = 1; i < n; i++) {
			char *t = names[i];
			size_t j = i;
			for (; j > 0 && strcmp(names[j - 1], t) > 0; j--)
				names[j] = names[j - 1];
			names[j] = t;
		}
		for (i = 0; i < n; i++) {
			if (!rc) {
				kbuf sub = KBUF_INIT;
				kbuf_printf(&sub, "%s/%s", rel, names[i]);
				rc = pack(p, b, sub.ptr, depth + 1, err);
				kbuf_release(&sub);
			}
			free(names[i]);
		}
		free(names);
	} else if (S_ISREG(st.st_mode)) {
		kbuf data = KBUF_INIT;
		if (seen(p, rel))
			goto done;
		if (kbuf_read_file(&data, full.ptr, FETCH_MAX) != 0) {
			rc = kerr_set(err, KE_IO, "cannot read %s", full.ptr);
		} else {
			kbuf_printf(&name, "bundle/%s", rel);
			if (fetch_tar_add(&p->tar, name.ptr, FETCH_TAR_FILE, 0644, data.ptr, data.len, NULL) < 0)
				rc = kerr_set(err, KE_LIMIT, "%s: path too long for the archive, or the archive too large",
					      full.ptr);
			p->files++;
		}
		kbuf_release(&data);
	}
done:
	kbuf_release(&full);
	kbuf_release(&name);
	return rc;
}

/* The export archive of b into gz (see rel_bundle_export). */
static int export_gz(kbuf *gz, const rel_bundle *b, const fetch_opts *fo, rel_fetch_report *rep, kerr *err)
{
	static const char *const always[] = { "kstage.yaml", "kstage.lock", "templates", "values", NULL };
	rel_fetch_report own = { 0, false, KBUF_INIT };
	packer p;
	kbuf data = KBUF_INIT, cdir = KBUF_INIT;
	const char *line;
	size_t i;
	int rc;
	memset(&p, 0, sizeof(p));
	if (b->is_chart)
		return kerr_set(err, KE_INPUT, "%s is a Helm chart: bundle export takes a bundle (kstage.yaml)", b->file);
	if (!rep)
		rep = &own;
	if ((rc = rel_fetch(b, fo, false, rep, err)))
		goto done;
	for (i = 0; always[i] && !rc; i++)
		rc = pack(&p, b, always[i], 0, err);
	for (i = 0; i < b->nstages && !rc; i++)
		if ((b->stages[i].src == REL_SRC_PATH || b->stages[i].src == REL_SRC_CHART) && b->stages[i].path)
			rc = pack(&p, b, b->stages[i].path, 0, err);
	fetch_cache_dir(&cdir, fo);
	for (line = rep->digests.ptr; !rc && *line; line = strchr(line, '\n') + 1) {
		char hex[65], got[65];
		kbuf path = KBUF_INIT, name = KBUF_INIT;
		memcpy(hex, line, 64);
		hex[64] = '\0';
		kbuf_printf(&name, "artifacts/sha256/%s", hex);
		if (seen(&p, name.ptr)) {
			kbuf_release(&name);
			continue;
		}
		kbuf_printf(&path, "%s/sha256/%s", cdir.ptr, hex);
		kbuf_reset(&data);
		if (kbuf_read_file(&data, path.ptr, FETCH_MAX) != 0)
			rc = kerr_set(err, KE_IO, "cache entry %s is gone", path.ptr);
		else if (fetch_sha256_hex(data.ptr, data.len, got), strcmp(got, hex))
			rc = kerr_set(err, KE_IO, "cache entry %s has sha256 %s", path.ptr, got);
		else if (fetch_tar_add(&p.tar, name.ptr, FETCH_TAR_FILE, 0644, data.ptr, data.len, NULL) < 0)
			rc = kerr_set(err, KE_LIMIT, "the archive is too large");
		kbuf_release(&path);
		kbuf_release(&name);
	}
	if (rc)
		goto done;
	fetch_tar_end(&p.tar);
	rc = fetch_gzip(gz, p.tar.ptr, p.tar.len, err);
done:
	for (i = 0; i < p.nseen; i++)
		free(p.seen[i]);
	free(p.seen);
	kbuf_release(&p.tar);
	kbuf_release(&data);
	kbuf_release(&cdir);
	kbuf_release(&own.digests);
	return rc;
}

int rel_bundle_export(const rel_bundle *b, const char *out, const fetch_opts *fo, rel_fetch_report *rep, kerr *err)
{
	kbuf gz = KBUF_INIT, tmp = KBUF_INIT;
	FILE *f;
	int rc;
	if ((rc = export_gz(&gz, b, fo, rep, err)))
		goto done;
	/* a temporary file beside out, renamed: no half-written bundle */
	kbuf_printf(&tmp, "%s.tmp-%ld", out, (long)getpid());
	f = fopen(tmp.ptr, "wb");
	if (!f || fwrite(gz.ptr, 1, gz.len, f) != gz.len) {
		if (f)
			fclose(f);
		unlink(tmp.ptr);
		rc = kerr_set(err, KE_IO, "cannot write %s: %s", out, strerror(errno));
	} else if (fclose(f) != 0 || rename(tmp.ptr, out) != 0) {
		unlink(tmp.ptr);
		rc = kerr_set(err, KE_IO, "cannot write %s: %s", out, strerror(errno));
	}
done:
	kbuf_release(&gz);
	kbuf_release(&tmp);
	return rc;
}

int rel_bundle_push(const rel_bundle *b, const char *ref, const fetch_opts *fo, rel_fetch_report *rep,
		    char manifest_hex[65], kerr *err)
{
	kbuf gz = KBUF_INIT;
	int rc = export_gz(&gz, b, fo, rep, err);
	if (!rc)
		rc = fetch_oci_push(ref, gz.ptr, gz.len, REL_BUNDLE_CONFIG_TYPE, REL_BUNDLE_LAYER_TYPE, manifest_hex, fo,
				    err);
	kbuf_release(&gz);
	return rc;
}

/* The export archive gz (in names it) into dir and the cache. */
static int import_gz(const kbuf *gz, const char *in, const char *dir, const fetch_opts *fo, size_t *nartifacts,
		     kerr *err)
{
	karchive_limits lim = { 100000, FETCH_MAX, 0, 0, 0, KARCHIVE_TAR };   /* exports are tar.gz */
	kbuf data = KBUF_INIT, tmp = KBUF_INIT, sub = KBUF_INIT, file = KBUF_INIT;
	struct stat st;
	DIR *d = NULL;
	struct dirent *de;
	int rc = 0;
	*nartifacts = 0;
	if (stat(dir, &st) == 0)
		return kerr_set(err, KE_INPUT, "%s exists: bundle import makes a new directory", dir);
	kbuf_printf(&tmp, "%s.import-%ld", dir, (long)getpid());
	if ((rc = fetch_archive_extract(gz->ptr, gz->len, in, tmp.ptr, &lim, err)))
		goto done;
	kbuf_printf(&sub, "%s/bundle/kstage.yaml", tmp.ptr);
	if (stat(sub.ptr, &st) != 0) {
		rc = kerr_set(err, KE_INPUT, "%s is not a kstage bundle export: no bundle/kstage.yaml", in);
		goto clean;
	}
	kbuf_reset(&sub);
	kbuf_printf(&sub, "%s/artifacts/sha256", tmp.ptr);
	if ((d = opendir(sub.ptr))) {
		while (!rc && (de = readdir(d))) {
			char got[65];
			if (de->d_name[0] == '.')
				continue;
			kbuf_reset(&file);
			kbuf_printf(&file, "%s/%s", sub.ptr, de->d_name);
			kbuf_reset(&data);
			if (kbuf_read_file(&data, file.ptr, FETCH_MAX) != 0) {
				rc = kerr_set(err, KE_IO, "cannot read %s", file.ptr);
				break;
			}
			fetch_sha256_hex(data.ptr, data.len, got);
			if (strcmp(got, de->d_name)) {
				rc = kerr_set(err, KE_INPUT, "%s: artifacts/sha256/%s has sha256 %s: not taking it", in,
					      de->d_name, got);
				break;
			}
			if (!(rc = fetch_cache_add(fo, data.ptr, data.len, NULL, err)))
				(*nartifacts)++;
		}
		closedir(d);
	}
	if (rc)
		goto clean;
	kbuf_reset(&sub);
	kbuf_printf(&sub, "%s/bundle", tmp.ptr);
	if (rename(sub.ptr, dir) != 0) {
		rc = kerr_set(err, KE_IO, "cannot move the bundle to %s: %s", dir, strerror(errno));
		goto clean;
	}
	{
		/* every pinned source, from the cache alone */
		karena a = KARENA_INIT;
		rel_bundle b;
		fetch_opts off;
		if (fo)
			off = *fo;
		else
			memset(&off, 0, sizeof(off));
		off.offline = true;
		if (!(rc = rel_bundle_load(&b, &a, dir, err)))
			rc = rel_fetch(&b, &off, false, NULL, err);
		karena_release(&a);
	}
clean:
	fetch_rmtree(tmp.ptr);
done:
	kbuf_release(&data);
	kbuf_release(&tmp);
	kbuf_release(&sub);
	kbuf_release(&file);
	return rc;
}

int rel_bundle_import(const char *in, const char *dir, const fetch_opts *fo, size_t *nartifacts, kerr *err)
{
	kbuf gz = KBUF_INIT;
	int rc;
	*nartifacts = 0;
	if (kbuf_read_file(&gz, in, FETCH_MAX) != 0)
		rc = kerr_set(err, KE_INPUT, "cannot read %s: %s", in, strerror(errno));
	else
		rc = import_gz(&gz, in, dir, fo, nartifacts, err);
	kbuf_release(&gz);
	return rc;
}

int rel_bundle_pull(const char *ref, const char *dir, const fetch_opts *fo, size_t *nartifacts, char manifest_hex[65],
		    kerr *err)
{
	kbuf gz = KBUF_INIT;
	struct stat st;
	int rc;
	*nartifacts = 0;
	if (stat(dir, &st) == 0)
		return kerr_set(err, KE_INPUT, "%s exists: bundle pull makes a new directory", dir);
	rc = fetch_oci_pull(&gz, ref, REL_BUNDLE_CONFIG_TYPE, manifest_hex, fo, err);
	if (!rc)
		rc = import_gz(&gz, ref, dir, fo, nartifacts, err);
	kbuf_release(&gz);
	return rc;
}
