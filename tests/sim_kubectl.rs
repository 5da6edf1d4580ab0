//! The real kubectl against the simulated cluster, through a written kubeconfig, with no extra flags.
mod sim_support;

use fleetctl::sim::Platform;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn kubectl_bin() -> Option<std::path::PathBuf> {
    which::which("kubectl").ok()
}

fn kubectl(kc: &Path, args: &[&str]) -> Output {
    let out = Command::new(kubectl_bin().unwrap())
        .arg("--kubeconfig")
        .arg(kc)
        .args(args)
        .output()
        .expect("kubectl runs");
    eprintln!(
        "$ kubectl {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn ok(kc: &Path, args: &[&str]) -> String {
    let out = kubectl(kc, args);
    assert!(
        out.status.success(),
        "kubectl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const MANIFEST: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels: {app: shop, tier: config}
data: {mode: simulated}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: shop, tier: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers: [{name: web, image: "registry.example/web:1"}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: vectoradd, namespace: shop}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: cuda, image: "nvcr.io/nvidia/k8s/cuda-sample:vectoradd-cuda12.5.0-ubuntu22.04"}]
"#;

const WIDGET_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.sim}
spec:
  group: example.sim
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_works_unchanged_against_the_sim() {
    if kubectl_bin().is_none() {
        eprintln!("SKIPPED: kubectl is not on PATH; this test needs the real kubectl");
        return;
    }
    let h = sim_support::start(Platform::Talos, 20.0, "", false).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = sim_support::kubeconfig(&h, &dir);

    let res = ok(&kc, &["api-resources"]);
    assert!(
        res.contains("deployments") && res.contains("customresourcedefinitions"),
        "{res}"
    );
    assert!(!res.contains("config.openshift.io"));

    assert!(ok(&kc, &["create", "namespace", "shop"]).contains("namespace/shop created"));
    let dup = kubectl(&kc, &["create", "namespace", "shop"]);
    assert!(!dup.status.success() && String::from_utf8_lossy(&dup.stderr).contains("AlreadyExists"));

    // get -w in the background sees an object created later
    let mut watch = Command::new(kubectl_bin().unwrap())
        .arg("--kubeconfig")
        .arg(&kc)
        .args([
            "get",
            "configmaps",
            "-n",
            "shop",
            "-w",
            "--request-timeout=20s",
            "-o",
            "name",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // read what it prints as it comes; wait until its watch request has reached the sim
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut out = watch.stdout.take().unwrap();
    let sink = seen.clone();
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    sim_support::eventually(20, "kubectl get -w to open its watch", || async {
        h.stats().requests.contains_key("WATCH configmaps").then_some(())
    })
    .await;

    let mf = dir.path().join("m.yaml");
    std::fs::write(&mf, MANIFEST).unwrap();
    let applied = ok(&kc, &["apply", "--server-side", "-f", mf.to_str().unwrap()]);
    assert!(applied.contains("configmap/settings serverside-applied"), "{applied}");
    assert!(applied.contains("deployment.apps/web serverside-applied"));

    sim_support::eventually(20, "kubectl get -w to print configmap/settings", || async {
        seen.lock().unwrap().contains("configmap/settings").then_some(())
    })
    .await;
    watch.kill().unwrap();
    let _ = watch.wait();
    let _ = reader.join();

    let by_label = ok(
        &kc,
        &[
            "get",
            "cm,deploy",
            "-n",
            "shop",
            "-l",
            "app=shop,tier in (web)",
            "-o",
            "name",
        ],
    );
    assert_eq!(by_label.trim(), "deployment.apps/web");
    let not_web = ok(&kc, &["get", "cm", "-n", "shop", "-l", "tier!=web", "-o", "name"]);
    assert!(not_web.contains("configmap/settings") && !not_web.contains("kube-root"));

    // a status the Deployment controller sets
    ok(
        &kc,
        &[
            "wait",
            "--for=condition=Available",
            "deployment/web",
            "-n",
            "shop",
            "--timeout=20s",
        ],
    );
    let ready = ok(
        &kc,
        &[
            "get",
            "deploy",
            "web",
            "-n",
            "shop",
            "-o",
            "jsonpath={.status.readyReplicas}",
        ],
    );
    assert_eq!(ready, "2");
    // server-side printing: kubectl's default columns come from the sim's Table
    let table = ok(&kc, &["get", "deploy", "web", "-n", "shop"]);
    assert!(table.contains("READY") && table.contains("2/2"), "{table}");
    assert!(ok(&kc, &["scale", "deploy/web", "-n", "shop", "--replicas=3"]).contains("scaled"));
    ok(
        &kc,
        &[
            "wait",
            "--for=jsonpath={.status.readyReplicas}=3",
            "deploy/web",
            "-n",
            "shop",
            "--timeout=20s",
        ],
    );
    ok(&kc, &["rollout", "status", "deploy/web", "-n", "shop", "--timeout=20s"]);

    // Job -> Pod -> log
    ok(
        &kc,
        &[
            "wait",
            "--for=condition=Complete",
            "job/vectoradd",
            "-n",
            "shop",
            "--timeout=30s",
        ],
    );
    let log = ok(&kc, &["logs", "job/vectoradd", "-n", "shop"]);
    assert!(log.ends_with("Test PASSED\nDone\n"), "{log:?}");
    ok(&kc, &["delete", "job", "vectoradd", "-n", "shop"]);
    let pods = ok(&kc, &["get", "pods", "-n", "shop", "-o", "name"]);
    assert!(pods.trim().is_empty(), "the Job's pod is garbage-collected: {pods}");

    // a CRD applied with kubectl becomes Established and served; unknown fields are refused (Strict)
    let crd = dir.path().join("crd.yaml");
    std::fs::write(&crd, WIDGET_CRD).unwrap();
    ok(&kc, &["apply", "--server-side", "-f", crd.to_str().unwrap()]);
    ok(
        &kc,
        &[
            "wait",
            "--for=condition=Established",
            "crd/widgets.example.sim",
            "--timeout=20s",
        ],
    );
    let w = dir.path().join("w.yaml");
    std::fs::write(
        &w,
        "apiVersion: example.sim/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\nspec: {size: 2}\n",
    )
    .unwrap();
    ok(&kc, &["apply", "--server-side", "-f", w.to_str().unwrap()]);
    assert_eq!(
        ok(
            &kc,
            &["get", "widgets", "-n", "shop", "-o", "jsonpath={.items[0].spec.size}"]
        ),
        "2"
    );
    std::fs::write(&w, "apiVersion: example.sim/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\nspec: {size: 2, colour: red}\n").unwrap();
    let bad = kubectl(&kc, &["apply", "--server-side", "-f", w.to_str().unwrap()]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("unknown field \"spec.colour\""));

    assert!(ok(&kc, &["delete", "configmap", "settings", "-n", "shop"]).contains("deleted"));
    let gone = kubectl(&kc, &["get", "configmap", "settings", "-n", "shop"]);
    assert!(!gone.status.success() && String::from_utf8_lossy(&gone.stderr).contains("NotFound"));
    ok(&kc, &["delete", "namespace", "shop"]);
    let gone = kubectl(&kc, &["get", "deploy", "-n", "shop", "-o", "name"]);
    assert!(
        String::from_utf8_lossy(&gone.stdout).trim().is_empty(),
        "namespace delete cascades"
    );
    h.shutdown().await;
}
