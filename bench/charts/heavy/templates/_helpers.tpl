{{- define "heavy.name" -}}{{ default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}{{- end }}
{{- define "heavy.fullname" -}}
{{- $name := include "heavy.name" . -}}
{{- if contains $name .Release.Name }}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{ else }}{{ printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}{{ end -}}
{{- end }}
{{- define "heavy.componentName" -}}{{ printf "%s-%s" (include "heavy.fullname" .root) .name | trunc 63 | trimSuffix "-" }}{{- end }}
{{- define "heavy.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{ include "heavy.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- range $k, $v := .root.Values.global.labels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- with .comp.extraLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- define "heavy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "heavy.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}
{{- define "heavy.image" -}}
{{- $tag := .comp.image.tag | default .root.Chart.AppVersion -}}
{{ printf "%s/%s:%s" .root.Values.global.registry .comp.image.repository $tag }}
{{- end }}
{{- define "heavy.env" -}}
{{- range .comp.env }}
- name: {{ .name }}
  value: {{ tpl .value $.root | quote }}
{{- end }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}
{{- define "heavy.probe" -}}
httpGet:
  path: {{ .path }}
  port: http
initialDelaySeconds: {{ .delay | default 5 }}
periodSeconds: 10
{{- end }}
