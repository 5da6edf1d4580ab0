//! The simulated node's hardware as the node operators see it.

use crate::sim::controllers::Ctx;

/// The simulated node's PCI devices as NFD would see them: one (vendor, device, class) per GPU model
/// (`gpu-model=` fault, default 1c82 = GeForce GTX 1050 Ti) and an Intel network controller.
pub fn pci_devices(ctx: &Ctx) -> Vec<(String, String, String)> {
    let models = ctx.world.faults().gpu_models.clone();
    let models = if models.is_empty() {
        vec!["1c82".to_string()]
    } else {
        models
    };
    let mut out: Vec<(String, String, String)> =
        models.into_iter().map(|m| ("10de".into(), m, "0300".into())).collect();
    out.push(("8086".into(), "15f3".into(), "0200".into()));
    out
}
