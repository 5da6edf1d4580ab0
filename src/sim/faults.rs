//! Fault injection: `--faults SPEC`, a comma-separated list of
//! `500=RATE`, `503=RATE`, `429=RATE`, `409=RATE` (writes only), `drop=RATE`, `slow=RATE@DURATION`,
//! `stall=Kind/namespace/name=STATE` (`Kind/name=STATE` for cluster-scoped objects),
//! `old-schema=CRDNAME:FIELD.PATH`, `no-lb`, `gpus=N`, `gpu-model=ID[+ID...]`, `no-iommu`, `seed=N`,
//! `disk-signatures`, `no-channel=PACKAGE:CHANNEL`.

use std::time::Duration;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stall {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub state: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultSpec {
    pub err500: f64,
    pub err503: f64,
    pub err429: f64,
    pub err409: f64,
    pub drop: f64,
    pub slow: Option<(f64, Duration)>,
    pub stalls: Vec<Stall>,
    /// (CRD name, dotted property path inside openAPIV3Schema's root object)
    pub old_schema: Vec<(String, String)>,
    pub no_lb: bool,
    pub gpus: Option<u32>,
    /// `gpu-model=ID[+ID...]`: PCI device ids of the node's NVIDIA GPUs as NFD sees them (default 1c82,
    /// a GeForce GTX 1050 Ti; 2204 is an RTX 3090).
    pub gpu_models: Vec<String>,
    /// `no-iommu`: NFD does not report the IOMMU as enabled (as when it is off in the BIOS).
    pub no_iommu: bool,
    /// `seed=N`: roll the rates from a seeded RNG (reproducible for a fixed request sequence).
    pub seed: Option<u64>,
    /// `disk-signatures`: the node's disks hold old partitions / filesystem signatures, which LVMS's
    /// vg-manager refuses to claim unless `forceWipeDevicesAndDestroyAllData` was set at creation.
    pub disk_signatures: bool,
    /// `no-channel=PACKAGE:CHANNEL`: the catalog's package lacks that channel (a release-candidate catalog
    /// that does not ship `stable-4.22` yet); read when the catalog is seeded.
    pub no_channels: Vec<(String, String)>,
}

fn rate(key: &str, v: &str) -> Result<f64, String> {
    let r: f64 = v
        .trim()
        .parse()
        .map_err(|_| format!("fault '{key}': rate '{v}' is not a number"))?;
    if !(0.0..=1.0).contains(&r) {
        return Err(format!("fault '{key}': rate {r} is outside 0..1"));
    }
    Ok(r)
}

/// `Kind/namespace/name=STATE` or `Kind/name=STATE`; STATE may be `Cond=Status` (e.g. `Programmed=False`).
fn parse_stall(val: &str) -> Result<Stall, String> {
    let usage = "fault 'stall' needs Kind/namespace/name=STATE (Kind/name=STATE for cluster-scoped objects)";
    let (obj, state) = val.split_once('=').ok_or(usage)?;
    let parts: Vec<&str> = obj.split('/').collect();
    let (kind, namespace, name) = match parts.as_slice() {
        [k, ns, n] => (*k, *ns, *n),
        [k, n] => (*k, "", *n),
        _ => {
            return Err(format!(
                "fault 'stall': '{obj}' is not Kind/namespace/name or Kind/name"
            ))
        }
    };
    if kind.is_empty() || name.is_empty() || state.is_empty() {
        return Err(format!("fault 'stall': '{val}': {usage}"));
    }
    if let Some((cond, status)) = state.split_once('=') {
        if cond.is_empty() || !["True", "False", "Unknown"].contains(&status) {
            return Err(format!(
                "fault 'stall': '{state}' is not Cond=Status with Status True, False or Unknown (e.g. Programmed=False)"
            ));
        }
    }
    Ok(Stall {
        kind: kind.into(),
        namespace: namespace.into(),
        name: name.into(),
        state: state.into(),
    })
}

impl std::str::FromStr for FaultSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut f = FaultSpec::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, val) = item.split_once('=').unwrap_or((item, ""));
            match key {
                "500" => f.err500 = rate(key, val)?,
                "503" => f.err503 = rate(key, val)?,
                "429" => f.err429 = rate(key, val)?,
                "409" => f.err409 = rate(key, val)?,
                "drop" => f.drop = rate(key, val)?,
                "slow" => {
                    let (r, d) = val
                        .split_once('@')
                        .ok_or("fault 'slow' needs RATE@DURATION, e.g. slow=0.1@800ms")?;
                    let d = humantime::parse_duration(d.trim())
                        .map_err(|e| format!("fault 'slow': duration '{d}': {e}"))?;
                    f.slow = Some((rate(key, r)?, d));
                }
                "stall" => f.stalls.push(parse_stall(val)?),
                "old-schema" => {
                    let (crd, path) = val
                        .split_once(':')
                        .ok_or("fault 'old-schema' needs CRDNAME:FIELD.PATH")?;
                    if crd.is_empty() || path.is_empty() {
                        return Err("fault 'old-schema' needs CRDNAME:FIELD.PATH".into());
                    }
                    f.old_schema.push((crd.into(), path.into()));
                }
                "no-lb" => f.no_lb = true,
                "disk-signatures" => f.disk_signatures = true,
                "no-channel" => {
                    let (pkg, ch) = val
                        .split_once(':')
                        .filter(|(p, c)| !p.is_empty() && !c.is_empty())
                        .ok_or("fault 'no-channel' needs PACKAGE:CHANNEL, e.g. no-channel=lvms-operator:stable-4.22")?;
                    f.no_channels.push((pkg.into(), ch.into()));
                }
                "no-iommu" => f.no_iommu = true,
                "gpu-model" => {
                    let ids: Vec<String> = val.split('+').map(|x| x.trim().to_ascii_lowercase()).collect();
                    if ids.iter().any(|i| i.len() != 4 || !i.chars().all(|c| c.is_ascii_hexdigit())) {
                        return Err(format!(
                            "fault 'gpu-model': '{val}' is not a list of 4-hex-digit PCI device ids (e.g. 1c82+2204)"
                        ));
                    }
                    f.gpu_models = ids;
                }
                "seed" => f.seed = Some(val.trim().parse().map_err(|_| format!("fault 'seed': '{val}' is not a number"))?),
                "gpus" => {
                    f.gpus = Some(
                        val.trim()
                            .parse()
                            .map_err(|_| format!("fault 'gpus': '{val}' is not a count"))?,
                    )
                }
                other => {
                    return Err(format!(
                    "unknown fault '{other}' (expected 500, 503, 429, 409, drop, slow, stall, old-schema, no-lb, gpus, gpu-model, no-iommu, seed, disk-signatures, no-channel)"
                ))
                }
            }
        }
        Ok(f)
    }
}

