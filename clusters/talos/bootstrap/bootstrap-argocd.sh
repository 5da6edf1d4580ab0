#!/usr/bin/env bash
# Bootstrap Argo CD on the Talos cluster (disaster recovery or a fresh cluster).
#
# The only imperative steps in this cluster's life, in this order:
#   1. Gateway API CRDs      - Cilium's Gateway support needs them before Cilium starts
#   2. Cilium                - the CNI; nothing else schedules without it (skipped if running)
#   3. 1Password pre-seed    - the trust anchor: the only secrets that are not in Git
#   4. Argo CD (Helm)        - with values.yaml next to this script
#   5. wait                  - for the Application CRD and argocd-server
#   6. root Application      - root/ (kubectl apply -k); from here on Git drives everything
#
# Usage (from anywhere):
#   OP_CREDENTIALS_FILE=~/secure/1password-credentials.json \
#   OP_CONNECT_TOKEN_FILE=~/secure/connect-token \
#   clusters/talos/bootstrap/bootstrap-argocd.sh
#
# Environment:
#   KUBE_CONTEXT            kubeconfig context (default: talos, as in ../cluster.yaml)
#   OP_CREDENTIALS_FILE     the Connect server's 1password-credentials.json (required)
#   OP_CREDENTIALS_ENCODING base64 (default): store the JSON base64-encoded. This cluster's
#                           Connect comes from the 1Password Connect Helm chart, which feeds the
#                           Secret into OP_SESSION, and OP_SESSION takes the base64 of the file
#                           (FACTS §12). file: store the JSON as is, only for a Connect that mounts
#                           it as a file (like clusters/openshift's).
#   OP_CONNECT_TOKEN_FILE   a file holding one Connect access token (required)
#   GATEWAY_API_VERSION     Gateway API release to install (must be one Cilium supports)
#   CILIUM_VERSION          Cilium chart version, CILIUM_VALUES its values file (only used when
#                           Cilium is not installed yet)
#   ARGOCD_CHART_VERSION    argo-cd chart version or constraint (default: ^10.0.0; pin it)
#
# Secrets are read from files and passed to kubectl as files: they never appear in this
# script's output, in the process list, or in shell history. Do not run this with `bash -x`.
set -euo pipefail

KUBE_CONTEXT="${KUBE_CONTEXT:-talos}"
GATEWAY_API_VERSION="${GATEWAY_API_VERSION:-v1.3.0}"
CILIUM_VERSION="${CILIUM_VERSION:-}"
CILIUM_VALUES="${CILIUM_VALUES:-}"
ARGOCD_CHART_VERSION="${ARGOCD_CHART_VERSION:-^10.0.0}"
OP_CREDENTIALS_ENCODING="${OP_CREDENTIALS_ENCODING:-base64}"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

kc() { kubectl --context "$KUBE_CONTEXT" "$@"; }

# Apply a Secret built from files, without the value ever touching stdout or argv.
# Usage: seed_secret <namespace> <name> <key>=<file> [<key>=<file> ...]
seed_secret() {
  local ns="$1" name="$2"
  shift 2
  local args=()
  local pair
  for pair in "$@"; do
    args+=("--from-file=${pair}")
  done
  kc create secret generic "$name" --namespace "$ns" "${args[@]}" \
    --dry-run=client -o yaml | kc apply -f - >/dev/null
  log "seeded Secret ${ns}/${name}"
}

# --- preflight -------------------------------------------------------------------------------
for tool in kubectl helm; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not on PATH"
done
[[ -n "${OP_CREDENTIALS_FILE:-}" && -r "${OP_CREDENTIALS_FILE}" ]] \
  || die "OP_CREDENTIALS_FILE must name a readable 1password-credentials.json"
[[ -n "${OP_CONNECT_TOKEN_FILE:-}" && -r "${OP_CONNECT_TOKEN_FILE}" ]] \
  || die "OP_CONNECT_TOKEN_FILE must name a readable file holding the Connect token"
case "$OP_CREDENTIALS_ENCODING" in
  file|base64) ;;
  *) die "OP_CREDENTIALS_ENCODING must be 'file' or 'base64'" ;;
esac
kc version >/dev/null 2>&1 || die "cannot reach the cluster with context '$KUBE_CONTEXT'"
log "cluster: context $KUBE_CONTEXT"

