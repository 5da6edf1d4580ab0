#!/usr/bin/env bash
# Download the pinned upstream CRDs and the core Kubernetes JSON schemas that `fleetctl verify`
# validates against, into a cache directory (default ~/.cache/fleetctl/crds).
#
# Needs internet access, curl, sha256sum, and unzip or python3. Every file is fetched at a pinned
# commit and checked against the sha256 recorded when the catalog was made (see the catalog's
# SOURCES.md); a mismatch aborts and leaves the previous cache untouched.
#
# Usage: scripts/fetch-crds.sh [DEST]
#   DEST defaults to $FLEETCTL_CRDS, else ${XDG_CACHE_HOME:-~/.cache}/fleetctl/crds.
# Then: fleetctl verify            (finds the cache by itself)
#   or: fleetctl verify --crds DEST
set -euo pipefail

DEST="${1:-${FLEETCTL_CRDS:-${XDG_CACHE_HOME:-$HOME/.cache}/fleetctl/crds}}"

# file  upstream-repo  commit  sha256-prefix  path-in-repo
CRDS=(
  "applications.argoproj.io.yaml argoproj/argo-cd 37ee0097cf851bc2dd7665fc081bbce61a7e836e 9fd0da3e7097ad6d manifests/crds/application-crd.yaml"
  "applicationsets.argoproj.io.yaml argoproj/argo-cd 37ee0097cf851bc2dd7665fc081bbce61a7e836e 3dd600079b67cbb5 manifests/crds/applicationset-crd.yaml"
  "appprojects.argoproj.io.yaml argoproj/argo-cd 37ee0097cf851bc2dd7665fc081bbce61a7e836e ab22526694432275 manifests/crds/appproject-crd.yaml"
  "argocds.argoproj.io.yaml argoproj-labs/argocd-operator cf5d1c0236bf6419bf2e4f8fdc154a2c7b8d4d4c cc0fde0e776ee2e1 config/crd/bases/argoproj.io_argocds.yaml"
  "subscriptions.operators.coreos.com.yaml operator-framework/api 3048ccdc52d1858783800c6d40305357aff66c8c ef3f881564f0a89e crds/operators.coreos.com_subscriptions.yaml"
  "operatorgroups.operators.coreos.com.yaml operator-framework/api 3048ccdc52d1858783800c6d40305357aff66c8c dbde712a47a115c4 crds/operators.coreos.com_operatorgroups.yaml"
  "clusterserviceversions.operators.coreos.com.yaml operator-framework/api 3048ccdc52d1858783800c6d40305357aff66c8c 931be19938daf0f8 crds/operators.coreos.com_clusterserviceversions.yaml"
  "gatewayclasses.gateway.networking.k8s.io.yaml kubernetes-sigs/gateway-api 4564255ac2c35d582249b3cdf261bdf51c8bca32 4c0b7eac1d0979de config/crd/standard/gateway.networking.k8s.io_gatewayclasses.yaml"
  "gateways.gateway.networking.k8s.io.yaml kubernetes-sigs/gateway-api 4564255ac2c35d582249b3cdf261bdf51c8bca32 161791d534b1ef58 config/crd/standard/gateway.networking.k8s.io_gateways.yaml"
  "httproutes.gateway.networking.k8s.io.yaml kubernetes-sigs/gateway-api 4564255ac2c35d582249b3cdf261bdf51c8bca32 5b746e5dd696239c config/crd/standard/gateway.networking.k8s.io_httproutes.yaml"
  "referencegrants.gateway.networking.k8s.io.yaml kubernetes-sigs/gateway-api 4564255ac2c35d582249b3cdf261bdf51c8bca32 068bebe134b7f594 config/crd/standard/gateway.networking.k8s.io_referencegrants.yaml"
  "lvmclusters.lvm.topolvm.io.yaml openshift/lvm-operator de3cc31a2b474487952c3ae03ad3725107b69355 900edba3cf807122 config/crd/bases/lvm.topolvm.io_lvmclusters.yaml"
  "clusterissuers.cert-manager.io.yaml cert-manager/cert-manager 2d0d7f7f74241a9cbf79f0e2a7bb247238ee09fd 75d80fae3824c968 deploy/crds/cert-manager.io_clusterissuers.yaml"
  "certificates.cert-manager.io.yaml cert-manager/cert-manager 2d0d7f7f74241a9cbf79f0e2a7bb247238ee09fd c0d1a3f51f8b13ba deploy/crds/cert-manager.io_certificates.yaml"
  "issuers.cert-manager.io.yaml cert-manager/cert-manager 2d0d7f7f74241a9cbf79f0e2a7bb247238ee09fd 7068bfbe8baf0ea5 deploy/crds/cert-manager.io_issuers.yaml"
  "certmanagers.operator.openshift.io.yaml openshift/cert-manager-operator 454cb8846b0c6f6653343087491c0e6d4cd7f770 2be29c3e35d2915e config/crd/bases/operator.openshift.io_certmanagers.yaml"
  "externalsecrets.external-secrets.io.yaml external-secrets/external-secrets cc5bfbc2234ace9cb0caff4ea89c435cf517b27b 5044be5a610ca90a config/crds/bases/external-secrets.io_externalsecrets.yaml"
  "clustersecretstores.external-secrets.io.yaml external-secrets/external-secrets cc5bfbc2234ace9cb0caff4ea89c435cf517b27b f847c69ae317a765 config/crds/bases/external-secrets.io_clustersecretstores.yaml"
  "secretstores.external-secrets.io.yaml external-secrets/external-secrets cc5bfbc2234ace9cb0caff4ea89c435cf517b27b 7f750858d3939139 config/crds/bases/external-secrets.io_secretstores.yaml"
  "nodefeaturediscoveries.nfd.openshift.io.yaml openshift/cluster-nfd-operator 0e25cc101cfcb83719d64deef8184b320100c3c6 d7ad923d0eda47f2 config/crd/bases/nfd.openshift.io_nodefeaturediscoveries.yaml"
  "nodefeaturerules.nfd.k8s-sigs.io.yaml openshift/cluster-nfd-operator 0e25cc101cfcb83719d64deef8184b320100c3c6 aa0b2488da5cd115 config/crd/bases/nfd.k8s-sigs.io_nodefeaturerules.yaml"
  "clusterpolicies.nvidia.com.yaml NVIDIA/gpu-operator a22dbf671f2e26f9a1e342f8eea28e196235e110 fcece7d07504e57f config/crd/bases/nvidia.com_clusterpolicies.yaml"
  "clusters.postgresql.cnpg.io.yaml cloudnative-pg/cloudnative-pg a95a534dbe0854495b863bbc1b7651f74d310916 6c9d24b55dcaee1e config/crd/bases/postgresql.cnpg.io_clusters.yaml"
  "scheduledbackups.postgresql.cnpg.io.yaml cloudnative-pg/cloudnative-pg a95a534dbe0854495b863bbc1b7651f74d310916 1dffb969a92ed6b0 config/crd/bases/postgresql.cnpg.io_scheduledbackups.yaml"
  "routes.route.openshift.io.yaml openshift/api 2a3d73913b5a7caec4c57d5c3d04f51106ec4da3 65e2171923f7596a route/v1/zz_generated.crd-manifests/routes.crd.yaml"
  "securitycontextconstraints.security.openshift.io.yaml openshift/api 2a3d73913b5a7caec4c57d5c3d04f51106ec4da3 caeeb85886a16888 security/v1/zz_generated.crd-manifests/0000_03_config-operator_01_securitycontextconstraints.crd.yaml"
  "ingresses.config.openshift.io.yaml openshift/api 2a3d73913b5a7caec4c57d5c3d04f51106ec4da3 8cbd879b542991e3 config/v1/zz_generated.crd-manifests/0000_10_config-operator_01_ingresses-Default.crd.yaml"
  "clusterversions.config.openshift.io.yaml openshift/api 2a3d73913b5a7caec4c57d5c3d04f51106ec4da3 10b91f51a922ff39 config/v1/zz_generated.crd-manifests/0000_00_cluster-version-operator_01_clusterversions-Default.crd.yaml"
)

