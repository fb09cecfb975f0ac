{{/* The KServe Gateway API migration bundle: shared helpers. */}}

{{/* The bundle-version of the Gateway API CRDs on the cluster ("" when none). */}}
{{- define "gwapi.installed" -}}
{{- $crd := lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" "gateways.gateway.networking.k8s.io" -}}
{{- if $crd -}}{{- index ($crd.metadata.annotations | default dict) "gateway.networking.k8s.io/bundle-version" | default "" -}}{{- end -}}
{{- end -}}

{{/* "true" when the CRD stage of version (index . 1) should apply: it is the
     requested version and no newer one is installed (unless keepNewer is off). */}}
{{- define "gwapi.apply" -}}
{{- $ := index . 0 -}}{{- $v := index . 1 -}}
{{- $installed := include "gwapi.installed" $ -}}
{{- $want := and $.Values.gatewayApi.install (eq $.Values.gatewayApi.version $v) -}}
{{- if and $want $.Values.gatewayApi.keepNewer $installed (semverCompare (printf "> %s" $v) $installed) -}}false
{{- else -}}{{ $want }}{{- end -}}
{{- end -}}

{{/* The KServe controller's version, from the manager container's image tag. */}}
{{- define "kserve.version" -}}
{{- $d := lookup "apps/v1" "Deployment" "kserve" "kserve-controller-manager" -}}
{{- if $d -}}{{- range $d.spec.template.spec.containers -}}{{- if eq .name "manager" -}}{{- regexFind "v[0-9]+\\.[0-9]+\\.[0-9]+" .image -}}{{- end -}}{{- end -}}{{- end -}}
{{- end -}}

{{/* KServe's default deployment mode, from the deploy key of its ConfigMap. */}}
{{- define "kserve.defaultMode" -}}
{{- $cm := lookup "v1" "ConfigMap" "kserve" "inferenceservice-config" -}}
{{- $deploy := "" -}}{{- if $cm -}}{{- $deploy = index ($cm.data | default dict) "deploy" | default "" -}}{{- end -}}
{{- regexReplaceAll "(?s).*\"defaultDeploymentMode\"\\s*:\\s*\"([A-Za-z]+)\".*" (regexFind "(?s)\"defaultDeploymentMode\"\\s*:\\s*\"[A-Za-z]+\"" $deploy) "${1}" | default "Serverless" -}}
{{- end -}}

{{/* The TLS Secret's name the HTTPS listener uses. */}}
{{- define "tls.secretName" -}}{{ .Values.tls.secretName | default (printf "%s-tls" .Values.gateway.name) }}{{- end -}}

{{/* kserveIngressGateway: namespace/name of the Gateway. */}}
{{- define "gateway.ref" -}}{{ .Values.gateway.namespace }}/{{ .Values.gateway.name }}{{- end -}}
