/* core/dynload_git2.c - libgit2, loaded on first use (see dynload.h). */
#include "dynload.h"

#include <git2.h>
#include <pthread.h>
#include <stdarg.h>

#ifndef KSTAGE_LIBGIT2_SONAME
#define KSTAGE_LIBGIT2_SONAME "libgit2.so.1.5"
#endif

static struct {
	int (*libgit2_version)(int *, int *, int *);
	int (*libgit2_opts)(int, ...);
	void (*blob_free)(git_blob *);
	int (*blob_lookup)(git_blob **, git_repository *, const git_oid *);
	const void * (*blob_rawcontent)(const git_blob *);
	git_object_size_t (*blob_rawsize)(const git_blob *);
	void (*commit_free)(git_commit *);
	int (*commit_lookup)(git_commit **, git_repository *, const git_oid *);
	int (*commit_tree)(git_tree **, const git_commit *);
	const git_error * (*error_last)(void);
	int (*libgit2_init)(void);
	int (*libgit2_shutdown)(void);
	void (*object_free)(git_object *);
	const git_oid * (*object_id)(const git_object *);
	int (*object_lookup)(git_object **, git_repository *, const git_oid *, git_object_t);
	int (*oid_cpy)(git_oid *, const git_oid *);
	int (*oid_fromstr)(git_oid *, const char *);
	char * (*oid_tostr)(char *, size_t, const git_oid *);
	int (*remote_create_with_opts)(git_remote **, const char *, const git_remote_create_options *);
	int (*remote_fetch)(git_remote *, const git_strarray *, const git_fetch_options *, const char *);
	void (*remote_free)(git_remote *);
	void (*repository_free)(git_repository *);
	int (*repository_init)(git_repository **, const char *, unsigned);
	int (*revparse_single)(git_object **, git_repository *, const char *);
	int (*tree_entry_bypath)(git_tree_entry **, const git_tree *, const char *);
	git_filemode_t (*tree_entry_filemode)(const git_tree_entry *);
	void (*tree_entry_free)(git_tree_entry *);
	const git_oid * (*tree_entry_id)(const git_tree_entry *);
	const char * (*tree_entry_name)(const git_tree_entry *);
	git_object_t (*tree_entry_type)(const git_tree_entry *);
	void (*tree_free)(git_tree *);
	int (*tree_lookup)(git_tree **, git_repository *, const git_oid *);
	int (*tree_walk)(const git_tree *, git_treewalk_mode, git_treewalk_cb, void *);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const dynload_sym syms[] = {
		{ "git_libgit2_version", (void **)&fn.libgit2_version },
		{ "git_libgit2_opts", (void **)&fn.libgit2_opts },
		{ "git_blob_free", (void **)&fn.blob_free },
		{ "git_blob_lookup", (void **)&fn.blob_lookup },
		{ "git_blob_rawcontent", (void **)&fn.blob_rawcontent },
		{ "git_blob_rawsize", (void **)&fn.blob_rawsize },
		{ "git_commit_free", (void **)&fn.commit_free },
		{ "git_commit_lookup", (void **)&fn.commit_lookup },
		{ "git_commit_tree", (void **)&fn.commit_tree },
		{ "git_error_last", (void **)&fn.error_last },
		{ "git_libgit2_init", (void **)&fn.libgit2_init },
		{ "git_libgit2_shutdown", (void **)&fn.libgit2_shutdown },
		{ "git_object_free", (void **)&fn.object_free },
		{ "git_object_id", (void **)&fn.object_id },
		{ "git_object_lookup", (void **)&fn.object_lookup },
		{ "git_oid_cpy", (void **)&fn.oid_cpy },
		{ "git_oid_fromstr", (void **)&fn.oid_fromstr },
		{ "git_oid_tostr", (void **)&fn.oid_tostr },
		{ "git_remote_create_with_opts", (void **)&fn.remote_create_with_opts },
		{ "git_remote_fetch", (void **)&fn.remote_fetch },
		{ "git_remote_free", (void **)&fn.remote_free },
		{ "git_repository_free", (void **)&fn.repository_free },
		{ "git_repository_init", (void **)&fn.repository_init },
		{ "git_revparse_single", (void **)&fn.revparse_single },
		{ "git_tree_entry_bypath", (void **)&fn.tree_entry_bypath },
		{ "git_tree_entry_filemode", (void **)&fn.tree_entry_filemode },
		{ "git_tree_entry_free", (void **)&fn.tree_entry_free },
		{ "git_tree_entry_id", (void **)&fn.tree_entry_id },
		{ "git_tree_entry_name", (void **)&fn.tree_entry_name },
		{ "git_tree_entry_type", (void **)&fn.tree_entry_type },
		{ "git_tree_free", (void **)&fn.tree_free },
		{ "git_tree_lookup", (void **)&fn.tree_lookup },
		{ "git_tree_walk", (void **)&fn.tree_walk },
	};
	dynload_open(KSTAGE_LIBGIT2_SONAME, syms, sizeof(syms) / sizeof(syms[0]));
}