/// What to do with one request.
#[derive(Debug, PartialEq)]
pub enum Injected {
    None,
    Status(u16),
    Drop,
    Slow(Duration),
}

impl FaultSpec {
    pub fn is_none(&self) -> bool {
        *self == FaultSpec::default()
    }

    /// Rolls the dice for one request. `slow` is combined with the request being served normally.
    pub fn roll(&self, is_write: bool) -> Injected {
        self.roll_with(is_write, &mut || rand::random::<f64>())
    }

    /// `roll` with the given source of uniform [0, 1) numbers.
    pub fn roll_with(&self, is_write: bool, next: &mut dyn FnMut() -> f64) -> Injected {
        let mut hit = |r: f64| r > 0.0 && next() < r;
        if hit(self.drop) {
            return Injected::Drop;
        }
        for (code, r) in [(503, self.err503), (500, self.err500), (429, self.err429)] {
            if hit(r) {
                return Injected::Status(code);
            }
        }
        if is_write && hit(self.err409) {
            return Injected::Status(409);
        }
        match self.slow {
            Some((r, d)) if hit(r) => Injected::Slow(d),
            _ => Injected::None,
        }
    }

    /// The state a stall holds the object at; `kinds` are the names the object's kind goes by (Kind,
    /// plural, singular, short names), compared without case.
    pub fn stall_for(&self, kinds: &[&str], namespace: &str, name: &str) -> Option<&str> {
        self.stalls
            .iter()
            .find(|s| {
                kinds.iter().any(|k| s.kind.eq_ignore_ascii_case(k)) && s.namespace == namespace && s.name == name
            })
            .map(|s| s.state.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_rates_hold() {
        let f: FaultSpec = "500=0.03,503=0.03,429=0.02,drop=0.02".parse().unwrap();
        let n = 20_000;
        let hits = (0..n).filter(|_| f.roll(false) != Injected::None).count();
        // P(any) = 1 - 0.98 * 0.97 * 0.97 * 0.98 = 0.0964
        assert!((1500..2400).contains(&hits), "{hits} of {n}");
        let seeded: FaultSpec = "500=0.5,seed=7".parse().unwrap();
        assert_eq!(seeded.seed, Some(7));
    }

    #[test]
    fn parses_all_kinds() {
        let f: FaultSpec = "500=0.1, 503=0.2,429=0.3,409=0.4,drop=0.05,slow=0.1@800ms,stall=ArgoCD/argocd/argocd=Pending,\
             stall=ClusterPolicy/gpu-cluster-policy=notReady,old-schema=argocds.argoproj.io:spec.resourceHealthChecks,no-lb,gpus=2"
            .parse()
            .unwrap();
        assert_eq!(f.err500, 0.1);
        assert_eq!(f.slow, Some((0.1, Duration::from_millis(800))));
        assert_eq!(f.stall_for(&["ArgoCD"], "argocd", "argocd"), Some("Pending"));
        assert_eq!(
            f.stall_for(&["ClusterPolicy"], "", "gpu-cluster-policy"),
            Some("notReady")
        );
        assert_eq!(f.old_schema[0].1, "spec.resourceHealthChecks");
        assert!(f.no_lb && f.gpus == Some(2));
        assert!("500=2".parse::<FaultSpec>().is_err());
        assert!("bogus=1".parse::<FaultSpec>().is_err());
        assert!("".parse::<FaultSpec>().unwrap().is_none());
    }

    #[test]
    fn a_condition_stall_keeps_its_condition_and_bad_ones_say_why() {
        let f: FaultSpec = "stall=Gateway/openshift-ingress/gw=Programmed=False".parse().unwrap();
        assert_eq!(f.stalls[0].kind, "Gateway");
        assert_eq!(f.stalls[0].namespace, "openshift-ingress");
        assert_eq!(f.stalls[0].name, "gw");
        assert_eq!(f.stalls[0].state, "Programmed=False");
        let f: FaultSpec = "stall=pvc/shop/data=Pending".parse().unwrap();
        assert_eq!(
            f.stall_for(&["PersistentVolumeClaim", "pvc"], "shop", "data"),
            Some("Pending")
        );
        for bad in [
            "stall=Gateway/a/b/c=X",
            "stall=Gateway/a/b",
            "stall=Gateway/a/b=Programmed=Maybe",
            "stall=/a/b=X",
        ] {
            assert!(bad.parse::<FaultSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn gpu_models_and_iommu() {
        let f: FaultSpec = "gpus=2,gpu-model=2204+1C82,no-iommu".parse().unwrap();
        assert_eq!(f.gpu_models, vec!["2204".to_string(), "1c82".to_string()]);
        assert!(f.no_iommu);
        let d: FaultSpec = "disk-signatures,no-channel=lvms-operator:stable-4.22".parse().unwrap();
        assert!(d.disk_signatures);
        assert_eq!(
            d.no_channels,
            vec![("lvms-operator".to_string(), "stable-4.22".to_string())]
        );
        assert!("no-channel=lvms-operator".parse::<FaultSpec>().is_err());
        assert!("gpu-model=rtx3090"
            .parse::<FaultSpec>()
            .unwrap_err()
            .contains("PCI device ids"));
    }
}
