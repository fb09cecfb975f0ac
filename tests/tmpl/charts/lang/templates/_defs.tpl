{{- define "lang.item" -}}
- name: {{ .name | default "unnamed" }}
  port: {{ .port | default 0 }}
  {{- with .tags }}
  tags: {{ join "," . }}
  {{- end }}
{{- end -}}
{{- define "lang.recurse" -}}
{{- if gt (int .n) 0 -}}{{ .n }},{{ include "lang.recurse" (dict "n" (sub .n 1)) }}{{- end -}}
{{- end -}}
{{- define "lang.block" }}block-default{{ end -}}
