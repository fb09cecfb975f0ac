/* tmpl/sort.c - Helm 4's install order (pkg/release/v1/util/kind_sorter.go):
 * known kinds in InstallOrder, unknown kinds after them sorted by name,
 * equal kinds keep their order (a stable merge sort). */
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"

static const char *const install_order[] = {
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
	"PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList",
	"ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
	"CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
	"ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service",
	"DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress",
	"APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
};

#define NORDER (sizeof(install_order) / sizeof(install_order[0]))

int tmpl_kind_order(const char *kind)
{
	size_t i;
	for (i = 0; kind && i < NORDER; i++)
		if (!strcmp(install_order[i], kind))
			return (int)i;
	return 1 << 20;
}

/* lessByKind */
static bool less(const tmpl_manifest *a, const tmpl_manifest *b, int oa, int ob)
{
	bool ak = oa < (1 << 20), bk = ob < (1 << 20);
	if (!ak && !bk)
		return strcmp(a->kind ? a->kind : "", b->kind ? b->kind : "") < 0;
	if (!ak)
		return false;
	if (!bk)
		return true;
	return oa < ob;
}

void tmpl_sort_manifests(tmpl_manifest *m, size_t n)
{
	tmpl_manifest *tmp;
	int *ord, *tord;
	size_t w, i;
	if (n < 2)
		return;
	tmp = malloc(n * sizeof(*tmp));
	ord = malloc(n * sizeof(*ord));
	tord = malloc(n * sizeof(*tord));
	if (!tmp || !ord || !tord) {
		free(tmp);
		free(ord);
		free(tord);
		return;
	}
	for (i = 0; i < n; i++)
		ord[i] = tmpl_kind_order(m[i].kind);
	for (w = 1; w < n; w *= 2) {
		for (i = 0; i < n; i += 2 * w) {
			size_t lo = i, mid = i + w < n ? i + w : n, hi = i + 2 * w < n ? i + 2 * w : n;
			size_t a = lo, b = mid, k = lo;
			while (a < mid && b < hi) {
				if (less(&m[b], &m[a], ord[b], ord[a])) {
					tmp[k] = m[b];
					tord[k++] = ord[b++];
				} else {
					tmp[k] = m[a];
					tord[k++] = ord[a++];
				}
			}
			while (a < mid) {
				tmp[k] = m[a];
				tord[k++] = ord[a++];
			}
			while (b < hi) {
				tmp[k] = m[b];
				tord[k++] = ord[b++];
			}
		}
		memcpy(m, tmp, n * sizeof(*m));
		memcpy(ord, tord, n * sizeof(*ord));
	}
	free(tmp);
	free(ord);
	free(tord);
}
