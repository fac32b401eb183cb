{{- define "gosysdig.name" -}}{{ .Release.Name }}{{- end -}}
{{- define "gosysdig.labels" -}}
app.kubernetes.io/name: gosysdig
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- define "gosysdig.selector" -}}
app.kubernetes.io/name: gosysdig
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