#define LOAD() pthread_once(&once, load)

int git_libgit2_version(int *major, int *minor, int *rev) { LOAD(); return fn.libgit2_version(major, minor, rev); }

/* Variadic: the options kstage sets are forwarded with their arguments. */
int git_libgit2_opts(int option, ...)
{
	va_list ap;
	int r = -1;
	LOAD();
	va_start(ap, option);
	if (option == GIT_OPT_SET_SSL_CERT_LOCATIONS) {
		const char *file = va_arg(ap, const char *), *path = va_arg(ap, const char *);
		r = fn.libgit2_opts(option, file, path);
	}
	va_end(ap);
	return r;
}
void git_blob_free(git_blob *blob) { LOAD(); fn.blob_free(blob); }
int git_blob_lookup(git_blob **blob, git_repository *repo, const git_oid *id) { LOAD(); return fn.blob_lookup(blob, repo, id); }
const void *git_blob_rawcontent(const git_blob *blob) { LOAD(); return fn.blob_rawcontent(blob); }
git_object_size_t git_blob_rawsize(const git_blob *blob) { LOAD(); return fn.blob_rawsize(blob); }
void git_commit_free(git_commit *commit) { LOAD(); fn.commit_free(commit); }
int git_commit_lookup(git_commit **commit, git_repository *repo, const git_oid *id) { LOAD(); return fn.commit_lookup(commit, repo, id); }
int git_commit_tree(git_tree **tree_out, const git_commit *commit) { LOAD(); return fn.commit_tree(tree_out, commit); }
const git_error *git_error_last(void) { LOAD(); return fn.error_last(); }
int git_libgit2_init(void) { LOAD(); return fn.libgit2_init(); }
int git_libgit2_shutdown(void) { LOAD(); return fn.libgit2_shutdown(); }
void git_object_free(git_object *object) { LOAD(); fn.object_free(object); }
const git_oid *git_object_id(const git_object *obj) { LOAD(); return fn.object_id(obj); }
int git_object_lookup(git_object **object, git_repository *repo, const git_oid *id, git_object_t type) { LOAD(); return fn.object_lookup(object, repo, id, type); }
int git_oid_cpy(git_oid *out, const git_oid *src) { LOAD(); return fn.oid_cpy(out, src); }
int git_oid_fromstr(git_oid *out, const char *str) { LOAD(); return fn.oid_fromstr(out, str); }
char *git_oid_tostr(char *out, size_t n, const git_oid *id) { LOAD(); return fn.oid_tostr(out, n, id); }
int git_remote_create_with_opts(git_remote **out, const char *url, const git_remote_create_options *opts) { LOAD(); return fn.remote_create_with_opts(out, url, opts); }
int git_remote_fetch(git_remote *remote, const git_strarray *refspecs, const git_fetch_options *opts, const char *reflog_message) { LOAD(); return fn.remote_fetch(remote, refspecs, opts, reflog_message); }
void git_remote_free(git_remote *remote) { LOAD(); fn.remote_free(remote); }
void git_repository_free(git_repository *repo) { LOAD(); fn.repository_free(repo); }
int git_repository_init(git_repository **out, const char *path, unsigned is_bare) { LOAD(); return fn.repository_init(out, path, is_bare); }
int git_revparse_single(git_object **out, git_repository *repo, const char *spec) { LOAD(); return fn.revparse_single(out, repo, spec); }
int git_tree_entry_bypath(git_tree_entry **out, const git_tree *root, const char *path) { LOAD(); return fn.tree_entry_bypath(out, root, path); }
git_filemode_t git_tree_entry_filemode(const git_tree_entry *entry) { LOAD(); return fn.tree_entry_filemode(entry); }
void git_tree_entry_free(git_tree_entry *entry) { LOAD(); fn.tree_entry_free(entry); }
const git_oid *git_tree_entry_id(const git_tree_entry *entry) { LOAD(); return fn.tree_entry_id(entry); }
const char *git_tree_entry_name(const git_tree_entry *entry) { LOAD(); return fn.tree_entry_name(entry); }
git_object_t git_tree_entry_type(const git_tree_entry *entry) { LOAD(); return fn.tree_entry_type(entry); }
void git_tree_free(git_tree *tree) { LOAD(); fn.tree_free(tree); }
int git_tree_lookup(git_tree **out, git_repository *repo, const git_oid *id) { LOAD(); return fn.tree_lookup(out, repo, id); }
int git_tree_walk(const git_tree *tree, git_treewalk_mode mode, git_treewalk_cb callback, void *payload) { LOAD(); return fn.tree_walk(tree, mode, callback, payload); }
