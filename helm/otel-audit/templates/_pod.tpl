{{/* The pod template of the gateway (Deployment or StatefulSet) and of the retrieval Deployment. */}}
{{- define "otel-audit.podTemplate" -}}
{{- $v := .Values -}}
metadata:
  labels:
    {{- include "otel-audit.selectorLabels" . | nindent 4 }}
    {{- with $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include "otel-audit.configChecksum" . }}
    {{- with $v.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "otel-audit.serviceAccountName" . }}
  automountServiceAccountToken: false
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  terminationGracePeriodSeconds: {{ int64 $v.terminationGracePeriodSeconds }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  containers:
    - {{ include "otel-audit.container" . | nindent 6 | trim }}
  volumes:
    {{- include "otel-audit.volumes" . | nindent 4 }}
    {{- if not $v.persistence.enabled }}
    - name: otel-audit-data
      emptyDir:
        sizeLimit: {{ $v.persistence.emptyDirSizeLimit }}
    {{- else if eq $v.mode "retrieval" }}
    - name: otel-audit-data
      persistentVolumeClaim:
        claimName: {{ include "otel-audit.fullname" . }}-data
    {{- end }}
  {{- with $v.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
