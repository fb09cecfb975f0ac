/*
 * fetch/git.c - a directory of a git repository at a tag, branch or commit,
 * through libgit2 (https, http only when allowed, file). The ref is fetched
 * into a temporary bare repository, resolved to a commit (or the commit the
 * lock pins is looked up in what was fetched), and the tree at the
 * subdirectory is written as a canonical ustar archive: files in tree order under
 * "NAME/" (NAME the subdirectory's last step, else the repository's),
 * mode 0644 or 0755, owner 0, time 0, symlinks as symlinks; submodules are
 * refused. That tar's SHA-256 is the source's digest: the cache holds it,
 * so a pinned source needs no network. The fetch itself runs in a child
 * process killed at --fetch-timeout (libgit2 1.5 has no timeouts of its
 * own); proxies as git and libgit2 find them (http.proxy, HTTPS_PROXY,
 * NO_PROXY).
 */
#include "fetch_int.h"
#include "core/proc.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct walk {
	git_repository *repo;
	kbuf *tar;
	const char *prefix;
	size_t total, max;
	kerr *err;
	int rc;
} walk;

static int lg2_error(kerr *err, int code, const char *what)
{
	const git_error *e = git_error_last();
	return kerr_set(err, code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

static int on_entry(const char *root, const git_tree_entry *te, void *u)
{
	walk *w = u;
	git_filemode_t mode = git_tree_entry_filemode(te);
	const char *name = git_tree_entry_name(te);
	git_blob *blob = NULL;
	kbuf path = KBUF_INIT;
	size_t len;
	int rc = 0;
	if (mode == GIT_FILEMODE_TREE)
		return 0;
	kbuf_printf(&path, "%s/%s%s", w->prefix, root, name);
	if (mode == GIT_FILEMODE_COMMIT) {
		w->rc = kerr_set(w->err, KE_INPUT, "%s is a git submodule: not fetched (name its repository as a source "
				 "of its own)", path.ptr + strlen(w->prefix) + 1);
		kbuf_release(&path);
		return -1;
	}
	if (git_blob_lookup(&blob, w->repo, git_tree_entry_id(te)) < 0) {
		w->rc = lg2_error(w->err, KE_IO, path.ptr);
		kbuf_release(&path);
		return -1;
	}
	len = (size_t)git_blob_rawsize(blob);
	w->total += len;
	if (w->total > w->max) {
		w->rc = kerr_set(w->err, KE_LIMIT, "the tree is larger than %zu bytes", w->max);
		rc = -1;
		goto done;
	}
	if (mode == GIT_FILEMODE_LINK) {
		kbuf target = KBUF_INIT;
		kbuf_put(&target, git_blob_rawcontent(blob), len);
		rc = fetch_tar_add(w->tar, path.ptr, FETCH_TAR_SYMLINK, 0777, NULL, 0, target.ptr);
		kbuf_release(&target);
	} else {
		rc = fetch_tar_add(w->tar, path.ptr, FETCH_TAR_FILE, mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644,
				   git_blob_rawcontent(blob), len, NULL);
	}
	if (rc)
		w->rc = kerr_set(w->err, KE_LIMIT, "%s: a path longer than a tar header holds (or out of memory)", path.ptr);
done:
	git_blob_free(blob);
	kbuf_release(&path);
	return rc;
}

/* The tree of commit at path (may be NULL) as a canonical tar into out. */
static int tree_tar(kbuf *out, git_repository *repo, const git_oid *commit, const char *path, const char *prefix,
		    size_t max, kerr *err)
{
	git_commit *c = NULL;
	git_tree *root = NULL, *sub = NULL;
	git_tree_entry *te = NULL;
	walk w;
	int rc = 0;
	memset(&w, 0, sizeof(w));
	if (git_commit_lookup(&c, repo, commit) < 0 || git_commit_tree(&root, c) < 0) {
		rc = lg2_error(err, KE_IO, "read commit");
		goto done;
	}
	if (path && *path) {
		if (git_tree_entry_bypath(&te, root, path) < 0) {
			rc = kerr_set(err, KE_INPUT, "path \"%s\" is not in the commit", path);
			goto done;
		}
		if (git_tree_entry_type(te) != GIT_OBJECT_TREE) {
			rc = kerr_set(err, KE_INPUT, "path \"%s\" is not a directory in the commit", path);
			goto done;
		}
		if (git_tree_lookup(&sub, repo, git_tree_entry_id(te)) < 0) {
			rc = lg2_error(err, KE_IO, path);
			goto done;
		}
	}
	w.repo = repo;
	w.prefix = prefix;
	w.max = max;
	w.err = err;
	w.tar = out;
	if (git_tree_walk(sub ? sub : root, GIT_TREEWALK_PRE, on_entry, &w) < 0) {
		rc = w.rc ? w.rc : lg2_error(err, KE_IO, "walk the tree");
	} else {
		fetch_tar_end(out);
	}
done:
	git_tree_entry_free(te);
	git_tree_free(sub);
	git_tree_free(root);
	git_commit_free(c);
	return rc;
}

/* The name the tree goes under: the path's last step, else the
 * repository's name without ".git". */
static char *tree_name(karena *a, const char *url, const char *path)
{
	const char *s = path && *path ? path : url;
	size_t n = strlen(s);
	const char *b;
	char *r;
	while (n && s[n - 1] == '/')
		n--;
	for (b = s + n; b > s && b[-1] != '/'; b--)
		;
	r = karena_strndup(a, b, (size_t)(s + n - b));
	n = strlen(r);
	if (n > 4 && !strcmp(r + n - 4, ".git"))
		r[n - 4] = '\0';
	return *r && strcmp(r, ".") && strcmp(r, "..") ? r : karena_strdup(a, "source");
}

static bool hex_commit(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return (n == 40 || n == 64) && strspn(s, "0123456789abcdef") == n;
}

#define GIT_TIMEOUT_MS (5L * 60 * 1000)   /* as fetch/http.c's transfers */
#define GIT_ERROR_MAX ((size_t)4096)

typedef struct bounded {
	const char *dir, *url;
	const git_strarray *specs;
} bounded;

/* In the child: fetch b's specs into the bare repository at b->dir (made
 * when not there); libgit2's error to fd. */
static int bounded_fetch(void *ctx, int fd)
{
	const bounded *b = ctx;
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_fetch_options fo;
	git_remote_create_options ro;
	const git_error *e;
	memset(&fo, 0, sizeof(fo));
	fo.version = GIT_FETCH_OPTIONS_VERSION;
	fo.callbacks.version = GIT_REMOTE_CALLBACKS_VERSION;
	fo.proxy_opts.version = GIT_PROXY_OPTIONS_VERSION;
	fo.prune = GIT_FETCH_PRUNE_UNSPECIFIED;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.proxy_opts.type = GIT_PROXY_AUTO;   /* http.proxy, then HTTPS_PROXY and NO_PROXY */
	/* no url.*.insteadOf from the user's git config: mirrors are kstage's own rules */
	memset(&ro, 0, sizeof(ro));
	ro.version = GIT_REMOTE_CREATE_OPTIONS_VERSION;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_repository_init(&repo, b->dir, 1) == 0) {
		ro.repository = repo;
		if (git_remote_create_with_opts(&remote, b->url, &ro) == 0 &&
		    git_remote_fetch(remote, b->specs, &fo, NULL) == 0)
			return 0;
	}
	e = git_error_last();
	if (e && e->message && write(fd, e->message, strlen(e->message)) < 0)
		return 2;
	return 1;
}

/* The network part of a fetch runs in a child process (kproc_fork), so
 * --fetch-timeout holds whatever the server does: libgit2 1.5 has no
 * timeouts, and a stalled server would block a read for ever. */
static int fetch_bounded(const char *dir, const char *url, const git_strarray *sa, const fetch_opts *o, kerr *err)
{
	long timeout = o && o->timeout_ms > 0 ? o->timeout_ms : GIT_TIMEOUT_MS;
	bounded b = { dir, url, sa };
	kbuf msg = KBUF_INIT;
	int status = 0, spawn_errno = 0;
	int rc = kproc_fork(bounded_fetch, &b, timeout, GIT_ERROR_MAX, &msg, &status, &spawn_errno);
	if (rc == KE_IO)
		rc = kerr_set(err, KE_IO, "%s: cannot start the fetch: %s", url, strerror(spawn_errno));
	else if (rc == KE_TIMEOUT)
		rc = kerr_set(err, KE_IO, "%s: no answer within %.1fs (--fetch-timeout): stopped", url,
			      (double)timeout / 1000.0);
	else if (rc == KE_LIMIT || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = kerr_set(err, KE_IO, "%s: %s", url, msg.len && !rc ? msg.ptr : "libgit2 error");
	kbuf_release(&msg);
	return rc;
}

/* Fetch ref from url into the bare repository at dir (fetch_bounded) and
 * open it into *repo; resolve ref, or find want (a commit id) in what was
 * fetched. */
static int fetch_ref(git_oid *out, git_repository **repo, const char *dir, const char *url, const char *ref,
		     const char *want, const fetch_opts *o, kerr *err)
{
	git_object *obj = NULL;
	char *specs[2];
	git_strarray sa = { specs, 0 };
	kbuf s1 = KBUF_INIT, s2 = KBUF_INIT;
	int rc = 0;
	if (hex_commit(ref)) {
		kbuf_puts(&s1, "+refs/heads/*:refs/kstage/h/*");
		kbuf_puts(&s2, "+refs/tags/*:refs/kstage/t/*");
	} else if (!strncmp(ref, "refs/", 5)) {
		kbuf_printf(&s1, "+%s:refs/kstage/want", ref);
	} else {
		kbuf_printf(&s1, "+refs/tags/%s:refs/kstage/tag", ref);
		kbuf_printf(&s2, "+refs/heads/%s:refs/kstage/head", ref);
	}
	specs[sa.count++] = s1.ptr;
	if (s2.len)
		specs[sa.count++] = s2.ptr;
	if ((rc = fetch_bounded(dir, url, &sa, o, err)))
		goto done;
	/* opened after the fetch: nothing cached from before it */
	if (git_repository_init(repo, dir, 1) < 0) {
		rc = lg2_error(err, KE_IO, dir);
		goto done;
	}
	if (want || hex_commit(ref)) {
		const char *id = want ? want : ref;
		if (git_oid_fromstr(out, id) < 0 || git_object_lookup(&obj, *repo, out, GIT_OBJECT_COMMIT) < 0) {
			rc = kerr_set(err, KE_INPUT, "commit %s is not %s %s any more", id,
				      want ? "reachable from" : "in the branches and tags of", want ? ref : url);
			goto done;
		}
	} else if (git_revparse_single(&obj, *repo, "refs/kstage/tag^{commit}") == 0 ||
		   git_revparse_single(&obj, *repo, "refs/kstage/head^{commit}") == 0 ||
		   git_revparse_single(&obj, *repo, "refs/kstage/want^{commit}") == 0) {
		git_oid_cpy(out, git_object_id(obj));
	} else {
		rc = kerr_set(err, KE_INPUT, "%s has no tag or branch \"%s\"", url, ref);
	}
done:
	git_object_free(obj);
	kbuf_release(&s1);
	kbuf_release(&s2);
	return rc;
}

int fetch_git(kbuf *out, fetch_result *res, const char *url, const char *ref, const char *path, const char *commit,
	      const char *sha256, const fetch_opts *o, kerr *err)
{
	karena a = KARENA_INIT;
	kbuf dir = KBUF_INIT, from = KBUF_INIT, data = KBUF_INIT, tmp = KBUF_INIT, name = KBUF_INIT;
	const kev_sink *sink = o ? o->sink : NULL;
	git_repository *repo = NULL;
	git_oid oid;
	char got[65], cid[GIT_OID_HEXSZ + 1];
	const char *ca = o && o->ca_file ? o->ca_file : getenv("SSL_CERT_FILE");
	int rc = 0;

	kbuf_printf(&name, "%s@%s%s%s", url, ref ? ref : "", path && *path ? ":" : "", path && *path ? path : "");
	if (!ref || !*ref)
		return kerr_set(err, KE_INPUT, "git source %s: give a ref (a tag, branch or commit)", url);
	if (sha256 && !fetch_valid_sha256(sha256))
		return kerr_set(err, KE_INPUT, "git source %s: sha256 must be 64 lowercase hex digits", name.ptr);
	if (commit && !hex_commit(commit))
		return kerr_set(err, KE_INPUT, "git source %s: commit \"%s\" is not a commit id", name.ptr, commit);
	fetch_cache_dir(&dir, o);
	if (sha256 && fetch_cache_read(&data, &tmp, dir.ptr, sha256, sink) == 0) {
		kev_emit(sink, KEV_DEBUG, "fetch.cached", name.ptr, "url", name.ptr, "path", tmp.ptr, NULL);
		kbuf_printf(&from, "%s@%s", url, commit ? commit : ref);
		goto found;
	}
	if (o && o->offline) {
		if (sha256)
			rc = kerr_set(err, KE_IO, "fetch %s: not in the cache (%s) and --offline was given", name.ptr, tmp.ptr);
		else
			rc = kerr_set(err, KE_IO, "fetch %s: not pinned, so not resolvable with --offline", name.ptr);
		goto done;
	}
	if ((rc = fetch_mirror_url(&from, url, o, err)))
		goto done;
	if (strncmp(from.ptr, "https://", 8) && strncmp(from.ptr, "file://", 7) &&
	    !(o && o->allow_http && !strncmp(from.ptr, "http://", 7))) {
		rc = kerr_set(err, KE_INPUT, "git source %s: only https:// and file:// repositories (http:// with "
			      "--allow-insecure-http)", from.ptr);
		goto done;
	}
	if (strcmp(from.ptr, url))
		kev_emitf(sink, KEV_INFO, "fetch.start", "fetching %s from %s", name.ptr, from.ptr);
	else
		kev_emitf(sink, KEV_INFO, "fetch.start", "fetching %s", name.ptr);
	git_libgit2_init();
	if (ca && *ca)
		git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, ca, NULL);
	kbuf_reset(&tmp);
	kbuf_printf(&tmp, "%s/.git-XXXXXX", dir.ptr);
	if (fetch_mkdirs(dir.ptr) != 0 || !mkdtemp(tmp.ptr)) {
		rc = kerr_set(err, KE_IO, "cannot make a temporary directory in %s", dir.ptr);
		goto shutdown;
	}
	if ((rc = fetch_ref(&oid, &repo, tmp.ptr, from.ptr, ref, commit, o, err))) {
		kerr_wrap(err, "git source %s", name.ptr);
		goto clean;
	}
	git_oid_tostr(cid, sizeof(cid), &oid);
	kbuf_reset(&data);
	if ((rc = tree_tar(&data, repo, &oid, path, tree_name(&a, url, path),
			   o && o->max_bytes ? o->max_bytes : FETCH_MAX, err))) {
		kerr_wrap(err, "git source %s (commit %s)", name.ptr, cid);
		goto clean;
	}
	fetch_sha256_hex(data.ptr, data.len, got);
	if (sha256 && strcmp(got, sha256)) {
		rc = kerr_set(err, KE_INPUT, "fetch %s: sha256 mismatch: pinned %s, got %s (commit %s from %s): not using it",
			      name.ptr, sha256, got, cid, from.ptr);
		goto clean;
	}
	fetch_cache_store(dir.ptr, got, &data);
	kbuf_printf(&from, "@%s", cid);
clean:
	git_repository_free(repo);
	fetch_rmtree(tmp.ptr);
shutdown:
	git_libgit2_shutdown();
	if (rc)
		goto done;
found:
	kbuf_put(out, data.ptr, data.len);
	fetch_result_set(res, data.ptr, data.len, from.ptr);
done:
	kbuf_release(&dir);
	kbuf_release(&from);
	kbuf_release(&data);
	kbuf_release(&tmp);
	kbuf_release(&name);
	karena_release(&a);
	return rc;
}