# Core schemas: the kubernetes-validate wheel (Apache-2.0), JSON Schema draft 2020-12.
K8S_VERSION="1.37.0"
WHEEL="kubernetes_validate-${K8S_VERSION}-py3-none-any.whl"
WHEEL_URL="https://files.pythonhosted.org/packages/py3/k/kubernetes-validate/${WHEEL}"
WHEEL_SHA256="85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9"

die() { echo "fetch-crds: $*" >&2; exit 1; }
for tool in curl sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done

sha256() { sha256sum "$1" | cut -d' ' -f1; }

fetch() { # url dest
  curl --fail --silent --show-error --location --retry 3 --connect-timeout 20 -o "$2" "$1"
}

parent="$(dirname "$DEST")"
mkdir -p "$parent"
work="$(mktemp -d "$parent/.crds.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch-crds: downloading ${#CRDS[@]} CRDs into $DEST"
{
  echo "# Written by scripts/fetch-crds.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# file repository commit path"
} >"$work/SOURCES.txt"
for row in "${CRDS[@]}"; do
  read -r file repo commit want path <<<"$row"
  fetch "https://raw.githubusercontent.com/${repo}/${commit}/${path}" "$work/$file" \
    || die "could not download $file from $repo@$commit:$path"
  got="$(sha256 "$work/$file")"
  [[ "$got" == "$want"* ]] || die "$file: sha256 $got does not start with the pinned $want (upstream changed?)"
  echo "$file $repo $commit $path" >>"$work/SOURCES.txt"
done

echo "fetch-crds: downloading the core Kubernetes ${K8S_VERSION} schemas (${WHEEL})"
fetch "$WHEEL_URL" "$work/$WHEEL" || die "could not download $WHEEL_URL"
[[ "$(sha256 "$work/$WHEEL")" == "$WHEEL_SHA256" ]] || die "$WHEEL: sha256 mismatch"
mkdir -p "$work/unpacked"
if command -v unzip >/dev/null 2>&1; then
  unzip -q "$work/$WHEEL" "kubernetes_validate/kubernetes-json-schema/v${K8S_VERSION}-local/*" \
    "kubernetes_validate/kubernetes-json-schema/v${K8S_VERSION}-local-strict/*" -d "$work/unpacked"
elif command -v python3 >/dev/null 2>&1; then
  python3 - "$work/$WHEEL" "$work/unpacked" "$K8S_VERSION" <<'PY'
import sys, zipfile
wheel, out, ver = sys.argv[1:]
prefixes = tuple(f"kubernetes_validate/kubernetes-json-schema/v{ver}-{k}/" for k in ("local", "local-strict"))
with zipfile.ZipFile(wheel) as z:
    z.extractall(out, [n for n in z.namelist() if n.startswith(prefixes)])
PY
else
  die "unzip or python3 is required to unpack $WHEEL"
fi
for flavour in local local-strict; do
  src="$work/unpacked/kubernetes_validate/kubernetes-json-schema/v${K8S_VERSION}-${flavour}"
  [[ -f "$src/_definitions.json" ]] || die "$WHEEL has no v${K8S_VERSION}-${flavour}/_definitions.json"
  mkdir -p "$work/_core/v${K8S_VERSION}"
  mv "$src" "$work/_core/v${K8S_VERSION}/${flavour}"
done
rm -rf "${work:?}/unpacked" "${work:?}/${WHEEL}"
echo "_core/v${K8S_VERSION} pypi:kubernetes-validate==${K8S_VERSION} sha256:${WHEEL_SHA256}" >>"$work/SOURCES.txt"

# Replace the previous cache only now that everything checked out.
if [[ -e "$DEST" ]]; then
  rm -rf "$DEST.old"
  mv "$DEST" "$DEST.old"
fi
mv "$work" "$DEST"
rm -rf "$DEST.old"
trap - EXIT
echo "fetch-crds: done. fleetctl verify will use $DEST (or pass --crds $DEST)."
