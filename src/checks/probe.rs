//! The live HTTPS probe: does `https://<host><path>` answer? The host is read from an object (a Route's
//! `spec.host`, an HTTPRoute's hostname). `FLEETCTL_PROBE_RESOLVE=host=ADDR:PORT,...` pins hosts to
//! addresses (like curl --resolve); tests and rehearsals pin every host to loopback, and a rehearsal never
//! probes a host it has not pinned. With a given resolver (`FLEETCTL_DNS_SERVER`, loopback only: see
//! `resolve`) the host is resolved first and a pin may name the address it resolves to
//! (`192.0.2.10=127.0.0.1:PORT`), so a probe reaches what the LAN's DNS sends a browser to.
//! `FLEETCTL_PROBE_INSECURE=1` accepts any certificate (self-signed test servers only). A 503 that is
//! OpenShift's default router's own page ("Application is not available") gets its own hint: the name reaches
//! the node's router, not the Gateway.

use crate::cluster::source::Source;
use crate::error::UserError;
use crate::report::Status;
use crate::runbook::path::{scalar_string, FieldPath};
use crate::runbook::Probe;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Host pins from `FLEETCTL_PROBE_RESOLVE`.
pub fn pins() -> BTreeMap<String, String> {
    std::env::var("FLEETCTL_PROBE_RESOLVE")
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

pub async fn run(p: &Probe, src: &Source<'_>) -> Result<(Status, crate::report::Evidence, Vec<String>), UserError> {
    let mut ev = BTreeMap::new();
    let obj = src.get_ref(&p.host_from.object).await?;
    let path = FieldPath::parse(&p.host_from.field).map_err(UserError::usage)?;
    let Some(host) = obj
        .as_ref()
        .and_then(|o| path.get(o))
        .map(scalar_string)
        .filter(|h| !h.is_empty())
    else {
        return Ok((
            Status::Pending,
            ev,
            vec![format!(
                "no host yet at {} of {}",
                p.host_from.field,
                p.host_from.object.display()
            )],
        ));
    };
    ev.insert("url".into(), format!("https://{host}{}", p.path).into());
    let pins = pins();
    let mut resolved = None;
    if !pins.contains_key(&host) {
        if let Some(server) = super::resolve::given_server().map_err(UserError::usage)? {
            match super::resolve::query(server, &host).await {
                Ok(ips) if ips.is_empty() => {
                    return Ok((
                        Status::Fail,
                        ev,
                        vec![format!("{host} does not resolve (DNS server {server})")],
                    ));
                }
                Ok(ips) => {
                    ev.insert("resolvedTo".into(), ips[0].to_string().into());
                    resolved = Some(ips[0].to_string());
                }
                Err(e) => return Ok((Status::Fail, ev, vec![e])),
            }
        }
    }
    let pin = pins
        .get(&host)
        .or_else(|| resolved.as_ref().and_then(|ip| pins.get(ip)))
        .or_else(|| pins.get("*"));
    let addr = match pin {
        Some(a) => a.clone(),
        // A simulated cluster's hosts are real names on a real LAN: never contact them unless pinned.
        None if std::env::var("FLEETCTL_REHEARSAL").is_ok() || matches!(src, Source::Live(c) if c.simulated) => {
            return Ok((
                Status::Skipped,
                ev,
                vec![format!(
                    "simulated cluster: {host} is a real host; not probed (pin it with FLEETCTL_PROBE_RESOLVE)"
                )],
            ));
        }
        None => format!("{}:443", resolved.as_deref().unwrap_or(&host)),
    };
    ev.insert("address".into(), addr.clone().into());
    match tokio::time::timeout(Duration::from_secs(10), get_status(&host, &addr, &p.path)).await {
        Ok(Ok((code, said, router_page))) => {
            ev.insert("httpStatus".into(), code.into());
            let ok = if p.status.is_empty() {
                (200..400).contains(&code)
            } else {
                p.status.contains(&code)
            };
            // A failing answer's first body line often says why (a router's "no backend", a 503 page).
            let why = match said {
                Some(line) if !ok => format!(": {line}"),
                _ => String::new(),
            };
            let mut details = vec![format!("HTTPS GET answered {code}{why}")];
            if router_page && !ok {
                ev.insert("answeredBy".into(), "openshift-router".into());
                details.push(format!(
                    "this 503 is OpenShift's default ingress router (its own page and default certificate), not the app: {host} resolves to the node, where the router knows no Route for it; an HTTPRoute is served at the Gateway's address, so {host} needs a DNS record pointing there (phase 3's dns-check prints it)"
                ));
            }
            Ok((if ok { Status::Pass } else { Status::Fail }, ev, details))
        }
        Ok(Err(e)) => Ok((Status::Fail, ev, vec![format!("HTTPS GET failed: {e}")])),
        Err(_) => Ok((Status::Fail, ev, vec!["HTTPS GET timed out after 10s".into()])),
    }
}

/// The status code, the first non-empty body line (at most 200 characters) of the first 4 KiB, and whether
/// the body is OpenShift's router page.
async fn get_status(host: &str, addr: &str, path: &str) -> Result<(u16, Option<String>, bool), String> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(c);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = if std::env::var("FLEETCTL_PROBE_INSECURE").is_ok_and(|v| v == "1") {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
            .with_no_client_auth()
    } else {
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: fleetctl\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while buf.len() < 4096 {
        match tls.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            // Servers that close without a TLS close_notify: keep what arrived.
            Err(e) if buf.is_empty() => return Err(e.to_string()),
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {:?}", text.lines().next()))?;
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| b.lines().map(str::trim).find(|l| !l.is_empty()))
        .map(|l| l.chars().take(200).collect::<String>());
    Ok((code, body, code == 503 && text.contains("Application is not available")))
}

#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
