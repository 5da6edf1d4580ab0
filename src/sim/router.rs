//! The SIMULATED HTTPS ingress: what answers the hosts the cluster's ingress objects name, so that acceptance
//! probes (`probe:` criteria) and the DNS check can be tested end to end on loopback. Two listeners on
//! 127.0.0.1, each with its own self-signed certificate made at start (rcgen, ring), the two places a name
//! can lead to on the LAN (FACTS §12):
//!
//! - the **node router** (`Face::Node`; OpenShift's default ingress router on the node's 443, host network):
//!   it serves Routes only. Every other name - an HTTPRoute hostname included, since the wildcard
//!   `*.apps.<domain>` points at the node - gets the router's own 503 page, "Application is not available",
//!   under its default certificate (issuer `ingress-operator@sim`);
//! - the **Gateway** (`Face::Gateway`; the address MetalLB gives the Gateway's Service): it serves HTTPRoutes
//!   attached to a Programmed Gateway, under the listener's certificate.
//!
//! Talos has no node router: both listeners answer as its Cilium Gateway does. Each request is routed by its
//! Host header (the TLS SNI when there is none) against the store:
//!
//! - 200 when a Route (node) or an HTTPRoute hostname attached to a Programmed Gateway (Gateway) exists, its
//!   backend Service exists, and a Deployment matching the Service's selector is Available;
//! - 503 when the name is known but the Gateway is not Programmed, the Service is missing or no Deployment
//!   behind it is Available (the body says which), or, on the node router, when no Route names it;
//! - 404 for a host nothing names (Gateway).
//!
//! Nothing is proxied and no application runs: the answer only says the objects that would route the
//! request are in place. Clients must pin hosts to this address (FLEETCTL_PROBE_RESOLVE) and accept the
//! self-signed certificate (FLEETCTL_PROBE_INSECURE=1).

use super::store::{meta_str, Store};
use crate::fleet::Platform;
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ROUTES: &str = "routes.route.openshift.io";
const HTTPROUTES: &str = "httproutes.gateway.networking.k8s.io";
const GATEWAYS: &str = "gateways.gateway.networking.k8s.io";

/// What the router answers for a host, with a one-line reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub reason: String,
}

impl Answer {
    fn new(status: u16, reason: impl Into<String>) -> Answer {
        Answer {
            status,
            reason: reason.into(),
        }
    }
}

fn has_true(o: &Value, t: &str) -> bool {
    o.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|c| c["type"] == t && c["status"] == "True"))
}

/// Does an HTTPRoute hostname (possibly `*.example.com`) match `host`?
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|l| l.ends_with('.') && l.len() > 1 && !l[..l.len() - 1].contains('.')),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

/// The Service `ns/name` and a Deployment behind it: 200, or 503 saying what is missing.
fn backend(store: &Store, ns: &str, svc: &str, via: &str) -> Answer {
    let Some(service) = store.get("services", ns, svc) else {
        return Answer::new(503, format!("{via}: backend Service {ns}/{svc} does not exist"));
    };
    let selector = service
        .pointer("/spec/selector")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if selector.is_empty() {
        return Answer::new(503, format!("{via}: Service {ns}/{svc} has no selector"));
    }
    let matching: Vec<Value> = store
        .list("deployments.apps", Some(ns))
        .0
        .into_iter()
        .filter(|d| {
            let labels = d.pointer("/spec/template/metadata/labels");
            selector.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        })
        .collect();
    if matching.is_empty() {
        return Answer::new(
            503,
            format!("{via}: no Deployment in {ns} matches the selector of Service {svc}"),
        );
    }
    match matching.iter().find(|d| has_true(d, "Available")) {
        Some(d) => Answer::new(
            200,
            format!(
                "{via} -> Service {ns}/{svc} -> Deployment {} Available",
                meta_str(d, "name")
            ),
        ),
        None => Answer::new(
            503,
            format!(
                "{via}: Deployment {ns}/{} behind Service {svc} is not Available",
                meta_str(&matching[0], "name")
            ),
        ),
    }
}

/// Which listener a request reached: the node's default ingress router, or the Gateway's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Node,
    Gateway,
}

/// The first line of the OpenShift router's 503 page, which the probe recognises.
pub const ROUTER_503: &str = "Application is not available";

/// Route a request for `host` that reached `face` of a cluster of `platform`.
pub fn route(store: &Store, face: Face, platform: Platform, host: &str) -> Answer {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if face == Face::Node && platform == Platform::Openshift {
        return node_route(store, &host);
    }
    gateway_route(store, &host)
}

/// OpenShift's default router: Routes, and its own 503 page for every other name.
fn node_route(store: &Store, host: &str) -> Answer {
    // OpenShift Routes (the Argo CD UI on sno-ai-lab).
    for r in store.list(ROUTES, None).0 {
        if r.pointer("/spec/host").and_then(Value::as_str) == Some(host) {
            let ns = meta_str(&r, "namespace");
            let via = format!("Route {ns}/{}", meta_str(&r, "name"));
            let Some(svc) = r.pointer("/spec/to/name").and_then(Value::as_str) else {
                return Answer::new(503, format!("{via} names no Service"));
            };
            return backend(store, ns, svc, &via);
        }
    }
    Answer::new(
        503,
        format!("{ROUTER_503}: the OpenShift ingress router (default certificate) has no Route for {host}; an HTTPRoute is served by the Gateway's address, not by the node"),
    )
}

