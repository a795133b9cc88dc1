{{/*
Helpers of the otel-audit chart. Every helper takes a context with .Values (this chart's values)
and .Release, so that an application's chart can call the sidecar templates with
  (dict "Values" .Values.otelAudit "Release" .Release)
where otelAudit is the alias of the otel-audit dependency. .Chart is not used by anything an
application includes, because there it is the application's chart.
*/}}

{{/* The image tag used when image.tag is empty; a test keeps it equal to Chart.yaml's appVersion. */}}
{{- define "otel-audit.appVersion" -}}
0.1.0
{{- end }}

{{- define "otel-audit.name" -}}
{{- default "otel-audit" .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-otel-audit, or the release name if it already contains the name; at most 63 characters. */}}
{{- define "otel-audit.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := include "otel-audit.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "otel-audit.configMapName" -}}
{{- printf "%s-config" (include "otel-audit.fullname" . | trunc 56 | trimSuffix "-") }}
{{- end }}

{{- define "otel-audit.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "otel-audit.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "otel-audit.selectorLabels" -}}
app.kubernetes.io/name: {{ include "otel-audit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ .Values.mode }}
{{- end }}

{{/* Labels of the objects this chart renders itself (there .Chart is this chart). */}}
{{- define "otel-audit.labels" -}}
helm.sh/chart: {{ printf "otel-audit-%s" .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "otel-audit.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default (include "otel-audit.appVersion" .) | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: otel-audit
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "otel-audit.image" -}}
{{- $repository := required "image.repository is required: push the image built from the otel-audit Dockerfile to your registry and set image.repository" .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (.Values.image.tag | default (include "otel-audit.appVersion" .)) }}
{{- end }}
{{- end }}

{{/* Seconds in an otel-audit duration (250ms, 25s, 2m, 1h; a bare number is milliseconds). */}}
{{- define "otel-audit.durationSeconds" -}}
{{- $d := toString . }}
{{- if hasSuffix "ms" $d }}{{ divf (trimSuffix "ms" $d | float64) 1000 }}
{{- else if hasSuffix "s" $d }}{{ trimSuffix "s" $d | float64 }}
{{- else if hasSuffix "m" $d }}{{ mulf (trimSuffix "m" $d | float64) 60 }}
{{- else if hasSuffix "h" $d }}{{ mulf (trimSuffix "h" $d | float64) 3600 }}
{{- else }}{{ divf ($d | float64) 1000 }}
{{- end }}
{{- end }}

{{- define "otel-audit.storageMaxSize" -}}
{{- if .Values.config.storage.maxSize }}
{{- .Values.config.storage.maxSize }}
{{- else if eq .Values.mode "sidecar" }}
{{- "512MiB" }}
{{- else if eq .Values.mode "retrieval" }}
{{- "1GiB" }}
{{- else }}
{{- "4GiB" }}
{{- end }}
{{- end }}

{{/*
Checks that values fit together (what values.schema.json cannot express). Renders nothing or fails.
*/}}
{{- define "otel-audit.validate" -}}
{{- $v := .Values }}
{{- $_ := include "otel-audit.image" . }}
{{- $e := $v.exporters }}
{{- if not (or $e.file.enabled $e.sapAuditlog.enabled $e.sapAuditlogNg.enabled $e.splunkHec.enabled) }}
{{- fail "enable at least one exporter: exporters.file, exporters.sapAuditlog, exporters.sapAuditlogNg or exporters.splunkHec" }}
{{- end }}
{{- if and $e.sapAuditlogNg.enabled (not $e.sapAuditlogNg.serviceBinding.secretName) }}
{{- fail "exporters.sapAuditlogNg.serviceBinding.secretName is required: the Secret with the auditlog-ng binding (url, region, namespace, cert, key)" }}
{{- end }}
{{- if $e.sapAuditlog.enabled }}
{{- if eq $e.sapAuditlog.credentials "serviceBinding" }}
{{- if not $e.sapAuditlog.serviceBinding.secretName }}
{{- fail "exporters.sapAuditlog.serviceBinding.secretName is required: the Secret of the SAP BTP ServiceBinding for the auditlog service" }}
{{- end }}
{{- else if not $e.sapAuditlog.existingSecret.name }}
{{- fail "exporters.sapAuditlog.existingSecret.name is required with credentials: existingSecret" }}
{{- end }}
{{- end }}
{{- if $e.splunkHec.enabled }}
{{- if not $e.splunkHec.endpoint }}
{{- fail "exporters.splunkHec.endpoint is required, e.g. https://splunk.example.com:8088" }}
{{- end }}
{{- if not $e.splunkHec.tokenSecret.name }}
{{- fail "exporters.splunkHec.tokenSecret.name is required: a Secret holding the HEC token" }}
{{- end }}
{{- end }}
{{- if eq $v.mode "retrieval" }}
{{- $r := $v.retrieval }}
{{- if not $r.systemId }}
{{- fail "retrieval.systemId is required: it names the subaccount (Splunk source, resource of every record)" }}
{{- end }}
{{- if $e.sapAuditlog.enabled }}
{{- fail "exporters.sapAuditlog cannot be enabled in retrieval mode: records retrieved from SAP Audit Log Service would be written back to it" }}
{{- end }}
{{- if $e.sapAuditlogNg.enabled }}
{{- fail "exporters.sapAuditlogNg cannot be enabled in retrieval mode: records retrieved from SAP Audit Log Service would be written back to it" }}
{{- end }}
{{- if eq $r.credentials "serviceBinding" }}
{{- if not $r.serviceBinding.secretName }}
{{- fail "retrieval.serviceBinding.secretName is required: the Secret of the SAP BTP ServiceBinding for the auditlog-management service" }}
{{- end }}
{{- else if not $r.existingSecret.name }}
{{- fail "retrieval.existingSecret.name is required with credentials: existingSecret" }}
{{- end }}
{{- $timeout := include "otel-audit.durationSeconds" $v.config.shutdownTimeout | float64 }}
{{- if lt (float64 $v.terminationGracePeriodSeconds) (addf $timeout 10) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must be at least config.shutdownTimeout + 10 s" $v.terminationGracePeriodSeconds) }}
{{- end }}
{{- end }}
{{- if eq $v.mode "gateway" }}
{{- if not (or $v.gateway.tls.secretName $v.gateway.auth.secretName $v.gateway.insecure) }}
{{- fail "gateway mode listens on all interfaces: set gateway.tls.secretName and/or gateway.auth.secretName, or gateway.insecure=true (e.g. behind a service mesh with mTLS)" }}
{{- end }}
{{- if and $v.gateway.tls.clientCAKey (not $v.gateway.tls.secretName) }}
{{- fail "gateway.tls.clientCAKey needs gateway.tls.secretName" }}
{{- end }}
{{- $timeout := include "otel-audit.durationSeconds" $v.config.shutdownTimeout | float64 }}
{{- $needed := addf $timeout $v.gateway.preStopSleepSeconds 10 }}
{{- if lt (float64 $v.terminationGracePeriodSeconds) $needed }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must be at least gateway.preStopSleepSeconds + config.shutdownTimeout + 10 s (%v), so that the sidecar can finish its shutdown before it is killed" $v.terminationGracePeriodSeconds $needed) }}
{{- end }}
{{- if and $v.autoscaling.enabled (gt (int64 $v.autoscaling.minReplicas) (int64 $v.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not be greater than autoscaling.maxReplicas" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The otel-audit config file as YAML (before extraConfig). Secrets are never written here: they are
referenced as ${env:NAME} and come from Secrets through the container's environment.
*/}}
{{- define "otel-audit.configBase" -}}
{{- $v := .Values }}
{{- $any := ternary (printf "[%s]" $v.listenAddress) $v.listenAddress (contains ":" $v.listenAddress) }}
{{- $host := ternary $any "127.0.0.1" (eq $v.mode "gateway") }}
{{- $exporters := list -}}
{{- $receiver := ternary "sap_auditlog_retrieval" "otlp" (eq $v.mode "retrieval") -}}
receivers:
  {{- if eq $v.mode "retrieval" }}
  {{- with $v.retrieval }}
  sap_auditlog_retrieval:
    {{- if eq .credentials "serviceBinding" }}
    binding: service_binding
    binding_name: {{ .serviceBinding.name | quote }}
    {{- else }}
    binding: config
    url: ${env:SAP_RETRIEVAL_URL}
    uaa:
      clientid: ${env:SAP_RETRIEVAL_UAA_CLIENTID}
      {{- if eq .existingSecret.credentialType "x509" }}
      credential-type: x509
      certurl: ${env:SAP_RETRIEVAL_UAA_CERTURL}
      certificate: ${env:SAP_RETRIEVAL_UAA_CERTIFICATE}
      key: ${env:SAP_RETRIEVAL_UAA_KEY}
      {{- else }}
      url: ${env:SAP_RETRIEVAL_UAA_URL}
      clientsecret: ${env:SAP_RETRIEVAL_UAA_CLIENTSECRET}
      {{- end }}
    {{- end }}
    system_id: {{ .systemId | quote }}
    poll_interval: {{ .pollInterval | quote }}
    ingest_delay: {{ .ingestDelay | quote }}
    overlap: {{ .overlap | quote }}
    start_at: {{ .startAt | quote }}
    categories: {{ toJson .categories }}
    max_requests_per_second: {{ .maxRequestsPerSecond | toJson }}
  {{- end }}
  {{- else }}
  otlp:
    protocols:
      {{- range $protocol, $port := dict "grpc" $v.ports.otlpGrpc "http" $v.ports.otlpHttp }}
      {{ $protocol }}:
        endpoint: {{ printf "%s:%d" $host (int64 $port) | quote }}
        max_request_body_size: {{ int64 $v.config.maxRequestBodySize }}
        {{- if eq $v.mode "gateway" }}
        {{- with $v.gateway.tls.secretName }}
        tls:
          cert_file: /etc/otel-audit/tls/tls.crt
          key_file: /etc/otel-audit/tls/tls.key
          {{- with $v.gateway.tls.clientCAKey }}
          client_ca_file: /etc/otel-audit/tls/{{ . }}
          {{- end }}
        {{- end }}
        {{- if $v.gateway.auth.secretName }}
        auth:
          bearer_tokens_file: /etc/otel-audit/auth/{{ $v.gateway.auth.key }}
        {{- end }}
        {{- if $v.gateway.insecure }}
        insecure: true
        {{- end }}
        {{- end }}
      {{- end }}
  {{- end }}
exporters:
  {{- with $v.exporters.file }}
  {{- if .enabled }}
  {{- $exporters = append $exporters "file" }}
  file:
    path: {{ .path | quote }}
    rotation:
      max_megabytes: {{ .rotation.maxMegabytes | toJson }}
      max_backups: {{ int64 .rotation.maxBackups }}
      max_days: {{ .rotation.maxDays | toJson }}
  {{- end }}
  {{- end }}
  {{- with $v.exporters.sapAuditlog }}
  {{- if .enabled }}
  {{- $exporters = append $exporters "sap_auditlog" }}
  sap_auditlog:
    {{- if eq .credentials "serviceBinding" }}
    binding: service_binding
    binding_name: {{ .serviceBinding.name | quote }}
    {{- else }}
    binding: config
    url: ${env:SAP_AUDITLOG_URL}
    uaa:
      clientid: ${env:SAP_AUDITLOG_UAA_CLIENTID}
      {{- if eq .existingSecret.credentialType "x509" }}
      credential-type: x509
      certurl: ${env:SAP_AUDITLOG_UAA_CERTURL}
      certificate: ${env:SAP_AUDITLOG_UAA_CERTIFICATE}
      key: ${env:SAP_AUDITLOG_UAA_KEY}
      {{- else }}
      url: ${env:SAP_AUDITLOG_UAA_URL}
      clientsecret: ${env:SAP_AUDITLOG_UAA_CLIENTSECRET}
      {{- end }}
    {{- end }}
    max_concurrency: {{ int64 .maxConcurrency }}
  {{- end }}
  {{- end }}
  {{- with $v.exporters.sapAuditlogNg }}
  {{- if .enabled }}
  {{- $exporters = append $exporters "sap_auditlog_ng" }}
  sap_auditlog_ng:
    binding: service_binding
    binding_name: {{ .serviceBinding.name | quote }}
    format: {{ .format }}
    {{- with .endpoint }}
    endpoint: {{ . | quote }}
    {{- end }}
    {{- with .tenantId }}
    tenant_id: {{ . | quote }}
    {{- end }}
    {{- with .appId }}
    app_id: {{ . | quote }}
    {{- end }}
  {{- end }}
  {{- end }}
  {{- with $v.exporters.splunkHec }}
  {{- if .enabled }}
  {{- $exporters = append $exporters "splunk_hec" }}
  splunk_hec:
    endpoint: {{ .endpoint | quote }}
    token_file: /etc/otel-audit/splunk-token/{{ .tokenSecret.key }}
    {{- with .index }}
    index: {{ . | quote }}
    {{- end }}
    {{- with .sourcetype }}
    sourcetype: {{ . | quote }}
    {{- end }}
    {{- with .source }}
    source: {{ . | quote }}
    {{- end }}
    ack: {{ .ack }}
    {{- if or .tls.caSecret.name .tls.insecureSkipVerify }}
    tls:
      {{- with .tls.caSecret.name }}
      ca_file: /etc/otel-audit/splunk-ca/{{ $v.exporters.splunkHec.tls.caSecret.key }}
      {{- end }}
      {{- if .tls.insecureSkipVerify }}
      insecure_skip_verify: true
      {{- end }}
    {{- end }}
  {{- end }}
  {{- end }}
extensions:
  storage:
    directory: /var/lib/otel-audit/spool
    max_size: {{ include "otel-audit.storageMaxSize" . }}
    segment_size: {{ $v.config.storage.segmentSize }}
    fsync: {{ $v.config.storage.fsync }}
service:
  shutdown_timeout: {{ $v.config.shutdownTimeout }}
  telemetry:
    address: {{ printf "%s:%d" $any (int64 $v.ports.metrics) | quote }}
    logs:
      level: {{ $v.config.logLevel }}
  pipelines:
    audit:
      receivers: [{{ $receiver }}]
      exporters: {{ toJson $exporters }}
{{- end }}

{{/* The final config.yaml: configBase with extraConfig merged over it. */}}
{{- define "otel-audit.configYaml" -}}
{{- $config := include "otel-audit.configBase" . | fromYaml }}
{{- if hasKey $config "Error" }}
{{- fail (printf "internal error: the generated config is not YAML: %s" $config.Error) }}
{{- end }}
{{- $config = mergeOverwrite $config (deepCopy (.Values.extraConfig | default dict)) }}
{{- toYaml $config }}
{{- end }}

{{/* sha256 of config.yaml, for the checksum/config pod annotation (pods roll when it changes). */}}
{{- define "otel-audit.configChecksum" -}}
{{- include "otel-audit.configYaml" . | sha256sum }}
{{- end }}

{{- define "otel-audit.env" -}}
{{- $e := .Values.exporters }}
{{- with (get (dict "sidecar" .Values.sidecar.nodeOptions "gateway" .Values.gateway.nodeOptions) .Values.mode) }}
- name: NODE_OPTIONS
  value: {{ . | quote }}
{{- end }}
{{- if eq .Values.mode "retrieval" }}
{{- $r := .Values.retrieval }}
{{- if eq $r.credentials "serviceBinding" }}
- name: SERVICE_BINDING_ROOT
  value: /bindings
{{- else }}
{{- $s := $r.existingSecret }}
{{- $vars := dict "SAP_RETRIEVAL_URL" $s.keys.url "SAP_RETRIEVAL_UAA_CLIENTID" $s.keys.clientid }}
{{- if eq $s.credentialType "x509" }}
{{- $_ := set $vars "SAP_RETRIEVAL_UAA_CERTURL" $s.keys.certurl }}
{{- $_ := set $vars "SAP_RETRIEVAL_UAA_CERTIFICATE" $s.keys.certificate }}
{{- $_ := set $vars "SAP_RETRIEVAL_UAA_KEY" $s.keys.key }}
{{- else }}
{{- $_ := set $vars "SAP_RETRIEVAL_UAA_URL" $s.keys.uaaUrl }}
{{- $_ := set $vars "SAP_RETRIEVAL_UAA_CLIENTSECRET" $s.keys.clientsecret }}
{{- end }}
{{- range $name := keys $vars | sortAlpha }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $s.name }}
      key: {{ get $vars $name }}
{{- end }}
{{- end }}
{{- end }}
{{- if and $e.sapAuditlogNg.enabled (not (and $e.sapAuditlog.enabled (eq $e.sapAuditlog.credentials "serviceBinding"))) (ne .Values.mode "retrieval") }}
- name: SERVICE_BINDING_ROOT
  value: /bindings
{{- end }}
{{- if $e.sapAuditlog.enabled }}
{{- if eq $e.sapAuditlog.credentials "serviceBinding" }}
- name: SERVICE_BINDING_ROOT
  value: /bindings
{{- else }}
{{- $s := $e.sapAuditlog.existingSecret }}
{{- $vars := dict "SAP_AUDITLOG_URL" $s.keys.url "SAP_AUDITLOG_UAA_CLIENTID" $s.keys.clientid }}
{{- if eq $s.credentialType "x509" }}
{{- $_ := set $vars "SAP_AUDITLOG_UAA_CERTURL" $s.keys.certurl }}
{{- $_ := set $vars "SAP_AUDITLOG_UAA_CERTIFICATE" $s.keys.certificate }}
{{- $_ := set $vars "SAP_AUDITLOG_UAA_KEY" $s.keys.key }}
{{- else }}
{{- $_ := set $vars "SAP_AUDITLOG_UAA_URL" $s.keys.uaaUrl }}
{{- $_ := set $vars "SAP_AUDITLOG_UAA_CLIENTSECRET" $s.keys.clientsecret }}
{{- end }}
{{- range $name := keys $vars | sortAlpha }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $s.name }}
      key: {{ get $vars $name }}
{{- end }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volumes other than the spool volume; names are prefixed so they do not clash in an app's pod. */}}
{{- define "otel-audit.volumes" -}}
{{- $v := .Values -}}
- name: otel-audit-config
  configMap:
    name: {{ include "otel-audit.configMapName" . }}
- name: otel-audit-tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if eq $v.mode "gateway" }}
{{- with $v.gateway.tls.secretName }}
- name: otel-audit-tls
  secret:
    secretName: {{ . }}
{{- end }}
{{- with $v.gateway.auth.secretName }}
- name: otel-audit-auth
  secret:
    secretName: {{ . }}
{{- end }}
{{- end }}
{{- if and $v.exporters.sapAuditlog.enabled (eq $v.exporters.sapAuditlog.credentials "serviceBinding") }}
- name: otel-audit-sap-binding
  secret:
    secretName: {{ $v.exporters.sapAuditlog.serviceBinding.secretName }}
{{- end }}
{{- if $v.exporters.sapAuditlogNg.enabled }}
- name: otel-audit-sap-ng-binding
  secret:
    secretName: {{ $v.exporters.sapAuditlogNg.serviceBinding.secretName }}
{{- end }}
{{- if and (eq $v.mode "retrieval") (eq $v.retrieval.credentials "serviceBinding") }}
- name: otel-audit-retrieval-binding
  secret:
    secretName: {{ $v.retrieval.serviceBinding.secretName }}
{{- end }}
{{- if $v.exporters.splunkHec.enabled }}
- name: otel-audit-splunk-token
  secret:
    secretName: {{ $v.exporters.splunkHec.tokenSecret.name }}
{{- end }}
{{- if and $v.exporters.splunkHec.enabled $v.exporters.splunkHec.tls.caSecret.name }}
- name: otel-audit-splunk-ca
  secret:
    secretName: {{ $v.exporters.splunkHec.tls.caSecret.name }}
{{- end }}
{{- with $v.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "otel-audit.volumeMounts" -}}
{{- $v := .Values -}}
- name: otel-audit-config
  mountPath: /etc/otel-audit/config
  readOnly: true
- name: otel-audit-tmp
  mountPath: /tmp
{{- if and (eq $v.mode "sidecar") $v.sidecar.storage.existingVolume }}
- name: {{ $v.sidecar.storage.existingVolume }}
  mountPath: /var/lib/otel-audit
  {{- with $v.sidecar.storage.subPath }}
  subPath: {{ . }}
  {{- end }}
{{- else }}
- name: otel-audit-data
  mountPath: /var/lib/otel-audit
{{- end }}
{{- if eq $v.mode "gateway" }}
{{- if $v.gateway.tls.secretName }}
- name: otel-audit-tls
  mountPath: /etc/otel-audit/tls
  readOnly: true
{{- end }}
{{- if $v.gateway.auth.secretName }}
- name: otel-audit-auth
  mountPath: /etc/otel-audit/auth
  readOnly: true
{{- end }}
{{- end }}
{{- if and $v.exporters.sapAuditlog.enabled (eq $v.exporters.sapAuditlog.credentials "serviceBinding") }}
- name: otel-audit-sap-binding
  mountPath: /bindings/{{ $v.exporters.sapAuditlog.serviceBinding.name }}
  readOnly: true
{{- end }}
{{- if $v.exporters.sapAuditlogNg.enabled }}
- name: otel-audit-sap-ng-binding
  mountPath: /bindings/{{ $v.exporters.sapAuditlogNg.serviceBinding.name }}
  readOnly: true
{{- end }}
{{- if and (eq $v.mode "retrieval") (eq $v.retrieval.credentials "serviceBinding") }}
- name: otel-audit-retrieval-binding
  mountPath: /bindings/{{ $v.retrieval.serviceBinding.name }}
  readOnly: true
{{- end }}
{{- if $v.exporters.splunkHec.enabled }}
- name: otel-audit-splunk-token
  mountPath: /etc/otel-audit/splunk-token
  readOnly: true
{{- end }}
{{- if and $v.exporters.splunkHec.enabled $v.exporters.splunkHec.tls.caSecret.name }}
- name: otel-audit-splunk-ca
  mountPath: /etc/otel-audit/splunk-ca
  readOnly: true
{{- end }}
{{- with $v.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The otel-audit container, for the gateway's pod and (as a native sidecar) for an app's pod. */}}
{{- define "otel-audit.container" -}}
{{- $v := .Values }}
{{- $sidecar := eq $v.mode "sidecar" -}}
name: {{ ternary $v.sidecar.containerName "otel-audit" $sidecar }}
image: {{ include "otel-audit.image" . }}
imagePullPolicy: {{ $v.image.pullPolicy }}
args:
  - run
  - --config
  - /etc/otel-audit/config/config.yaml
{{- if $sidecar }}
restartPolicy: Always
{{- end }}
ports:
  {{- if eq $v.mode "gateway" }}
  - name: otlp-grpc
    containerPort: {{ int64 $v.ports.otlpGrpc }}
    protocol: TCP
  - name: otlp-http
    containerPort: {{ int64 $v.ports.otlpHttp }}
    protocol: TCP
  {{- end }}
  - name: {{ ternary "audit-metrics" "metrics" $sidecar }}
    containerPort: {{ int64 $v.ports.metrics }}
    protocol: TCP
{{- with (include "otel-audit.env" . | fromYamlArray) }}
env:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.probes }}
startupProbe:
  httpGet:
    path: /healthz
    port: {{ int64 $v.ports.metrics }}
  periodSeconds: {{ int64 .startup.periodSeconds }}
  timeoutSeconds: {{ int64 .startup.timeoutSeconds }}
  failureThreshold: {{ int64 .startup.failureThreshold }}
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ int64 $v.ports.metrics }}
  periodSeconds: {{ int64 .liveness.periodSeconds }}
  timeoutSeconds: {{ int64 .liveness.timeoutSeconds }}
  failureThreshold: {{ int64 .liveness.failureThreshold }}
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ int64 $v.ports.metrics }}
  periodSeconds: {{ int64 .readiness.periodSeconds }}
  timeoutSeconds: {{ int64 .readiness.timeoutSeconds }}
  failureThreshold: {{ int64 .readiness.failureThreshold }}
{{- end }}
{{- if and (eq $v.mode "gateway") $v.gateway.preStopSleepSeconds }}
lifecycle:
  preStop:
    {{- if semverCompare ">=1.30-0" .Capabilities.KubeVersion.Version }}
    sleep:
      seconds: {{ int64 $v.gateway.preStopSleepSeconds }}
    {{- else }}
    exec:
      command: [sleep, {{ int64 $v.gateway.preStopSleepSeconds | quote }}]
    {{- end }}
{{- end }}
resources:
  {{- toYaml (ternary $v.sidecar.resources $v.resources $sidecar) | nindent 2 }}
