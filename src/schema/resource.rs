//! The resource (plural) name of a kind, as RBAC rules and API paths spell it.
//!
//! The name is data: a CRD declares it (`spec.names.plural`) and the API server serves it. Only the
//! built-in API groups follow a rule, the one apimachinery's RESTMapper applies to them
//! (`UnsafeGuessKindToResource`: lower-case; `endpoints` unchanged; `...s` -> `...ses`; `...y` ->
//! `...ies`; else `...s`). The same rule turns `Gateway` into `gatewaies`, while the Gateway API CRD
//! says `gateways`, so for any other group without a known CRD the name is only a guess, and callers
//! must treat it as one.

/// The API groups Kubernetes itself serves (their resources follow apimachinery's rule).
pub const BUILTIN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// A kind's resource name, and whether it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceName {
    /// Declared by a CRD, or a built-in kind (whose names follow apimachinery's rule).
    Known(String),
    /// No CRD for the kind is known: the likely names, most likely first (the regular English plural
    /// that kubebuilder/controller-gen give CRDs, then apimachinery's rule).
    Guessed(Vec<String>),
}

impl ResourceName {
    /// Resolve a kind's name: `declared` is the plural a known CRD gives it, if any.
    pub fn of(group: &str, kind: &str, declared: Option<&str>) -> ResourceName {
        if let Some(p) = declared {
            return ResourceName::Known(p.to_string());
        }
        let rule = unsafe_guess_kind_to_resource(kind);
        if BUILTIN_GROUPS.contains(&group) {
            return ResourceName::Known(rule);
        }
        let mut names = vec![regular_plural(kind)];
        if !names.contains(&rule) {
            names.push(rule);
        }
        ResourceName::Guessed(names)
    }

    /// Every name the kind may have (one when known).
    pub fn names(&self) -> &[String] {
        match self {
            ResourceName::Known(n) => std::slice::from_ref(n),
            ResourceName::Guessed(ns) => ns,
        }
    }

    /// The name to show: the known one, or the most likely guess.
    pub fn shown(&self) -> &str {
        &self.names()[0]
    }

    pub fn is_guess(&self) -> bool {
        matches!(self, ResourceName::Guessed(_))
    }
}

/// apimachinery's `UnsafeGuessKindToResource` (k8s.io/apimachinery/pkg/api/meta/restmapper.go): the name
/// Kubernetes registers a built-in kind under.
pub fn unsafe_guess_kind_to_resource(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if lower.is_empty() || lower.ends_with("endpoints") {
        return lower;
    }
    if lower.ends_with('s') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}

/// The regular English plural of a lower-cased kind, as CRD generators write it (`gateway` -> `gateways`,
/// `policy` -> `policies`, `ingress` -> `ingresses`, `box` -> `boxes`).
pub fn regular_plural(kind: &str) -> String {
    let lower = kind.to_lowercase();
    let vowel_before = |stem: &str| stem.ends_with(['a', 'e', 'i', 'o', 'u']);
    match lower.strip_suffix('y') {
        Some(stem) if !stem.is_empty() && !vowel_before(stem) => return format!("{stem}ies"),
        _ => {}
    }
    if ["s", "x", "z", "ch", "sh"].iter().any(|e| lower.ends_with(e)) {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_kinds_follow_apimachinerys_rule() {
        assert_eq!(unsafe_guess_kind_to_resource("Ingress"), "ingresses");
        assert_eq!(unsafe_guess_kind_to_resource("NetworkPolicy"), "networkpolicies");
        assert_eq!(unsafe_guess_kind_to_resource("Deployment"), "deployments");
        assert_eq!(unsafe_guess_kind_to_resource("Endpoints"), "endpoints");
        // The rule is why a guess is not enough for a CRD: the Gateway API CRD says `gateways`.
        assert_eq!(unsafe_guess_kind_to_resource("Gateway"), "gatewaies");
        assert_eq!(
            ResourceName::of("networking.k8s.io", "NetworkPolicy", None),
            ResourceName::Known("networkpolicies".into())
        );
    }

    #[test]
    fn a_declared_plural_wins_and_an_unknown_crd_is_a_guess() {
        assert_eq!(
            ResourceName::of("gateway.networking.k8s.io", "Gateway", Some("gateways")),
            ResourceName::Known("gateways".into())
        );
        let g = ResourceName::of("gateway.networking.k8s.io", "Gateway", None);
        assert!(g.is_guess());
        assert_eq!(g.names(), ["gateways", "gatewaies"]);
        assert_eq!(g.shown(), "gateways");
        assert_eq!(regular_plural("ClusterPolicy"), "clusterpolicies");
        assert_eq!(regular_plural("NodeFeatureDiscovery"), "nodefeaturediscoveries");
        assert_eq!(regular_plural("IPAddressPool"), "ipaddresspools");
        assert_eq!(regular_plural("MetalLB"), "metallbs");
        assert_eq!(
            ResourceName::of("x.io", "Widget", None).names(),
            ["widgets"],
            "one name when both rules agree"
        );
    }
}
