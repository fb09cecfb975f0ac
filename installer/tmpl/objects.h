/* tmpl/objects.h - private to tmpl: the objects render.c gives a chart's
 * templates (objects.c). All live in arena a. */
#ifndef KSTAGE_TMPL_OBJECTS_H
#define KSTAGE_TMPL_OBJECTS_H

#include "chart.h"
#include "tmpl.h"

/* An empty map whose Go type (printf "%T") is type. */
doc_node *tmpl_named_map(karena *a, const char *type);
/* .Chart of chart c (values view vc) named name, as Helm 4 gives it. */
doc_node *tmpl_chart_obj(karena *a, tmpl_chart *c, const values_chart *vc, const char *name, bool root);
/* .Files of chart c: every file that is no template, Chart.yaml or values. */
doc_node *tmpl_files_obj(karena *a, const tmpl_chart *c);
/* .Capabilities for o's --kube-version and --api-versions into *out.
 * Returns 0, or KE_USAGE when the Kubernetes version does not parse. */
int tmpl_caps_new(doc_node **out, karena *a, const tmpl_render_opts *o, kerr *err);
/* Helm refuses a chart whose kubeVersion does not admit caps' Kubernetes
 * version. Returns 0 or KE_INPUT. */
int tmpl_check_kube_version(karena *a, const doc_node *caps, const tmpl_chart *chart, kerr *err);

#endif
