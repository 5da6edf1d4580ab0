//! Fidelity: what kube-apiserver fills in and normalizes on write (the `SetDefaults_*` functions of
//! k8s.io/kubernetes `pkg/apis/*/v1/defaults.go`, `resource.Quantity`'s canonical form, Go's `omitempty`
//! on the typed round trip, a CRD schema's `default`s), as a client reading the object back sees it.
mod sim_fidelity_support;

use sim_fidelity_support::{widget_crd, Sim};

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n        ports: [{containerPort: 8080}]\n        resources: {requests: {cpu: 0.5, memory: 1024Mi}, limits: {cpu: 1500m, memory: 1.5Gi}}\n";

/// apimachinery `pkg/api/resource/quantity.go`: quantities are stored in canonical form
/// (`0.5` -> `500m`, `1024Mi` -> `1Gi`, `1.5Gi` -> `1536Mi`).
#[test]
fn quantities_come_back_in_canonical_form() {
    need_kubectl!();
    let sim = Sim::start("talos");
    sim.ok(&["apply", "--server-side", "-f", "-"], DEPLOY);
    let d = sim.get(&["deployment", "web", "-n", "default"]);
    let r = &d["spec"]["template"]["spec"]["containers"][0]["resources"];
    assert_eq!(r["requests"]["cpu"], "500m", "{r}");
    assert_eq!(r["requests"]["memory"], "1Gi", "{r}");
    assert_eq!(r["limits"]["cpu"], "1500m", "{r}");
    assert_eq!(r["limits"]["memory"], "1536Mi", "{r}");
}

/// apps/v1 `SetDefaults_Deployment` and core/v1 `SetDefaults_PodSpec` / `SetDefaults_Container`.
#[test]
fn a_deployment_gets_the_api_servers_defaults() {
    need_kubectl!();
    let sim = Sim::start("talos");
    sim.ok(&["apply", "--server-side", "-f", "-"], DEPLOY);
    let d = sim.get(&["deployment", "web", "-n", "default"]);
    let s = &d["spec"];
    assert_eq!(s["replicas"], 1);
    assert_eq!(s["revisionHistoryLimit"], 10);
    assert_eq!(s["progressDeadlineSeconds"], 600);
    assert_eq!(s["strategy"]["type"], "RollingUpdate");
    assert_eq!(s["strategy"]["rollingUpdate"]["maxSurge"], "25%");
    let pod = &s["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Always");
    assert_eq!(pod["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    assert_eq!(pod["schedulerName"], "default-scheduler");
    let c = &pod["containers"][0];
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(c["ports"][0]["protocol"], "TCP", "{c}");
}

/// core/v1 `SetDefaults_Service` / `SetDefaults_ServicePort`: protocol TCP, targetPort = port,
/// sessionAffinity None, a single-stack IPv4 family.
#[test]
fn a_service_gets_the_api_servers_defaults() {
    need_kubectl!();
    let sim = Sim::start("talos");
    sim.ok(&["apply", "--server-side", "-f", "-"], "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: default}\nspec: {selector: {app: web}, ports: [{name: http, port: 80}]}\n");
    let s = sim.get(&["service", "s", "-n", "default"]);
    let p = &s["spec"]["ports"][0];
    assert_eq!(p["protocol"], "TCP", "{s}");
    assert_eq!(p["targetPort"], 80, "{s}");
    assert_eq!(s["spec"]["sessionAffinity"], "None");
    assert_eq!(s["spec"]["ipFamilies"], serde_json::json!(["IPv4"]));
    assert_eq!(s["spec"]["ipFamilyPolicy"], "SingleStack");
}

/// Go's `omitempty` on the typed round trip: empty maps (annotations, labels, data) are not stored.
#[test]
fn empty_maps_are_dropped() {
    need_kubectl!();
    let sim = Sim::start("talos");
    sim.ok(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default, labels: {}}\ndata: {}\n",
    );
    let c = sim.get(&["configmap", "c", "-n", "default"]);
    assert!(c["metadata"].get("labels").is_none(), "{c:#}");
    assert!(c.get("data").is_none(), "{c:#}");
}

/// apiextensions structural defaulting: a field absent where the CRD schema has a `default` is stored
/// with it (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#defaulting).
#[test]
fn a_custom_resource_gets_its_schema_defaults() {
    need_kubectl!();
    let sim = Sim::start("talos");
    widget_crd(
        &sim,
        "{type: object, properties: {size: {type: integer, default: 3}, mode: {type: string, default: fast}}}",
    );
    sim.ok(&["apply", "-f", "-"], "apiVersion: fidelity.example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default}\nspec: {mode: slow}\n");
    let w = sim.get(&["widget", "w", "-n", "default"]);
    assert_eq!(w["spec"]["size"], 3, "{w:#}");
    assert_eq!(w["spec"]["mode"], "slow");
}
