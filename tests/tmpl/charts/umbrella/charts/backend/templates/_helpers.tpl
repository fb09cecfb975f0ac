{{- define "common.labels" -}}
overridden-by-parent: "false"
{{- end -}}
{{- define "backend.name" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}