securityContext:
  {{- toYaml $v.securityContext | nindent 2 }}
volumeMounts:
  {{- include "otel-audit.volumeMounts" . | nindent 2 }}
{{- end }}

{{/*
========================================================================================
Templates for an application's chart (sidecar mode). Call each with
  (dict "Values" .Values.otelAudit "Release" .Release)

  template:
    metadata:
      annotations:
        {{- include "otel-audit.sidecar.annotations" $otelAudit | nindent 8 }}
    spec:
      initContainers:
        {{- include "otel-audit.sidecar" $otelAudit | nindent 8 }}
      containers:
        - name: app
          env:
            - name: OTEL_EXPORTER_OTLP_ENDPOINT
              value: {{ include "otel-audit.sidecar.otlpEndpoint" $otelAudit }}
      volumes:
        {{- include "otel-audit.sidecar.volumes" $otelAudit | nindent 8 }}
========================================================================================
*/}}

{{/* One list item for initContainers: otel-audit as a native sidecar (restartPolicy: Always, K8s >= 1.29). */}}
{{- define "otel-audit.sidecar" -}}
{{- if ne .Values.mode "sidecar" }}
{{- fail "otel-audit.sidecar is for mode: sidecar; set mode: sidecar in the otel-audit values" }}
{{- end }}
{{- include "otel-audit.validate" . -}}
- {{ include "otel-audit.container" . | nindent 2 | trim }}
{{- end }}

{{/* List items for volumes: the config, a scratch /tmp, the spool volume and any secrets. */}}
{{- define "otel-audit.sidecar.volumes" -}}
{{- include "otel-audit.volumes" . }}
{{- if not .Values.sidecar.storage.existingVolume }}
- name: otel-audit-data
  {{- toYaml .Values.sidecar.storage.volume | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pod annotations: restart the pods when the otel-audit config changes. */}}
{{- define "otel-audit.sidecar.annotations" -}}
checksum/otel-audit-config: {{ include "otel-audit.configChecksum" . }}
{{- end }}

{{/* The value for the app's OTEL_EXPORTER_OTLP_ENDPOINT (OTLP/HTTP on the pod's loopback). */}}
{{- define "otel-audit.sidecar.otlpEndpoint" -}}
{{- printf "http://127.0.0.1:%d" (int64 .Values.ports.otlpHttp) }}
{{- end }}
