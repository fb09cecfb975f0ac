{{/* The KServe Gateway API migration bundle: shared helpers. */}}

{{/* The bundle-version of the Gateway API CRDs on the cluster ("" when none). */}}
{{- define "gwapi.installed" -}}
{{- $crd := lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" "gateways.gateway.networking.k8s.io" -}}
{{- if $crd -}}{{- index ($crd.metadata.annotations | default dict) "gateway.networking.k8s.io/bundle-version" | default "" -}}{{- end -}}
{{- end -}}

{{/* The channel annotation of the installed Gateway API CRDs ("" when none). */}}
{{- define "gwapi.installedChannel" -}}
{{- $crd := lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" "gateways.gateway.networking.k8s.io" -}}
{{- if $crd -}}{{- index ($crd.metadata.annotations | default dict) "gateway.networking.k8s.io/channel" | default "" -}}{{- end -}}
{{- end -}}

{{/* Why the installed Gateway API CRDs are kept instead of the requested
     version and channel (keepNewer on): "newer" (a newer version is
     installed), "channel" (another release channel is: Gateway API's CRD
     management guide says a bundle never overwrites CRDs of a different
     channel), or "" (the requested ones are applied). */}}
{{- define "gwapi.kept" -}}
{{- $installed := include "gwapi.installed" . -}}
{{- if and .Values.gatewayApi.install .Values.gatewayApi.keepNewer $installed -}}
{{- if semverCompare (printf "> %s" .Values.gatewayApi.version) $installed -}}newer
{{- else if ne (include "gwapi.installedChannel" .) .Values.gatewayApi.channel -}}channel
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "true" when the CRD stage of version (index . 1) and channel (index . 2)
     should apply: they are the requested ones and the installed CRDs are not
     kept (gwapi.kept). */}}
{{- define "gwapi.apply" -}}
{{- $ := index . 0 -}}
{{- $want := and $.Values.gatewayApi.install (eq $.Values.gatewayApi.version (index . 1)) (eq $.Values.gatewayApi.channel (index . 2)) -}}
{{- if and $want (include "gwapi.kept" $) -}}false
{{- else -}}{{ $want }}{{- end -}}
{{- end -}}

{{/* The KServe controller's version, from the manager container's image tag. */}}
{{- define "kserve.version" -}}
{{- $d := lookup "apps/v1" "Deployment" .Values.kserve.namespace .Values.kserve.controller -}}
{{- if $d -}}{{- range $d.spec.template.spec.containers -}}{{- if eq .name "manager" -}}{{- regexFind "v[0-9]+\\.[0-9]+\\.[0-9]+" .image -}}{{- end -}}{{- end -}}{{- end -}}
{{- end -}}

{{/* KServe's default deployment mode, from the deploy key of its ConfigMap. */}}
{{- define "kserve.defaultMode" -}}
{{- $cm := lookup "v1" "ConfigMap" .Values.kserve.namespace .Values.kserve.configMap -}}
{{- $deploy := "" -}}{{- if $cm -}}{{- $deploy = index ($cm.data | default dict) "deploy" | default "" -}}{{- end -}}
{{- regexReplaceAll "(?s).*\"defaultDeploymentMode\"\\s*:\\s*\"([A-Za-z]+)\".*" (regexFind "(?s)\"defaultDeploymentMode\"\\s*:\\s*\"[A-Za-z]+\"" $deploy) "${1}" | default "Serverless" -}}
{{- end -}}

{{/* The TLS Secret's name the HTTPS listener uses. */}}
{{- define "tls.secretName" -}}{{ .Values.tls.secretName | default (printf "%s-tls" .Values.gateway.name) }}{{- end -}}

{{/* kserveIngressGateway: namespace/name of the Gateway. */}}
{{- define "gateway.ref" -}}{{ .Values.gateway.namespace }}/{{ .Values.gateway.name }}{{- end -}}

{{/* The Service Envoy Gateway (or another implementation) made for the
     Gateway: by Envoy Gateway's owning-gateway labels, else by the
     infrastructure label serving.kserve.io/gateway. An empty map if none. */}}
{{- define "gateway.service" -}}
{{- $found := dict -}}
{{- $svcs := lookup "v1" "Service" "" "" -}}
{{- range ($svcs.items | default list) -}}
{{- $l := .metadata.labels | default dict -}}
{{- if and (not $found) (or (and (eq (index $l "gateway.envoyproxy.io/owning-gateway-name" | default "") $.Values.gateway.name) (eq (index $l "gateway.envoyproxy.io/owning-gateway-namespace" | default "") $.Values.gateway.namespace)) (and (eq .metadata.namespace $.Values.gateway.namespace) (eq (index $l "serving.kserve.io/gateway" | default "") $.Values.gateway.name))) -}}
{{- $found = . -}}
{{- end -}}
{{- end -}}
{{- toJson $found -}}
{{- end -}}

{{/* http://HOST:PORT of the Gateway's plain HTTP listener from outside: the
     LoadBalancer's IP or hostname, else a node's address and the NodePort. */}}
{{- define "gateway.address" -}}
{{- $svc := include "gateway.service" . | fromJson -}}
{{- $port := int .Values.gateway.http.port -}}
{{- if $svc.spec -}}
{{- $lb := (($svc.status | default dict).loadBalancer | default dict).ingress | default list -}}
{{- if $lb -}}
{{- $i := first $lb -}}
{{- if $i.ports }}{{ $port = int (first $i.ports).port }}{{ end -}}
http://{{ $i.ip | default $i.hostname }}:{{ $port }}
{{- else -}}
{{- $np := 0 -}}
{{- range $svc.spec.ports }}{{ if and (eq (int .port) $port) .nodePort }}{{ $np = int .nodePort }}{{ end }}{{ end -}}
{{- $addr := "" -}}
{{- range ((lookup "v1" "Node" "" "").items | default list) -}}
{{- range (.status.addresses | default list) }}{{ if and (not $addr) (eq .type "InternalIP") }}{{ $addr = .address }}{{ end }}{{ end -}}
{{- end -}}
{{- if and $np $addr }}http://{{ $addr }}:{{ $np }}{{ end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The port-forward command that reaches the Gateway (the Service maps port
     80 to Envoy's 10080; forward the Service port, not the pod's 8080). */}}
{{- define "gateway.portForward" -}}
{{- $svc := include "gateway.service" . | fromJson -}}
{{- if $svc.metadata -}}
kubectl -n {{ $svc.metadata.namespace }} port-forward service/{{ $svc.metadata.name }} 8080:{{ .Values.gateway.http.port }}
{{- end -}}
{{- end -}}

