//! Resolving app hostnames the way a client on the LAN would. `FLEETCTL_DNS_SERVER=127.0.0.1:PORT` names
//! the resolver fleetctl must use (tests and rehearsals: the simulated LAN DNS; loopback only, so a test can
//! never query the real domains); without it the system resolver answers. A rehearsal, or a simulated
//! cluster, without a given resolver resolves nothing: its hostnames are real names on a real LAN.

use simple_dns::rdata::RData;
use simple_dns::{Name, Packet, Question, CLASS, QCLASS, QTYPE, RCODE, TYPE};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The resolver fleetctl was given, if any; an address that is not loopback is refused.
pub fn given_server() -> Result<Option<SocketAddr>, String> {
    let Ok(v) = std::env::var("FLEETCTL_DNS_SERVER") else {
        return Ok(None);
    };
    let addr: SocketAddr = v
        .trim()
        .parse()
        .map_err(|_| format!("FLEETCTL_DNS_SERVER={v} is not an address:port"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "FLEETCTL_DNS_SERVER={v} is not a loopback address: a given resolver is for tests and rehearsals only"
        ));
    }
    Ok(Some(addr))
}

/// Whether resolving may touch the real network: never in a rehearsal or on a simulated cluster.
pub fn may_use_system(simulated: bool) -> bool {
    !simulated && std::env::var("FLEETCTL_REHEARSAL").is_err()
}

/// The IPv4 addresses `host` resolves to (empty: it does not resolve). `Err` when no resolver may be used.
pub async fn resolve(host: &str, simulated: bool) -> Result<Vec<IpAddr>, String> {
    match given_server()? {
        Some(server) => query(server, host).await,
        None if may_use_system(simulated) => Ok(tokio::net::lookup_host((host, 443))
            .await
            .map(|it| it.map(|a| a.ip()).filter(IpAddr::is_ipv4).collect())
            .unwrap_or_default()),
        None => Err(format!(
            "{host} is a real name on a real LAN and this is a simulated cluster: give fleetctl a resolver (FLEETCTL_DNS_SERVER)"
        )),
    }
}

/// One A query over UDP to a given server.
pub async fn query(server: SocketAddr, host: &str) -> Result<Vec<IpAddr>, String> {
    let id: u16 = rand::random();
    let mut q = Packet::new_query(id);
    let name = Name::new(host).map_err(|e| format!("{host}: {e}"))?;
    q.questions.push(Question::new(
        name,
        QTYPE::TYPE(TYPE::A),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    let bytes = q.build_bytes_vec().map_err(|e| e.to_string())?;
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 1500];
    for _ in 0..3 {
        sock.send_to(&bytes, server)
            .await
            .map_err(|e| format!("DNS query to {server}: {e}"))?;
        let Ok(Ok((n, _))) = tokio::time::timeout(Duration::from_secs(2), sock.recv_from(&mut buf)).await else {
            continue;
        };
        let reply = Packet::parse(&buf[..n]).map_err(|e| format!("bad DNS answer from {server}: {e}"))?;
        if reply.id() != id {
            continue;
        }
        if reply.rcode() == RCODE::NameError {
            return Ok(vec![]);
        }
        return Ok(reply
            .answers
            .iter()
            .filter_map(|rr| match &rr.rdata {
                RData::A(a) => Some(IpAddr::V4(a.address.into())),
                _ => None,
            })
            .collect());
    }
    Err(format!("the DNS server {server} did not answer"))
}