# --- 1. Gateway API CRDs ---------------------------------------------------------------------
# Server-side apply: the CRDs are too large for client-side apply's last-applied annotation.
# Cilium also needs the TLSRoute CRD, which is still in the experimental channel.
log "Gateway API CRDs ${GATEWAY_API_VERSION}"
GW_BASE="https://github.com/kubernetes-sigs/gateway-api/releases/download/${GATEWAY_API_VERSION}"
kc apply --server-side -f "${GW_BASE}/standard-install.yaml" >/dev/null
kc apply --server-side \
  -f "https://raw.githubusercontent.com/kubernetes-sigs/gateway-api/${GATEWAY_API_VERSION}/config/crd/experimental/gateway.networking.k8s.io_tlsroutes.yaml" \
  >/dev/null

# --- 2. Cilium -------------------------------------------------------------------------------
if kc -n kube-system get daemonset cilium >/dev/null 2>&1; then
  log "Cilium already installed; leaving it alone"
else
  [[ -n "$CILIUM_VERSION" && -n "$CILIUM_VALUES" && -r "$CILIUM_VALUES" ]] \
    || die "Cilium is not installed: set CILIUM_VERSION and CILIUM_VALUES (the cluster's Cilium values file)"
  log "Cilium ${CILIUM_VERSION}"
  helm repo add cilium https://helm.cilium.io >/dev/null 2>&1 || true
  helm repo update cilium >/dev/null
  helm upgrade --install cilium cilium/cilium --kube-context "$KUBE_CONTEXT" \
    --namespace kube-system --version "$CILIUM_VERSION" --values "$CILIUM_VALUES" --wait >/dev/null
  kc -n kube-system rollout status daemonset/cilium --timeout=600s >/dev/null
fi

# --- 3. 1Password pre-seed -------------------------------------------------------------------
# The trust anchor ESO needs before it can fetch any other secret. Everything else comes from
# 1Password through ExternalSecrets.
log "1Password Connect secrets"
for ns in 1passwordconnect external-secrets; do
  kc create namespace "$ns" --dry-run=client -o yaml | kc apply -f - >/dev/null
done
workdir="$(mktemp -d)"
chmod 700 "$workdir"
trap 'rm -rf "$workdir"' EXIT
creds_file="$OP_CREDENTIALS_FILE"
if [[ "$OP_CREDENTIALS_ENCODING" == "base64" ]]; then
  creds_file="$workdir/1password-credentials.json"
  (umask 077 && base64 < "$OP_CREDENTIALS_FILE" | tr -d '\n' > "$creds_file")
fi
# A token file usually ends with a newline; the token itself must not.
token_file="$workdir/token"
(umask 077 && tr -d '\r\n' < "$OP_CONNECT_TOKEN_FILE" > "$token_file")
[[ -s "$token_file" ]] || die "OP_CONNECT_TOKEN_FILE is empty"

seed_secret 1passwordconnect 1password-credentials "1password-credentials.json=${creds_file}"
seed_secret 1passwordconnect 1password-operator-token "token=${token_file}"
seed_secret external-secrets 1passwordconnect "token=${token_file}"

# --- 4. Argo CD ------------------------------------------------------------------------------
log "Argo CD (argo-cd chart ${ARGOCD_CHART_VERSION})"
helm repo add argo https://argoproj.github.io/argo-helm >/dev/null 2>&1 || true
helm repo update argo >/dev/null
helm upgrade --install argocd argo/argo-cd --kube-context "$KUBE_CONTEXT" \
  --namespace argocd --create-namespace \
  --version "$ARGOCD_CHART_VERSION" --values "${SCRIPT_DIR}/values.yaml" >/dev/null

# --- 5. wait ---------------------------------------------------------------------------------
log "waiting for the Application CRD and argocd-server"
kc wait --for=condition=Established crd/applications.argoproj.io --timeout=180s >/dev/null
kc wait --for=condition=Established crd/applicationsets.argoproj.io --timeout=180s >/dev/null
kc -n argocd rollout status deployment/argocd-server --timeout=600s >/dev/null
kc -n argocd rollout status deployment/argocd-repo-server --timeout=600s >/dev/null

# --- 6. root ---------------------------------------------------------------------------------
log "root Application"
kc apply -k "${SCRIPT_DIR}/root" >/dev/null

log "done. Watch it converge: kubectl --context $KUBE_CONTEXT -n argocd get applications -w"
