/*
 * kube/names.c - what may go into a request path. Names, namespaces, API
 * groups and versions come from manifests, stage files and flags; they are
 * checked as the API server checks them before they reach a path, and every
 * path segment is escaped anyway.
 *
 * The rules (k8s.io/apimachinery/pkg/util/validation, api/validation/path):
 * a namespace is a DNS-1123 label; most names are DNS-1123 subdomains; a
 * Service name is a DNS-1035 label; RBAC names (and kinds kstage cannot
 * place) need only be valid path segments: not "." or "..", no "/" or "%".
 * kstage also refuses control characters in a path segment.
 */
#include "kube.h"

#include <string.h>

static bool lower_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63; alpha_first for DNS-1035. */
static const char *label_check(const char *s, size_t len, bool alpha_first)
{
	size_t i;
	if (!len)
		return "must not be empty";
	if (len > 63)
		return "must be no more than 63 characters";
	for (i = 0; i < len; i++)
		if (!lower_alnum(s[i]) && s[i] != '-')
			return alpha_first ? "must consist of lower case alphanumeric characters or '-', start with an "
					     "alphabetic character, and end with an alphanumeric character"
					   : "must consist of lower case alphanumeric characters or '-', and must start "
					     "and end with an alphanumeric character";
	if (!lower_alnum(s[0]) || !lower_alnum(s[len - 1]) || (alpha_first && !(s[0] >= 'a' && s[0] <= 'z')))
		return alpha_first ? "must consist of lower case alphanumeric characters or '-', start with an "
				     "alphabetic character, and end with an alphanumeric character"
				   : "must consist of lower case alphanumeric characters or '-', and must start and "
				     "end with an alphanumeric character";
	return NULL;
}

static const char *subdomain_check(const char *s)
{
	size_t len = strlen(s);
	const char *p = s;
	if (!len)
		return "must not be empty";
	if (len > 253)
		return "must be no more than 253 characters";
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (!n || label_check(p, n, false))
			return "must consist of lower case alphanumeric characters, '-' or '.', and must start "
			       "and end with an alphanumeric character";
		if (!dot)
			return NULL;
		p = dot + 1;
	}
}

static const char *segment_check(const char *s)
{
	const unsigned char *p;
	if (!*s)
		return "must not be empty";
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return "may not be '.' or '..'";
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '/' || *p == '%')
			return "may not contain '/' or '%'";
		if (*p < 0x20 || *p == 0x7f)
			return "may not contain control characters";
	}
	return NULL;
}

const char *kube_check_namespace(const char *ns)
{
	return label_check(ns, strlen(ns), false);
}

