//! The wire layer: the Kubernetes API protocol over HTTP. Connection handling (hyper http1 on
//! loopback), fault injection, request stats, routing of discovery / OpenAPI / `/_sim` / resource paths
//! to the verbs; patches and server-side apply, watches, tables, protobuf bodies, Status errors.
//!
//! It reads and writes the store and the faults in force (`World`); it never calls a controller.

mod apply;
pub(crate) mod discovery;
mod errors;
mod fieldset;
mod openapi;
mod patch;
mod protobuf;
mod selector;
mod smp;
mod stats;
mod table;
mod verbs;
mod watch;
mod write;

use super::faults::{FaultSpec, Injected};
use super::world::World;
use crate::sim::store::kinds::{builtins, ResourceInfo};
use bytes::Bytes;
use errors::ApiError;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
pub use stats::Stats;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Returned by the service to make hyper close the connection without a response (`drop` fault).
#[derive(Debug)]
pub struct DropConnection;
impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("simulated connection drop")
    }
}
impl std::error::Error for DropConnection {}

/// What the API layer keeps beside the world: request stats, the seeded fault RNG, its address.
pub(crate) struct Server {
    pub world: Arc<World>,
    pub stats: Mutex<Stats>,
    /// Seeded RNG for fault rolls when the spec has `seed=N`.
    rng: Mutex<Option<rand::rngs::StdRng>>,
    pub addr: SocketAddr,
}

impl std::ops::Deref for Server {
    type Target = World;
    fn deref(&self) -> &World {
        &self.world
    }
}

impl Server {
    pub fn new(world: Arc<World>, addr: SocketAddr) -> Self {
        let s = Server {
            world,
            stats: Mutex::new(Stats::default()),
            rng: Mutex::new(None),
            addr,
        };
        s.set_faults(s.world.faults());
        s
    }
    pub fn set_faults(&self, spec: FaultSpec) {
        use rand::SeedableRng;
        *self.rng.lock().unwrap() = spec.seed.map(rand::rngs::StdRng::seed_from_u64);
        self.world.set_faults(spec);
    }
    /// Rolls the faults for one request (seeded when the spec says so).
    fn roll(&self, is_write: bool) -> Injected {
        let spec = self.faults();
        let mut rng = self.rng.lock().unwrap();
        match rng.as_mut() {
            Some(r) => {
                use rand::RngExt;
                spec.roll_with(is_write, &mut || r.random::<f64>())
            }
            None => spec.roll(is_write),
        }
    }
}

