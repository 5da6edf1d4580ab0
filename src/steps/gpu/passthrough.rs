//! `passthrough-readiness {hyperconvergedNamespace?}`: read-only; checks what the API shows for GPU
//! passthrough to VMs and lists the firmware (BIOS) settings nobody can see through the API.

use super::{args, label, node_name, NFD};
use crate::cluster::Cluster;
use crate::engine::kind::{Cx, Done, StepKind, StepPlan, Writes};
use crate::error::UserError;
use crate::runbook::Expect;
use serde::Deserialize;
use serde_json::Value;

pub struct PassthroughReadiness;

#[async_trait::async_trait]
impl StepKind for PassthroughReadiness {
    fn name(&self) -> &'static str {
        "passthrough-readiness"
    }
    fn validate(&self, a: &Value) -> Result<(), String> {
        args::<PassthroughArgs>(self.name(), a).map(|_| ()).map_err(|e| e.cause)
    }
    fn writes(&self) -> Writes {
        Writes::Nothing
    }
    async fn run(&self, cx: &Cx<'_>, a: &Value, _: &StepPlan) -> Result<Done, UserError> {
        passthrough_readiness(cx.cluster, a).await.map(Done::from)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PassthroughArgs {
    #[serde(default)]
    hyperconverged_namespace: Option<String>,
}

/// Firmware settings the API cannot show; always listed for the passthrough branch.
pub const BIOS_STEPS: &[&str] = &[
    "IOMMU enabled (AMD: IOMMU / AMD-Vi; Intel: VT-d)",
    "CPU virtualisation enabled (AMD: SVM; Intel: VT-x)",
    "Above 4G Decoding enabled (large GPU BARs must map above 4 GiB)",
    "UEFI boot with CSM off",
    "each passed-through GPU in its own IOMMU group (slot choice; ACS in the BIOS if offered)",
];

/// `passthrough-readiness`: what the API shows for GPU passthrough, plus the BIOS steps it cannot see.
async fn passthrough_readiness(cluster: &Cluster, a: &Value) -> Result<(u32, String), UserError> {
    let a: PassthroughArgs = args("passthrough-readiness", a)?;
    let ns = a.hyperconverged_namespace.unwrap_or_else(|| "openshift-cnv".into());
    let mut ok: Vec<String> = vec![];
    let mut missing: Vec<String> = vec![];
    match cluster
        .get("hco.kubevirt.io/v1beta1", "HyperConverged", Some(&ns), "kubevirt-hyperconverged")
        .await?
    {
        None => missing.push(format!(
            "OpenShift Virtualization: no HyperConverged {ns}/kubevirt-hyperconverged (install the operator and create it)"
        )),
        Some(hco) => {
            let available = Expect {
                condition: Some("Available".into()),
                ..Default::default()
            }
            .eval(&hco)
            .holds;
            if available {
                ok.push("HyperConverged Available".into());
            } else {
                missing.push("HyperConverged is not Available".into());
            }
            let permitted = hco
                .pointer("/spec/permittedHostDevices/pciHostDevices")
                .and_then(Value::as_array)
                .is_some_and(|d| {
                    d.iter().any(|x| {
                        x.get("pciDeviceSelector")
                            .and_then(Value::as_str)
                            .is_some_and(|s| s.to_ascii_lowercase().starts_with("10de:"))
                    })
                });
            if permitted {
                ok.push("HyperConverged permits an NVIDIA PCI device".into());
            } else {
                missing.push(
                    "HyperConverged spec.permittedHostDevices.pciHostDevices has no 10DE:<device> selector".into(),
                );
            }
        }
    }
    let nodes = cluster.list("v1", "Node", None, None).await?;
    let gpu_nodes: Vec<&Value> = nodes
        .iter()
        .filter(|n| label(n, &format!("{NFD}pci-10de.present")) == Some("true"))
        .collect();
    if gpu_nodes.is_empty() {
        missing.push("no node has an NVIDIA PCI device (NFD label pci-10de.present)".into());
    }
    for n in &gpu_nodes {
        let name = node_name(n);
        if label(n, &format!("{NFD}iommu-enabled")) == Some("true") {
            ok.push(format!("{name}: IOMMU enabled (NFD iommu-enabled)"));
        } else {
            missing.push(format!(
                "{name}: NFD does not report the IOMMU enabled (label {NFD}iommu-enabled): enable it in the BIOS and add the kernel argument (amd_iommu=on or intel_iommu=on) with a MachineConfig"
            ));
        }
        if label(n, "kubevirt.io/schedulable") == Some("true") {
            ok.push(format!("{name}: schedulable for VMs (kubevirt.io/schedulable)"));
        } else {
            missing.push(format!(
                "{name}: not schedulable for VMs (label kubevirt.io/schedulable)"
            ));
        }
    }
    let bios = format!("not visible to fleetctl, check in the BIOS: {}", BIOS_STEPS.join("; "));
    if missing.is_empty() {
        Ok((0, format!("{}; {bios}", ok.join(", "))))
    } else {
        Err(UserError::failed(format!(
            "GPU passthrough is not ready: {}{}",
            missing.join("; "),
            if ok.is_empty() {
                String::new()
            } else {
                format!(" (seen: {})", ok.join(", "))
            }
        ))
        .subject("OpenShift Virtualization / node sno-ai-lab")
        .next(format!("fix the above, then `fleetctl resume`; {bios}")))
    }
}