static bool in_list(const char *s, const char *const *v, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* Groups served by the API server itself whose kinds name objects with
 * DNS-1123 subdomains (except those listed in name_rule). */
static bool builtin_subdomain_group(const char *g)
{
	static const char *const groups[] = {
		"", "apps", "batch", "policy", "autoscaling", "networking.k8s.io", "storage.k8s.io",
		"scheduling.k8s.io", "apiextensions.k8s.io", "admissionregistration.k8s.io",
		"coordination.k8s.io", "events.k8s.io", "node.k8s.io", "discovery.k8s.io",
		"apiregistration.k8s.io",
	};
	return in_list(g, groups, sizeof(groups) / sizeof(groups[0]));
}

/* A group the API server does not serve itself: its kinds come from CRDs,
 * whose objects are named with DNS-1123 subdomains. */
static bool custom_group(const char *g)
{
	size_t n = strlen(g);
	return *g && !(n >= 7 && !strcmp(g + n - 7, ".k8s.io")) && !builtin_subdomain_group(g);
}

const char *kube_check_name(const char *group, const char *kind, const char *name)
{
	const char *why = segment_check(name);
	if (why)
		return why;
	if (!strcmp(group, "rbac.authorization.k8s.io"))
		return NULL;
	if (!*group && !strcmp(kind, "Namespace"))
		return label_check(name, strlen(name), false);
	if (!*group && !strcmp(kind, "Service"))
		return label_check(name, strlen(name), true);
	if (builtin_subdomain_group(group) || custom_group(group))
		return subdomain_check(name);
	return NULL;
}

/* Groups the API server serves itself whose kinds follow rules of their
 * own (path segments for CSRs, review objects, flow control...): the
 * segment rule alone, as for kinds kstage cannot place. */
static bool builtin_other_group(const char *g)
{
	static const char *const groups[] = {
		"rbac.authorization.k8s.io", "certificates.k8s.io", "authentication.k8s.io", "authorization.k8s.io",
		"flowcontrol.apiserver.k8s.io", "internal.apiserver.k8s.io", "storagemigration.k8s.io",
		"resource.k8s.io",
	};
	return in_list(g, groups, sizeof(groups) / sizeof(groups[0]));
}

const char *kube_check_resource_name(const char *group, const char *resource, const char *name)
{
	const char *why = segment_check(name);
	if (why)
		return why;
	if (!*group && !strcmp(resource, "namespaces"))
		return label_check(name, strlen(name), false);
	if (!*group && !strcmp(resource, "services"))
		return label_check(name, strlen(name), true);
	if (builtin_other_group(group))
		return NULL;
	/* the API server's own groups, and every group discovery found that it
	 * does not serve itself (CRDs, also under *.k8s.io: Gateway API) */
	return subdomain_check(name);
}

const char *kube_check_api_version(const char *group, const char *version)
{
	if (*group && subdomain_check(group))
		return "the API group must be a DNS-1123 subdomain";
	if (label_check(version, strlen(version), false))
		return "the version must consist of lower case alphanumeric characters";
	return NULL;
}

const char *kube_check_resource(const char *resource)
{
	return label_check(resource, strlen(resource), false);
}

const char *kube_check_kind(const char *kind)
{
	const char *p;
	if (!((*kind >= 'A' && *kind <= 'Z') || (*kind >= 'a' && *kind <= 'z')))
		return "must start with a letter";
	if (strlen(kind) > 63)
		return "must be no more than 63 characters";
	for (p = kind; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return "must consist of letters, digits or '-'";
	return NULL;
}

void kube_quote(kbuf *out, const char *s)
{
	kbuf_putc(out, '"');
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\')
			kbuf_printf(out, "\\x%02x", (unsigned char)*s);
		else
			kbuf_putc(out, *s);
	}
	kbuf_putc(out, '"');
}

void kube_path_escape(kbuf *out, const char *seg)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	for (p = (const unsigned char *)seg; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			kbuf_putc(out, (char)*p);
		} else {
			kbuf_putc(out, '%');
			kbuf_putc(out, hex[*p >> 4]);
			kbuf_putc(out, hex[*p & 15]);
		}
	}
}

/* ---- the one check every request passes ---- */

/* True when the query holds dryRun=All and no other dryRun value. */
static bool query_dry_run_all(const char *q)
{
	bool all = false;
	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		if (n >= 7 && !strncmp(q, "dryRun=", 7)) {
			if (n == 10 && !strncmp(q + 7, "All", 3))
				all = true;
			else
				return false;
		} else if (n == 6 && !strncmp(q, "dryRun", 6)) {
			return false;
		}
		q = amp ? amp + 1 : NULL;
	}
	return all;
}

int kube_req_check(const kube_req *req, bool dry_run_only, kerr *err)
{
	const char *p = req->path, *q, *seg;
	const unsigned char *u;
	bool mutating = strcmp(req->method, "GET") && strcmp(req->method, "HEAD");
	if (!p || *p != '/')
		return kerr_set(err, KE_INTERNAL, "refusing to send %s: the path does not start with '/'", req->method);
	for (u = (const unsigned char *)p; *u; u++)
		if (*u <= 0x20 || *u >= 0x7f || *u == '#')
			return kerr_set(err, KE_INTERNAL,
					"refusing to send %s: the path holds a character that was not escaped (0x%02x)",
					req->method, *u);
	q = strchr(p, '?');
	/* no "." or ".." segment in the path part */
	for (seg = p + 1; seg && (!q || seg <= q);) {
		const char *end = strchr(seg, '/');
		size_t n;
		if (!end || (q && end > q))
			end = q ? q : seg + strlen(seg);
		n = (size_t)(end - seg);
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return kerr_set(err, KE_INTERNAL, "refusing to send %s: the path climbs with \".\" or \"..\"",
					req->method);
		seg = *end == '/' ? end + 1 : NULL;
	}
	if (dry_run_only && mutating && !query_dry_run_all(q ? q + 1 : NULL))
		return kerr_set(err, KE_INTERNAL, "refusing to send %s without dryRun=All: this client only plans",
				req->method);
	return 0;
}