{{/* The Host header of the test request: the host of the InferenceService's status.url. */}}
{{- define "verify.host" -}}
{{- $isvc := lookup "serving.kserve.io/v1beta1" "InferenceService" .Values.verify.namespace .Values.verify.name -}}
{{- ((($isvc.status | default dict).url | default "") | trimPrefix "http://" | trimPrefix "https://") -}}
{{- end -}}

{{/* ---- preflight checks: each prints the problem and the way out, or nothing ---- */}}

{{- define "check.kserve" -}}
{{- if not (lookup "v1" "ConfigMap" .Values.kserve.namespace .Values.kserve.configMap) -}}
KServe is not installed: ConfigMap {{ .Values.kserve.namespace }}/{{ .Values.kserve.configMap }} is missing. Install KServe first (https://kserve.github.io/website/), then run this bundle
{{- else if not (lookup "apps/v1" "Deployment" .Values.kserve.namespace .Values.kserve.controller) -}}
KServe's controller is missing: Deployment {{ .Values.kserve.namespace }}/{{ .Values.kserve.controller }} not found. Install KServe first, then run this bundle
{{- else -}}
{{- $cm := lookup "v1" "ConfigMap" .Values.kserve.namespace .Values.kserve.configMap -}}
{{- $ing := index ($cm.data | default dict) "ingress" | default "" -}}
{{- if not $ing -}}
ConfigMap {{ .Values.kserve.namespace }}/{{ .Values.kserve.configMap }} has no "ingress" key: KServe's controller would not start. Reinstall KServe's configuration
{{- else if not (regexMatch "\"ingressGateway\"\\s*:\\s*\"[^\"]+\"" $ing) -}}
the "ingress" JSON of {{ .Values.kserve.namespace }}/{{ .Values.kserve.configMap }} has no ingressGateway (a strategic-merge patch from the guide replaces the whole string): KServe's controller exits with "ingressGateway is required". Put KServe's original ingress JSON back, then run this bundle
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The Kubernetes the requested Gateway API CRDs need: v1.2.1 1.26 (its
     CRDs' CEL rules, x-kubernetes-validations, and the Gateway API's support
     window start there); v1.5.1 1.30 (its safe-upgrades
     ValidatingAdmissionPolicy is admissionregistration.k8s.io/v1, GA and
     served from Kubernetes 1.30). */}}
{{- define "check.kubeVersion" -}}
{{- if and .Capabilities .Values.gatewayApi.install -}}
{{- $v151 := eq .Values.gatewayApi.version "v1.5.1" -}}
{{- $min := ternary "1.30" "1.26" $v151 -}}
{{- if not (semverCompare (printf ">= %s.0-0" $min) .Capabilities.KubeVersion.Version) -}}
the API server is Kubernetes {{ .Capabilities.KubeVersion.Version }}; Gateway API {{ .Values.gatewayApi.version }} needs Kubernetes {{ $min }} or later ({{ if $v151 }}its safe-upgrades ValidatingAdmissionPolicy is admissionregistration.k8s.io/v1, served from 1.30{{ else }}its CRDs' CEL validation rules (x-kubernetes-validations) and the Gateway API's supported versions start at 1.26{{ end }}): upgrade the cluster{{ if $v151 }}, or request gatewayApi.version=v1.2.1{{ end }}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "check.configOwner" -}}
{{- $cm := lookup "v1" "ConfigMap" .Values.kserve.namespace .Values.kserve.configMap -}}
{{- $a := ($cm.metadata | default dict).annotations | default dict -}}
{{- $l := ($cm.metadata | default dict).labels | default dict -}}
{{- if index $a "kubectl.kubernetes.io/last-applied-configuration" -}}
{{ .Values.kserve.namespace }}/{{ .Values.kserve.configMap }} was installed with kubectl apply: the next `kubectl apply -f kserve.yaml` puts the old ingress JSON back; set enableGatewayApi in that file too
{{- else if eq (index $l "app.kubernetes.io/managed-by" | default "") "Helm" -}}
{{ .Values.kserve.namespace }}/{{ .Values.kserve.configMap }} is managed by Helm: the next `helm upgrade` puts the old ingress JSON back; set kserve.controller.gateway.ingressGateway.enableGatewayApi=true there too
{{- else if $cm -}}
{{ .Values.kserve.namespace }}/{{ .Values.kserve.configMap }}: no other owner seen
{{- end -}}
{{- end -}}