/// A Gateway: HTTPRoutes attached to it.
fn gateway_route(store: &Store, host: &str) -> Answer {
    let host = host.to_string();
    // Gateway API. Only parents on an HTTPS listener carry this request (a route on the `http` listener,
    // like a redirect to https, is not consulted); an exact hostname wins over a wildcard, as in the spec.
    let mut routes: Vec<(bool, Value)> = store
        .list(HTTPROUTES, None)
        .0
        .into_iter()
        .filter_map(|r| {
            let names: Vec<String> = r
                .pointer("/spec/hostnames")
                .and_then(Value::as_array)
                .map(|n| n.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            let exact = names.iter().any(|n| n.eq_ignore_ascii_case(&host));
            (exact || names.iter().any(|p| host_matches(p, &host))).then_some((exact, r))
        })
        .collect();
    routes.sort_by_key(|(exact, _)| !*exact);
    let mut known: Option<Answer> = None;
    for (_, r) in routes {
        let ns = meta_str(&r, "namespace");
        let via = format!("HTTPRoute {ns}/{}", meta_str(&r, "name"));
        let parents = r
            .pointer("/spec/parentRefs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // (gateway ns/name, the Gateway if it exists) for parents that could carry HTTPS.
        let mut https_parents = Vec::new();
        for p in &parents {
            let gns = p["namespace"].as_str().unwrap_or(ns);
            let gname = p["name"].as_str().unwrap_or_default();
            let gw = store.get(GATEWAYS, gns, gname);
            let on_https = match (p["sectionName"].as_str(), &gw) {
                (Some(section), Some(g)) => g
                    .pointer("/spec/listeners")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|l| l["name"] == section && matches!(l["protocol"].as_str(), Some("HTTPS") | Some("TLS"))),
                _ => true,
            };
            if on_https {
                https_parents.push((format!("{gns}/{gname}"), gw));
            }
        }
        if !parents.is_empty() && https_parents.is_empty() {
            continue;
        }
        if !https_parents
            .iter()
            .any(|(_, g)| g.as_ref().is_some_and(|g| has_true(g, "Programmed")))
        {
            let names: Vec<String> = https_parents.iter().map(|(n, _)| n.clone()).collect();
            known.get_or_insert(Answer::new(
                503,
                if names.is_empty() {
                    format!("{via} has no parentRefs: it is attached to no Gateway")
                } else {
                    format!("{via}: Gateway {} is missing or not Programmed", names.join(", "))
                },
            ));
            continue;
        }
        let rules: Vec<Value> = r
            .pointer("/spec/rules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let redirect = rules.iter().any(|rule| {
            rule["filters"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["type"] == "RequestRedirect"))
        });
        if redirect {
            return Answer::new(302, format!("{via} redirects"));
        }
        let backend_ref = rules
            .iter()
            .flat_map(|rule| rule["backendRefs"].as_array().cloned().unwrap_or_default())
            .find(|b| b["kind"].as_str().unwrap_or("Service") == "Service");
        let Some(b) = backend_ref else {
            return Answer::new(503, format!("{via} has no Service backendRef"));
        };
        let bns = b["namespace"].as_str().unwrap_or(ns).to_string();
        return backend(store, &bns, b["name"].as_str().unwrap_or_default(), &via);
    }
    known.unwrap_or_else(|| Answer::new(404, format!("no HTTPRoute names {host}")))
}

/// The two listeners of a simulated cluster: the node router and the Gateway.
pub struct Listeners {
    pub node: SocketAddr,
    pub gateway: SocketAddr,
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Binds both listeners on 127.0.0.1 (free ports) and serves until the tasks are aborted.
pub async fn start(store: Arc<Store>, platform: Platform) -> anyhow::Result<Listeners> {
    let (node, t1) = listen(store.clone(), platform, Face::Node).await?;
    let (gateway, t2) = listen(store, platform, Face::Gateway).await?;
    Ok(Listeners {
        node,
        gateway,
        tasks: vec![t1, t2],
    })
}

/// A self-signed certificate for the apps domains, issued by `issuer` (what a client sees as who answered).
fn certificate(issuer: &str) -> anyhow::Result<rustls::ServerConfig> {
    let names = vec![
        "localhost".to_string(),
        format!("*.{}", super::catalog::INGRESS_DOMAIN),
        "*.vanillax.me".to_string(),
    ];
    let mut params = rcgen::CertificateParams::new(names)?;
    params.distinguished_name.push(rcgen::DnType::CommonName, issuer);
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)?)
}

