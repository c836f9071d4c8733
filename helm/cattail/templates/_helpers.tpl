{{/* Names, labels and the values every component shares. */}}

{{- define "cattail.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cattail.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: include "cattail.selector" (list . "typha") */}}
{{- define "cattail.selector" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ $root.Chart.Name }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "cattail.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "cattail.typha.name" -}}{{ include "cattail.fullname" . }}-typha{{- end -}}
{{- define "cattail.node.name" -}}{{ include "cattail.fullname" . }}-node{{- end -}}
{{- define "cattail.kubeControllers.name" -}}{{ include "cattail.fullname" . }}-kube-controllers{{- end -}}

{{/* The Service port name agents look up in the EndpointSlices (typha/src/client/k8s-discovery.ts). */}}
{{- define "cattail.typha.portName" -}}cattail-typha{{- end -}}

{{/* The rule of thumb: one Typha per 200 nodes, plus two (so never fewer than three). */}}
{{- define "cattail.typha.replicas" -}}
{{- if kindIs "invalid" .Values.typha.replicas -}}
{{- add (div (add .Values.typha.expectedNodes 199) 200) 2 -}}
{{- else -}}
{{- .Values.typha.replicas -}}
{{- end -}}
{{- end -}}

{{/* Secret names of the Typha TLS material: the user's, else the generated ones. */}}
{{- define "cattail.typha.tlsSecret" -}}{{ .Values.tls.typhaSecretName | default (printf "%s-tls" (include "cattail.typha.name" .)) }}{{- end -}}
{{- define "cattail.node.tlsSecret" -}}{{ .Values.tls.nodeSecretName | default (printf "%s-tls" (include "cattail.node.name" .)) }}{{- end -}}

{{/* The datastore type under the components' own spelling (TYPHA_DATASTORETYPE, the CNI conflist). */}}
{{- define "cattail.datastoreType" -}}
{{- if eq .Values.datastore "etcd" }}etcdv3{{ else }}kubernetes{{ end -}}
{{- end -}}

{{/* etcd client settings for a container: env PREFIX with file paths under /etc/cattail/etcd. */}}
{{- define "cattail.etcdEnv" -}}
{{- $root := index . 0 -}}
{{- $prefix := index . 1 -}}
{{- if eq $root.Values.datastore "etcd" }}
- name: {{ $prefix }}ENDPOINTS
  value: {{ join "," $root.Values.etcd.endpoints | quote }}
{{- if $root.Values.etcd.tls.secretName }}
- name: {{ $prefix }}CAFILE
  value: /etc/cattail/etcd/ca.crt
- name: {{ $prefix }}CERTFILE
  value: /etc/cattail/etcd/tls.crt
- name: {{ $prefix }}KEYFILE
  value: /etc/cattail/etcd/tls.key
{{- end }}
{{- end }}
{{- end -}}

{{/* The datastore under calicoctl's variable names (DATASTORE_TYPE, ETCD_*), as the cattail CLI,
kube-controllers and node init read it; on the Kubernetes datastore the pod's ServiceAccount. */}}
{{- define "cattail.datastoreEnv" -}}
- name: DATASTORE_TYPE
  value: {{ include "cattail.datastoreType" . }}
{{- if eq .Values.datastore "etcd" }}
- name: ETCD_ENDPOINTS
  value: {{ join "," .Values.etcd.endpoints | quote }}
{{- if .Values.etcd.tls.secretName }}
- name: ETCD_CA_CERT_FILE
  value: /etc/cattail/etcd/ca.crt
- name: ETCD_CERT_FILE
  value: /etc/cattail/etcd/tls.crt
- name: ETCD_KEY_FILE
  value: /etc/cattail/etcd/tls.key
{{- end }}
{{- end }}
{{- end -}}

{{- define "cattail.etcdVolumeMount" -}}
{{- if and (eq .Values.datastore "etcd") .Values.etcd.tls.secretName }}
- name: etcd-tls
  mountPath: /etc/cattail/etcd
  readOnly: true
{{- end }}
{{- end -}}

{{- define "cattail.etcdVolume" -}}
{{- if and (eq .Values.datastore "etcd") .Values.etcd.tls.secretName }}
- name: etcd-tls
  secret:
    secretName: {{ .Values.etcd.tls.secretName }}
    defaultMode: 0400
{{- end }}
{{- end -}}

{{/* Extra NAME: value settings from values, as env entries. */}}
{{- define "cattail.extraEnv" -}}
{{- range $k, $v := . }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/* The node start-up's settings under calico/node's names (startup/src/config.ts). */}}
{{- define "cattail.node.startupEnv" -}}
{{- $n := .Values.node -}}
{{- $v4 := .Values.ipPools.ipv4 -}}
{{- $v6 := .Values.ipPools.ipv6 -}}
- name: IP
  value: {{ $n.ip | quote }}
- name: IP_AUTODETECTION_METHOD
  value: {{ $n.ipAutodetectionMethod | quote }}
- name: IP6
  value: {{ $n.ip6 | quote }}
- name: IP6_AUTODETECTION_METHOD
  value: {{ $n.ip6AutodetectionMethod | quote }}
{{- if $n.asNumber }}
- name: AS
  value: {{ $n.asNumber | quote }}
{{- end }}
- name: CALICO_NETWORKING_BACKEND
  value: {{ $n.networkingBackend }}
- name: CLUSTER_TYPE
  value: k8s,bgp
- name: CALICO_IPV4POOL_CIDR
  value: {{ ternary $v4.cidr "none" $v4.enabled | quote }}
- name: CALICO_IPV4POOL_BLOCK_SIZE
  value: {{ $v4.blockSize | quote }}
- name: CALICO_IPV4POOL_VXLAN
  value: {{ $v4.vxlanMode }}
- name: CALICO_IPV4POOL_NAT_OUTGOING
  value: {{ $v4.natOutgoing | quote }}
- name: CALICO_IPV4POOL_NODE_SELECTOR
  value: {{ $v4.nodeSelector | quote }}
- name: FELIX_IPV6SUPPORT
  value: {{ $v6.enabled | quote }}
{{- if $v6.enabled }}
- name: CALICO_IPV6POOL_CIDR
  value: {{ $v6.cidr | quote }}
- name: CALICO_IPV6POOL_BLOCK_SIZE
  value: {{ $v6.blockSize | quote }}
- name: CALICO_IPV6POOL_VXLAN
  value: {{ $v6.vxlanMode }}
- name: CALICO_IPV6POOL_NAT_OUTGOING
  value: {{ $v6.natOutgoing | quote }}
- name: CALICO_IPV6POOL_NODE_SELECTOR
  value: {{ $v6.nodeSelector | quote }}
{{- end }}
{{- end -}}

{{/* How Felix and confd reach Typha (confd reads the same FELIX_TYPHA* names, confd/src/config.ts). */}}
{{- define "cattail.node.typhaEnv" -}}
- name: FELIX_TYPHAK8SSERVICENAME
  value: {{ include "cattail.typha.name" . }}
- name: FELIX_TYPHAK8SNAMESPACE
  value: {{ .Release.Namespace }}
{{- if .Values.tls.enabled }}
- name: FELIX_TYPHACAFILE
  value: /etc/cattail/node-tls/ca.crt
- name: FELIX_TYPHACERTFILE
  value: /etc/cattail/node-tls/tls.crt
- name: FELIX_TYPHAKEYFILE
  value: /etc/cattail/node-tls/tls.key
- name: FELIX_TYPHACN
  value: {{ .Values.tls.typhaCommonName | quote }}
{{- end }}
{{- end -}}

{{- define "cattail.node.tlsMount" -}}
{{- if .Values.tls.enabled }}
- name: node-tls
  mountPath: /etc/cattail/node-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* Values the schema cannot express; called from NOTES.txt-independent templates. */}}
{{- define "cattail.validate" -}}
{{- if ne (empty .Values.tls.typhaSecretName) (empty .Values.tls.nodeSecretName) -}}
{{- fail "tls.typhaSecretName and tls.nodeSecretName go together: name both existing Secrets, or neither to have the certificates generated" -}}
{{- end -}}
{{- end -}}

{{/* The API server's real address where pods cannot reach the kubernetes Service (no kube-proxy,
or before it runs), as Calico's manifests take it: KUBERNETES_SERVICE_HOST/PORT from the
ConfigMap kubernetes-services-endpoint in the release namespace, when it exists. */}}
{{- define "cattail.servicesEndpoint" -}}
envFrom:
  - configMapRef:
      name: kubernetes-services-endpoint
      optional: true
{{- end -}}
