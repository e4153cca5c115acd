{{/*
Checks of values that JSON Schema can only refuse with a pattern; here the message names the value, what
was given and the fix. Called once, from deployment.yaml, before anything is rendered.
*/}}
{{- define "cutover.validate" -}}
{{- $address := .Values.temporal.address }}
{{- if regexMatch "^[a-zA-Z][a-zA-Z0-9+.-]*://" $address }}
{{- fail (printf "temporal.address must be host:port without a scheme (e.g. temporal.example.com:7233), got '%s'" $address) }}
{{- end }}
{{- if not (regexMatch "^(\\[[0-9a-fA-F:.]+\\]|[^:/\\s\\[\\]]+):[0-9]{1,5}$" $address) }}
{{- fail (printf "temporal.address must be host:port (e.g. temporal-frontend.temporal:7233), got '%s'" $address) }}
{{- end }}
{{- $url := .Values.prometheus.url }}
{{- if not (regexMatch "^https?://[^\\s/]+" $url) }}
{{- fail (printf "prometheus.url must be an http(s) URL (e.g. http://prometheus.monitoring:9090), got '%s'" $url) }}
{{- end }}
{{- with .Values.temporal.uiUrl }}
{{- if not (regexMatch "^https?://[^\\s/]+" .) }}
{{- fail (printf "temporal.uiUrl must be an http(s) URL (e.g. https://temporal.example.com), or '' for alerts without a link, got '%s'" .) }}
{{- end }}
{{- end }}
{{- $label := "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$" }}
{{- with .Values.watchNamespace }}
{{- if not (regexMatch $label .) }}
{{- fail (printf "watchNamespace must be a namespace name (lowercase letters, digits, '-'), or '' to watch every namespace, got '%s'" .) }}
{{- end }}
{{- end }}
{{- with .Values.grafana.dashboard.namespace }}
{{- if not (regexMatch $label .) }}
{{- fail (printf "grafana.dashboard.namespace must be a namespace name (lowercase letters, digits, '-'), or '' for the release's, got '%s'" .) }}
{{- end }}
{{- end }}
{{- $subdomain := "^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$" }}
{{- range $value, $name := dict "temporal.tls.secretName" .Values.temporal.tls.secretName "temporal.apiKey.secretName" .Values.temporal.apiKey.secretName "serviceAccount.name" .Values.serviceAccount.name "payloadEncryption.secretName" .Values.payloadEncryption.secretName "payloadEncryption.codecServer.tokenSecretName" .Values.payloadEncryption.codecServer.tokenSecretName }}
{{- if and $name (not (regexMatch $subdomain $name)) }}
{{- fail (printf "%s must be a Kubernetes object name (lowercase letters, digits, '-', '.'), got '%s'" $value $name) }}
{{- end }}
{{- end }}
{{- $tls := .Values.temporal.tls }}
{{- if and $tls.secretName (ne (empty $tls.certKey) (empty $tls.keyKey)) }}
{{- fail "temporal.tls.certKey and temporal.tls.keyKey go together: set both (mTLS) or set both to '' (no client certificate)" }}
{{- end }}
{{- if and $tls.secretName (empty $tls.certKey) (empty $tls.caKey) }}
{{- fail "temporal.tls.secretName is set but certKey, keyKey and caKey are all '': name the Secret's keys, or unset temporal.tls.secretName and set temporal.tls.enabled=true for TLS with the system's CAs" }}
{{- end }}
{{- $payload := .Values.payloadEncryption }}
{{- if and $payload.codecServer.enabled (not $payload.secretName) }}
{{- fail "payloadEncryption.codecServer.enabled needs the key ring: set payloadEncryption.secretName to the Secret that holds it" }}
{{- end }}
{{- end -}}
