{{- define "common.labels" -}}
app.kubernetes.io/part-of: {{ .Release.Name }}
team: {{ .Values.global.labels.team }}
{{- end -}}
