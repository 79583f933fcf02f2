{{/*
Names and labels shared by the templates. Selectors carry the release (instance) so that two
releases in one namespace never select each other's pods; everything else matches the
kustomize base's labels (app.kubernetes.io/name, component, part-of).
*/}}

{{/* The name prefix: fullnameOverride, else the release name when it starts with "sluice",
else "<release>-sluice". 52 characters leave room for "-master" within DNS's 63. */}}
{{- define "sluice.fullname" -}}
{{- $name := ternary .Release.Name (printf "%s-sluice" .Release.Name) (hasPrefix "sluice" .Release.Name) -}}
{{- .Values.fullnameOverride | default $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of one component: (dict "ctx" $ "component" "master") */}}
{{- define "sluice.selector" -}}
app.kubernetes.io/name: sluice
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{/* Labels of every object: the selector's, part-of as the kustomize base adds it, and Helm's. */}}
{{- define "sluice.labels" -}}
{{ include "sluice.selector" . }}
app.kubernetes.io/part-of: sluice
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* A container image: repository:tag, or repository:tag@sha256:... */}}
{{- define "sluice.image" -}}
{{- printf "%s:%s" .repository (.tag | toString) -}}
{{- end -}}

{{/* The pod securityContext of both programs: the "restricted" Pod Security Standard. */}}
{{- define "sluice.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The container securityContext of both programs. */}}
{{- define "sluice.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
{{- end -}}

{{/* Probes of both programs on their named port "http": open even when reads are protected. */}}
{{- define "sluice.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 2
  failureThreshold: 30
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 3
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
{{- end -}}

{{/* Environment of both programs: their secrets as files of the existing Secret
(SLUICE_*_FILE), and the AWS keys as the SDK's usual variables, optional (IRSA needs none).
(dict "ctx" $ "files" (list "SLUICE_API_TOKEN" ...)) */}}
{{- define "sluice.secretEnv" -}}
{{- $secret := .ctx.Values.secrets.existingSecret -}}
{{- range .files }}
- name: {{ . }}_FILE
  value: /etc/sluice/secrets/{{ . }}
{{- end }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: AWS_ACCESS_KEY_ID
      optional: true
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: AWS_SECRET_ACCESS_KEY
      optional: true
{{- end -}}

{{/* The secret files every program reads; the master adds its tokens. */}}
{{- define "sluice.commonSecretFiles" -}}
{{- $files := list "SLUICE_ZOOKEEPER_DIGEST" "SLUICE_REDIS_URL" -}}
{{- if .Values.secrets.kafkaSaslPassword }}{{ $files = append $files "SLUICE_KAFKA_SASL_PASSWORD" }}{{ end -}}
{{- toJson $files -}}
{{- end -}}

{{/* Environment of both programs for TLS files of existing Secrets (kafkaTls, redisTls):
each key given becomes its SLUICE_*_FILE setting, and kafkaTls turns SLUICE_KAFKA_SSL on (the
programs refuse TLS files without it). Nothing when no Secret is named. */}}
{{- define "sluice.tlsEnv" -}}
{{- $k := .Values.kafkaTls -}}
{{- if $k.existingSecret }}
- name: SLUICE_KAFKA_SSL
  value: "true"
{{- range $setting, $key := dict "SLUICE_KAFKA_SSL_CA_FILE" $k.caKey "SLUICE_KAFKA_SSL_CERT_FILE" $k.certKey "SLUICE_KAFKA_SSL_KEY_FILE" $k.keyKey }}
{{- if $key }}
- name: {{ $setting }}
  value: /etc/sluice/kafka-tls/{{ $key }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.redisTls }}
{{- if and .existingSecret .caKey }}
- name: SLUICE_REDIS_TLS_CA_FILE
  value: /etc/sluice/redis-tls/{{ .caKey }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Volumes of both programs: a writable /tmp (the root filesystem is read-only), the
Secret's keys as files readable by the pod's group only, and the TLS Secrets when named. */}}
{{- define "sluice.volumes" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  - name: secrets
    mountPath: /etc/sluice/secrets
    readOnly: true
  {{- if .Values.kafkaTls.existingSecret }}
  - name: kafka-tls
    mountPath: /etc/sluice/kafka-tls
    readOnly: true
  {{- end }}
  {{- if .Values.redisTls.existingSecret }}
  - name: redis-tls
    mountPath: /etc/sluice/redis-tls
    readOnly: true
  {{- end }}
{{- end -}}
{{- define "sluice.podVolumes" -}}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
  - name: secrets
    secret:
      secretName: {{ .Values.secrets.existingSecret }}
      defaultMode: 0440
  {{- with .Values.kafkaTls.existingSecret }}
  - name: kafka-tls
    secret:
      secretName: {{ . }}
      defaultMode: 0440
  {{- end }}
  {{- with .Values.redisTls.existingSecret }}
  - name: redis-tls
    secret:
      secretName: {{ . }}
      defaultMode: 0440
  {{- end }}
{{- end -}}