{{/* Gateway API v1.5's safe-upgrades policy (binding with Deny) makes the API
     server refuse an update of a standard CRD to an experimental one: an
     experimental stage that would apply over standard CRDs (keepNewer off)
     cannot succeed. */}}
{{- define "check.crds" -}}
{{- $installed := include "gwapi.installed" . -}}
{{- if and (not .Values.gatewayApi.install) (not (lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" "httproutes.gateway.networking.k8s.io")) -}}
gatewayApi.install is false but the HTTPRoute CRD is not installed: KServe's controller would fail to start. Set gatewayApi.install=true or install the Gateway API CRDs first
{{- else if and .Values.gatewayApi.install (eq .Values.gatewayApi.channel "experimental") (eq (include "gwapi.installedChannel" .) "standard") -}}
{{- if eq (include "gwapi.apply" (list . .Values.gatewayApi.version "experimental")) "true" -}}
{{- if lookup "admissionregistration.k8s.io/v1" "ValidatingAdmissionPolicyBinding" "" "safe-upgrades.gateway.networking.k8s.io" -}}
Gateway API {{ $installed }} (standard) is installed and ValidatingAdmissionPolicy safe-upgrades.gateway.networking.k8s.io (Gateway API v1.5's) is bound: the API server refuses experimental CRDs over standard ones ("Installing experimental CRDs on top of standard channel CRDs is prohibited by default"). Keep gatewayApi.channel=standard, or, to switch channels, delete the policy and its binding first (kubectl delete validatingadmissionpolicybinding,validatingadmissionpolicy safe-upgrades.gateway.networking.k8s.io)
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "check.crdsInfo" -}}
{{- $installed := include "gwapi.installed" . -}}
{{- $channel := include "gwapi.installedChannel" . -}}
{{- if not $installed -}}
no Gateway API CRDs installed; {{ if .Values.gatewayApi.install }}{{ .Values.gatewayApi.version }} ({{ .Values.gatewayApi.channel }}) will be{{ else }}none will be installed{{ end }}
{{- else if eq (include "gwapi.kept" .) "newer" -}}
Gateway API {{ $installed }} ({{ $channel }}) installed, newer than the requested {{ .Values.gatewayApi.version }}: kept, never downgraded
{{- else if eq (include "gwapi.kept" .) "channel" -}}
Gateway API {{ $installed }} ({{ $channel | default "no channel" }}) installed, another channel than the requested {{ .Values.gatewayApi.version }} ({{ .Values.gatewayApi.channel }}): kept, CRDs of another release channel are never overwritten (gatewayApi.keepNewer=false to switch)
{{- else -}}
Gateway API {{ $installed }} ({{ $channel }}) installed; {{ if .Values.gatewayApi.install }}{{ .Values.gatewayApi.version }} ({{ .Values.gatewayApi.channel }}) requested{{ else }}kept as is{{ end }}
{{- end -}}
{{- end -}}

{{/* The Gateway API version the cluster will have after this run. */}}
{{- define "gwapi.effective" -}}
{{- $installed := include "gwapi.installed" . -}}
{{- if not .Values.gatewayApi.install -}}{{ $installed }}
{{- else if include "gwapi.kept" . -}}{{ $installed }}
{{- else -}}{{ .Values.gatewayApi.version }}{{- end -}}
{{- end -}}

{{/* Envoy Gateway's version from its controller Deployment's image tag. */}}
{{- define "envoyGateway.version" -}}
{{- $d := lookup "apps/v1" "Deployment" "envoy-gateway-system" "envoy-gateway" -}}
{{- if $d -}}{{- range $d.spec.template.spec.containers -}}{{- if eq .name "envoy-gateway" -}}{{- regexFind "v[0-9]+\\.[0-9]+\\.[0-9]+" .image -}}{{- end -}}{{- end -}}{{- end -}}
{{- end -}}

{{- define "check.envoyGateway" -}}
{{- $eg := include "envoyGateway.version" . | default (ternary .Values.envoyGateway.version "" .Values.envoyGateway.install) -}}
{{- $gw := include "gwapi.effective" . -}}
{{- if and $eg $gw (semverCompare ">= 1.6.0-0" $eg) (semverCompare "< 1.5.0-0" $gw) -}}
Envoy Gateway {{ $eg }} needs Gateway API v1.5 CRDs and crash-loops on {{ $gw }} (it watches ListenerSet and BackendTLSPolicy): use -f values/examples/current-versions.yaml (gatewayApi.version=v1.5.1), or Envoy Gateway v1.3 with v1.2.1
{{- end -}}
{{- end -}}

{{- define "check.envoyGatewayInfo" -}}
{{- $eg := include "envoyGateway.version" . -}}
{{- if $eg -}}Envoy Gateway {{ $eg }} found in envoy-gateway-system{{- else -}}no Envoy Gateway Deployment in envoy-gateway-system (another implementation must serve GatewayClass {{ .Values.gatewayClass.name }}){{- end -}}
{{- end -}}

{{/* The Helm mode: KServe's chart makes its webhook certificate with
     cert-manager (Certificate, Issuer), and lives in namespace kserve. */}}
{{- define "check.helmMode" -}}
{{- if eq .Values.kserve.mode "helm" -}}
{{- if and (eq .Values.kserve.chartVersion "v0.15.2") (ne .Values.kserve.namespace "kserve") -}}
kserve.mode helm installs KServe's v0.15.2 chart in namespace kserve, but kserve.namespace is {{ .Values.kserve.namespace }}: use kserve.chartVersion v0.20.0 (its chart follows kserve.namespace) or the patch mode for KServe elsewhere
{{- else if not (lookup "apiextensions.k8s.io/v1" "CustomResourceDefinition" "" "certificates.cert-manager.io") -}}
kserve.mode helm: KServe's chart needs cert-manager (its webhook Certificate and Issuer), and CRD certificates.cert-manager.io is not installed: install cert-manager first, or use kserve.mode patch
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "check.tlsSecret" -}}
{{- if and .Values.gateway.create .Values.gateway.https.enabled (not .Values.tls.selfSigned.create) -}}
{{- $name := include "tls.secretName" . -}}
{{- $s := lookup "v1" "Secret" .Values.gateway.namespace $name -}}
{{- if not $s -}}
the HTTPS listener needs Secret {{ .Values.gateway.namespace }}/{{ $name }}, which does not exist: the Gateway would never be Programmed. Create it (kubectl -n {{ .Values.gateway.namespace }} create secret tls {{ $name }} --cert=... --key=...), or set tls.selfSigned.create=true, or gateway.https.enabled=false
{{- else if ne $s.type "kubernetes.io/tls" -}}
Secret {{ .Values.gateway.namespace }}/{{ $name }} is of type {{ $s.type }}, not kubernetes.io/tls: the HTTPS listener would be Invalid
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "check.existingGateway" -}}
{{- if not .Values.gateway.create -}}
{{- if not (lookup "gateway.networking.k8s.io/v1" "Gateway" .Values.gateway.namespace .Values.gateway.name) -}}
gateway.create is false but Gateway {{ .Values.gateway.namespace }}/{{ .Values.gateway.name }} does not exist: create it or set gateway.create=true
{{- end -}}
{{- end -}}
{{- end -}}