async fn listen(
    store: Arc<Store>,
    platform: Platform,
    face: Face,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let issuer = match face {
        Face::Node => "ingress-operator@sim (the router's default certificate)",
        Face::Gateway => "sim Gateway listener (the wildcard certificate)",
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(certificate(issuer)?));
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let store = store.clone();
            tokio::spawn(async move {
                let serve = serve_one(acceptor, tcp, store, platform, face);
                let _ = tokio::time::timeout(std::time::Duration::from_secs(10), serve).await;
            });
        }
    });
    Ok((addr, task))
}

async fn serve_one(
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: tokio::net::TcpStream,
    store: Arc<Store>,
    platform: Platform,
    face: Face,
) {
    let Ok(mut tls) = acceptor.accept(tcp).await else {
        return;
    };
    let sni = tls.get_ref().1.server_name().map(str::to_string);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 * 1024 {
        match tls.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let method = head.split_whitespace().next().unwrap_or("");
    let host = head
        .lines()
        .skip(1)
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case("host").then(|| v.trim().to_string())
        })
        .or(sni)
        .unwrap_or_default();
    // Host may carry a port; an IPv6 literal is never a routed name.
    let host = host.rsplit_once(':').map(|(h, _)| h.to_string()).unwrap_or(host);
    let answer = if method != "GET" && method != "HEAD" {
        Answer::new(405, "the simulated router answers GET and HEAD only")
    } else {
        route(&store, face, platform, &host)
    };
    let text = match answer.status {
        200 => "OK",
        302 => "Found",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let body = format!(
        "simulated {} (not a real ingress): {}\n",
        match face {
            Face::Node => "router",
            Face::Gateway => "gateway",
        },
        answer.reason
    );
    let resp = format!(
        "HTTP/1.1 {} {text}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nX-Fleetctl-Sim: router\r\nConnection: close\r\n\r\n{}",
        answer.status,
        body.len(),
        if method == "HEAD" { "" } else { body.as_str() }
    );
    let _ = tls.write_all(resp.as_bytes()).await;
    let _ = tls.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed(available: bool, programmed: bool) -> Arc<Store> {
        let s = Store::new();
        let cond = |t: &str, ok: bool| json!([{"type": t, "status": if ok { "True" } else { "False" }}]);
        s.ensure(
            "namespaces",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "redlib"}}),
        );
        s.ensure(
            "services",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "redlib", "namespace": "redlib"},
            "spec": {"selector": {"app": "redlib"}}}),
        );
        s.ensure(
            "deployments.apps",
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "redlib", "namespace": "redlib"},
            "spec": {"template": {"metadata": {"labels": {"app": "redlib", "extra": "x"}}}},
            "status": {"conditions": cond("Available", available)}}),
        );
        s.ensure(GATEWAYS, json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": "gateway"}, "status": {"conditions": cond("Programmed", programmed)}}));
        s.ensure(
            HTTPROUTES,
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "redlib", "namespace": "redlib"},
            "spec": {"parentRefs": [{"name": "gw", "namespace": "gateway"}], "hostnames": ["redlib.vanillax.me"],
                "rules": [{"backendRefs": [{"name": "redlib", "port": 8080}]}]}}),
        );
        s
    }

    #[test]
    fn host_patterns() {
        assert!(host_matches("redlib.vanillax.me", "redlib.vanillax.me"));
        assert!(host_matches("*.vanillax.me", "redlib.vanillax.me"));
        assert!(!host_matches("*.vanillax.me", "a.b.vanillax.me"));
        assert!(!host_matches("*.vanillax.me", "vanillax.me"));
        assert!(!host_matches("redlib.vanillax.me", "other.vanillax.me"));
    }

    #[test]
    fn unknown_host_is_404_and_a_backend_needs_an_available_deployment() {
        let gw = |s: &Store, h: &str| route(s, Face::Gateway, Platform::Openshift, h);
        let s = seed(false, true);
        assert_eq!(gw(&s, "nothing.example").status, 404);
        let a = gw(&s, "Redlib.vanillax.me.");
        assert_eq!((a.status, a.reason.contains("not Available")), (503, true), "{a:?}");
        assert_eq!(backend(&s, "redlib", "redlib", "x").status, 503);
        assert!(backend(&s, "redlib", "redlib", "x").reason.contains("not Available"));
        assert_eq!(backend(&s, "redlib", "missing", "x").status, 503);
        let s = seed(true, true);
        assert_eq!(backend(&s, "redlib", "redlib", "x").status, 200);
        assert_eq!(gw(&s, "redlib.vanillax.me").status, 200);
        let s = seed(true, false);
        let a = gw(&s, "redlib.vanillax.me");
        assert_eq!((a.status, a.reason.contains("not Programmed")), (503, true), "{a:?}");
    }

    #[test]
    fn the_node_router_answers_an_httproute_host_with_its_own_503() {
        let s = seed(true, true);
        let a = route(&s, Face::Node, Platform::Openshift, "redlib.vanillax.me");
        assert_eq!(a.status, 503, "{a:?}");
        assert!(a.reason.starts_with(ROUTER_503), "{a:?}");
        // Talos has no OpenShift router: its node face answers as the Gateway.
        assert_eq!(route(&s, Face::Node, Platform::Talos, "redlib.vanillax.me").status, 200);
    }
}
