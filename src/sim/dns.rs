//! The SIMULATED LAN DNS: a DNS server on 127.0.0.1 (UDP) that answers A queries for the cluster's names the
//! way the owner's LAN does, so that the DNS check and the probes can be tested without ever querying the
//! real domains. OpenShift: the brief's Firewalla rule, `*.apps.<domain>` -> the node (its InternalIP), and,
//! with `LanDns::PerHost`, one record per HTTPRoute hostname -> the address of the Gateway it attaches to (the
//! records fleetctl's DNS check tells the owner to create). Talos: every HTTPRoute hostname -> its Gateway's
//! address (the Technitium records the Talos fleet already has). Anything else: NXDOMAIN.

use super::catalog::INGRESS_DOMAIN;
use super::store::{meta_str, Store};
use crate::fleet::Platform;
use serde_json::Value;
use simple_dns::rdata::{RData, A};
use simple_dns::{Packet, PacketFlag, ResourceRecord, CLASS, QTYPE, RCODE, TYPE};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// What the simulated LAN DNS holds besides the platform's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LanDns {
    /// Only the wildcard for the apps domain (to the node): the LAN as the brief describes it.
    #[default]
    WildcardOnly,
    /// Plus a record per HTTPRoute hostname to its Gateway's address (rehearsals: the owner made them).
    PerHost,
}

impl std::str::FromStr for LanDns {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "wildcard-only" => Ok(LanDns::WildcardOnly),
            "per-host" => Ok(LanDns::PerHost),
            other => Err(format!(
                "unknown LAN DNS '{other}' (expected wildcard-only or per-host)"
            )),
        }
    }
}

fn gateway_address(store: &Store, ns: &str, name: &str) -> Option<Ipv4Addr> {
    store
        .get("gateways.gateway.networking.k8s.io", ns, name)?
        .pointer("/status/addresses/0/value")?
        .as_str()?
        .parse()
        .ok()
}

fn node_address(store: &Store) -> Option<Ipv4Addr> {
    let nodes = store.list("nodes", None).0;
    let addrs = nodes.first()?.pointer("/status/addresses")?.as_array()?.clone();
    addrs
        .iter()
        .find(|a| a["type"] == "InternalIP")?
        .get("address")?
        .as_str()?
        .parse()
        .ok()
}

/// The address `host` resolves to on the simulated LAN.
pub fn answer(store: &Store, platform: Platform, mode: LanDns, host: &str) -> Option<Ipv4Addr> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if platform == Platform::Talos || mode == LanDns::PerHost {
        for r in store.list("httproutes.gateway.networking.k8s.io", None).0 {
            let named = r["spec"]["hostnames"].as_array().is_some_and(|h| {
                h.iter()
                    .any(|n| n.as_str().is_some_and(|n| n.eq_ignore_ascii_case(&host)))
            });
            if !named {
                continue;
            }
            let ns = meta_str(&r, "namespace");
            let parents = r["spec"]["parentRefs"].as_array().cloned().unwrap_or_default();
            if let Some(ip) = parents.iter().find_map(|p: &Value| {
                gateway_address(
                    store,
                    p["namespace"].as_str().unwrap_or(ns),
                    p["name"].as_str().unwrap_or(""),
                )
            }) {
                return Some(ip);
            }
        }
    }
    if platform == Platform::Openshift && host.ends_with(&format!(".{INGRESS_DOMAIN}")) {
        return node_address(store);
    }
    None
}

fn reply(store: &Store, platform: Platform, mode: LanDns, query: &[u8]) -> Option<Vec<u8>> {
    let q = Packet::parse(query).ok()?;
    let mut r = Packet::new_reply(q.id());
    r.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    let mut found = false;
    for question in &q.questions {
        r.questions.push(question.clone());
        if question.qtype != QTYPE::TYPE(TYPE::A) {
            continue;
        }
        if let Some(ip) = answer(store, platform, mode, &question.qname.to_string()) {
            found = true;
            let rr = ResourceRecord::new(
                question.qname.clone(),
                CLASS::IN,
                60,
                RData::A(A { address: ip.into() }),
            );
            r.answers.push(rr);
        }
    }
    if !found {
        *r.rcode_mut() = RCODE::NameError;
    }
    r.build_bytes_vec().ok()
}

/// Serves the simulated LAN DNS on 127.0.0.1 (a free UDP port) until the task is aborted.
pub async fn start(
    store: Arc<Store>,
    platform: Platform,
    mode: LanDns,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let sock = tokio::net::UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = sock.local_addr()?;
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                continue;
            };
            if let Some(out) = reply(&store, platform, mode, &buf[..n]) {
                let _ = sock.send_to(&out, from).await;
            }
        }
    });
    Ok((addr, task))
}