pub async fn serve(listener: TcpListener, shared: Arc<Server>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            acc = listener.accept() => {
                let Ok((stream, _)) = acc else { continue };
                let sh = shared.clone();
                conns.spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(sh.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

pub fn full(code: u16, ctype: &str, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", ctype)
        .header("cache-control", "no-cache, private")
        .body(Full::new(body.into()).boxed_unsync())
        .unwrap()
}

pub fn json_resp(code: u16, v: &Value) -> Response<Body> {
    full(code, "application/json", serde_json::to_vec(v).unwrap_or_default())
}

pub fn err_resp(e: &ApiError) -> Response<Body> {
    let mut r = json_resp(e.code, &e.status());
    if e.code == 429 {
        r.headers_mut().insert("retry-after", "1".parse().unwrap());
    }
    r
}

/// A parsed request, as the verb handlers see it.
pub struct Req {
    pub method: Method,
    pub query: HashMap<String, String>,
    pub content_type: String,
    pub user_agent: String,
    pub accept: String,
    pub body: Bytes,
}

impl Req {
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }
    pub fn dry_run(&self) -> bool {
        self.q("dryRun").is_some_and(|v| v == "All")
    }
    pub fn is_watch(&self) -> bool {
        self.method == Method::GET && self.q("watch").is_some_and(|v| v == "true" || v == "1")
    }
}

/// A resource path: /api/v1/..., /apis/{g}/{v}/...
#[derive(Debug, Clone)]
pub struct Target {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub ns: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
}

fn parse_target(segs: &[&str]) -> Option<Target> {
    let (group, version, rest) = match segs {
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    if rest.is_empty() {
        return None;
    }
    let mut ns = None;
    let mut rest = rest;
    if rest[0] == "namespaces" && rest.len() >= 3 && !(rest.len() == 3 && ["status", "finalize"].contains(&rest[2])) {
        ns = Some(rest[1].to_string());
        rest = &rest[2..];
    }
    if rest.len() > 3 {
        return None;
    }
    Some(Target {
        group: group.into(),
        version: version.into(),
        plural: rest[0].into(),
        ns,
        name: rest.get(1).map(|s| s.to_string()),
        sub: rest.get(2).map(|s| s.to_string()),
    })
}

pub fn all_resources(shared: &Server) -> Vec<ResourceInfo> {
    let mut all = builtins();
    all.extend(shared.store.crd_resources());
    all
}

fn stats_verb(req: &Req) -> &'static str {
    match req.method {
        Method::GET if req.is_watch() => "WATCH",
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "OTHER",
    }
}

async fn handle(shared: Arc<Server>, req: Request<hyper::body::Incoming>) -> Result<Response<Body>, DropConnection> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query: HashMap<String, String> = parts.uri.query().map(url_decode_pairs).unwrap_or_default();
    let hdr = |k: &str| {
        parts
            .headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let req = Req {
        method: parts.method.clone(),
        query,
        content_type: hdr("content-type"),
        user_agent: hdr("user-agent"),
        accept: hdr("accept"),
        body,
    };
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();

    if segs.first() == Some(&"_sim") {
        return Ok(sim_endpoint(&shared, &req, &segs[1..]));
    }
    let target = parse_target(&segs);
    let key = match &target {
        Some(t) => {
            let res = match &t.sub {
                Some(s) => format!("{}/{s}", t.plural),
                None => t.plural.clone(),
            };
            format!("{} {res}", stats_verb(&req))
        }
        None if segs.first() == Some(&"openapi") => "GET openapi".into(),
        None => "GET discovery".into(),
    };
    let is_write = [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(&req.method);
    {
        let mut st = shared.stats.lock().unwrap();
        *st.requests.entry(key).or_default() += 1;
    }
    if matches!(segs.first(), Some(&"api") | Some(&"apis")) {
        let injected = shared.roll(is_write);
        let count = |k: &str| *shared.stats.lock().unwrap().faults.entry(k.to_string()).or_default() += 1;
        match injected {
            Injected::None => {}
            Injected::Drop => {
                count("drop");
                return Err(DropConnection);
            }
            Injected::Slow(d) => {
                count("slow");
                tokio::time::sleep(d).await;
            }
            Injected::Status(code) => {
                count(&code.to_string());
                let e = match code {
                    503 => ApiError::new(503, "ServiceUnavailable", "the server is currently unable to handle the request (simulated fault)"),
                    429 => ApiError::new(429, "TooManyRequests", "the server has received too many requests and has asked us to try again later (simulated fault)"),
                    409 => ApiError::new(409, "Conflict", "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again (simulated fault)"),
                    _ => ApiError::new(500, "InternalError", "Internal error occurred: simulated fault"),
                };
                return Ok(err_resp(&e));
            }
        }
    }
    let resp = match (target, segs.as_slice()) {
        (Some(t), _) => verbs::dispatch(&shared, &req, t).await.unwrap_or_else(|e| err_resp(&e)),
        (None, ["version"]) => {
            let (maj, min) = crate::sim::catalog::kube_version(shared.platform);
            json_resp(
                200,
                &json!({"major": maj, "minor": min, "gitVersion": format!("v{maj}.{min}.2-sim"),
                "gitCommit": "simulated", "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                "goVersion": "go1.24", "compiler": "gc", "platform": "linux/amd64"}),
            )
        }
        (None, ["api"]) if wants_aggregated(&req) => aggregated(&all_resources(&shared), true),
        (None, ["apis"]) if wants_aggregated(&req) => aggregated(&all_resources(&shared), false),
        (None, ["api"]) => json_resp(200, &discovery::api_versions(&shared.addr.to_string())),
        (None, ["apis"]) => json_resp(200, &discovery::api_group_list(&all_resources(&shared))),
        (None, ["api", v]) | (None, ["apis", "", v]) => opt(discovery::resource_list(&all_resources(&shared), "", v)),
        (None, ["apis", g]) => opt(discovery::api_group(&all_resources(&shared), g)),
        (None, ["apis", g, v]) => opt(discovery::resource_list(&all_resources(&shared), g, v)),
        (None, ["openapi", rest @ ..]) => openapi::serve(&shared, rest, &req),
        _ => err_resp(&ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )),
    };
    Ok(resp)
}

/// client-go and kube-rs ask for aggregated discovery v2 first (legacy JSON is the fallback).
fn wants_aggregated(req: &Req) -> bool {
    req.accept
        .split(',')
        .any(|a| a.contains("as=APIGroupDiscoveryList") && a.contains("v=v2") && !a.contains("v=v2beta1"))
}

fn aggregated(all: &[ResourceInfo], core: bool) -> Response<Body> {
    full(
        200,
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        serde_json::to_vec(&discovery::aggregated(all, core)).unwrap_or_default(),
    )
}

fn opt(v: Option<Value>) -> Response<Body> {
    match v {
        Some(v) => json_resp(200, &v),
        None => err_resp(&ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )),
    }
}

fn sim_endpoint(shared: &Server, req: &Req, segs: &[&str]) -> Response<Body> {
    match (&req.method, segs) {
        (&Method::GET, ["stats"]) => json_resp(
            200,
            &serde_json::to_value(shared.stats.lock().unwrap().clone()).unwrap(),
        ),
        (&Method::POST, ["stats", "reset"]) => {
            *shared.stats.lock().unwrap() = Default::default();
            json_resp(200, &json!({"reset": true}))
        }
        (&Method::PUT, ["faults"]) => match String::from_utf8_lossy(&req.body).trim().parse::<FaultSpec>() {
            Ok(f) => {
                shared.set_faults(f);
                json_resp(200, &json!({"faults": String::from_utf8_lossy(&req.body).trim()}))
            }
            Err(e) => err_resp(&ApiError::bad_request(e)),
        },
        _ => err_resp(&ApiError::new(
            404,
            "NotFound",
            "unknown /_sim endpoint (GET /_sim/stats, POST /_sim/stats/reset, PUT /_sim/faults)",
        )),
    }
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn url_decode_pairs(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (url_decode(k), url_decode(v))
        })
        .collect()
}
