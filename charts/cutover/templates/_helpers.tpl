{{/* Names, labels and the worker's RBAC rules, shared by the templates. */}}

{{- define "cutover.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name: the release name alone when it already contains the chart's name. */}}
{{- define "cutover.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cutover.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cutover.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: worker
{{- end -}}

{{- define "cutover.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cutover.selectorLabels" . }}
app.kubernetes.io/version: {{ include "cutover.imageTag" . | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cutover
{{- end -}}

{{- define "cutover.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cutover.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cutover.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{/*
What the worker does in the namespaces it watches, and nothing more: the rules of the ClusterRole in
deploy/base/rbac.yaml (files/worker-rbac.yaml links to it), so that the chart and the kustomize base grant
the same; test/unit/deploy/manifests.ts names the call behind each rule. None is cluster-scoped, so a
Role in the watched namespace is enough.
*/}}
{{- define "cutover.workerRules" -}}
{{- $rules := list }}
{{- range $doc := splitList "\n---" (.Files.Get "files/worker-rbac.yaml") }}
{{- $object := fromYaml $doc }}
{{- if eq (toString $object.kind) "ClusterRole" }}
{{- $rules = $object.rules }}
{{- end }}
{{- end }}
{{- if empty $rules }}
{{- fail "files/worker-rbac.yaml (a link to deploy/base/rbac.yaml) has no ClusterRole with rules" }}
{{- end }}
{{- toYaml $rules }}
{{- end -}}
