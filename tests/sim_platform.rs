//! Platform identity and the scripted operators (OLM, operands) of the simulated clusters.
mod sim_support;

use fleetctl::sim::Platform;
use serde_json::json;
use sim_support::{apply_yaml, get_json, wait_field};

const GITOPS_SUB: &str = r#"
apiVersion: operators.coreos.com/v1alpha1
kind: Subscription
metadata: {name: openshift-gitops-operator, namespace: openshift-gitops-operator}
spec:
  channel: latest
  installPlanApproval: Automatic
  name: openshift-gitops-operator
  source: redhat-operators
  sourceNamespace: openshift-marketplace
"#;

async fn ns(client: &kube::Client, name: &str) {
    apply_yaml(
        client,
        &format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n"),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openshift_gitops_subscription_installs_the_operator() {
    let h = sim_support::start(Platform::Openshift, 20.0, "", true).await;
    let c = sim_support::kube_client(&h).await;
    let cv = get_json(&c, "config.openshift.io/v1", "ClusterVersion", None, "version")
        .await
        .unwrap();
    assert_eq!(cv["status"]["desired"]["version"], "4.22.0-rc.2");
    let node = get_json(&c, "v1", "Node", None, "sno-ai-lab").await.unwrap();
    assert!(node["status"]["nodeInfo"]["osImage"]
        .as_str()
        .unwrap()
        .starts_with("Red Hat Enterprise Linux CoreOS 9.6"));
    let ing = get_json(&c, "config.openshift.io/v1", "Ingress", None, "cluster")
        .await
        .unwrap();
    assert_eq!(ing["spec"]["domain"], "apps.sno-ai-lab.vanillax.xyz");
    assert!(get_json(
        &c,
        "security.openshift.io/v1",
        "SecurityContextConstraints",
        None,
        "restricted-v2"
    )
    .await
    .is_some());

    ns(&c, "openshift-gitops-operator").await;
    apply_yaml(&c, "apiVersion: operators.coreos.com/v1\nkind: OperatorGroup\nmetadata: {name: openshift-gitops-operator, namespace: openshift-gitops-operator}\nspec: {}\n").await.unwrap();
    let d = kube::discovery::Discovery::new(c.clone()).run().await.unwrap();
    assert!(
        !d.has_group("argoproj.io"),
        "argocds must not be served before the operator is installed"
    );
    apply_yaml(&c, GITOPS_SUB).await.unwrap();

    let sub = wait_field(
        &c,
        "operators.coreos.com/v1alpha1",
        "Subscription",
        Some("openshift-gitops-operator"),
        "openshift-gitops-operator",
        "/status/state",
        json!("AtLatestKnown"),
        20,
    )
    .await;
    let csv_name = sub["status"]["installedCSV"].as_str().unwrap().to_string();
    assert!(csv_name.starts_with("openshift-gitops-operator.v"), "{csv_name}");
    assert_eq!(sub["status"]["currentCSV"], csv_name.as_str());
    wait_field(
        &c,
        "operators.coreos.com/v1alpha1",
        "ClusterServiceVersion",
        Some("openshift-gitops-operator"),
        &csv_name,
        "/status/phase",
        json!("Succeeded"),
        5,
    )
    .await;

    let d = kube::discovery::Discovery::new(c.clone()).run().await.unwrap();
    let g = d
        .groups()
        .find(|g| g.name() == "argoproj.io")
        .expect("argoproj.io served");
    let res: Vec<_> = g
        .recommended_resources()
        .iter()
        .map(|(ar, _)| format!("{}/{}", ar.plural, ar.version))
        .collect();
    assert!(res.contains(&"argocds/v1beta1".to_string()), "{res:?}");
    // the real CRD schema is served (from shared/crds)
    let crd = get_json(
        &c,
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        None,
        "argocds.argoproj.io",
    )
    .await
    .unwrap();
    assert!(crd
        .pointer("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties")
        .is_some());

    // the operator's default instance becomes Available with a Route
    let argo = wait_field(
        &c,
        "argoproj.io/v1beta1",
        "ArgoCD",
        Some("openshift-gitops"),
        "openshift-gitops",
        "/status/phase",
        json!("Available"),
        20,
    )
    .await;
    assert_eq!(argo["status"]["server"], "Running");
    let route = get_json(
        &c,
        "route.openshift.io/v1",
        "Route",
        Some("openshift-gitops"),
        "openshift-gitops-server",
    )
    .await
    .unwrap();
    assert_eq!(
        route["spec"]["host"],
        "openshift-gitops-server-openshift-gitops.apps.sno-ai-lab.vanillax.xyz"
    );
    assert_eq!(argo["status"]["host"], route["spec"]["host"]);

    // an Application syncs and is healthy (children are not deployed)
    apply_yaml(&c, "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: root, namespace: openshift-gitops}\nspec: {project: default, source: {repoURL: 'https://git.invalid/fleet', path: apps}, destination: {server: 'https://kubernetes.default.svc'}}\n").await.unwrap();
    let app = wait_field(
        &c,
        "argoproj.io/v1alpha1",
        "Application",
        Some("openshift-gitops"),
        "root",
        "/status/health/status",
        json!("Healthy"),
        10,
    )
    .await;
    assert_eq!(app["status"]["sync"]["status"], "Synced");
    h.shutdown().await;
}

#[tokio::test]
async fn unknown_package_fails_resolution_and_default_instance_can_be_disabled() {
    let h = sim_support::start(Platform::Openshift, 50.0, "", false).await;
    let c = sim_support::kube_client(&h).await;
    ns(&c, "x").await;
    apply_yaml(&c, "apiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\nmetadata: {name: nope, namespace: x}\nspec: {name: no-such-operator, source: redhat-operators, sourceNamespace: openshift-marketplace, channel: stable}\n").await.unwrap();
    let sub = sim_support::wait_condition(
        &c,
        "operators.coreos.com/v1alpha1",
        "Subscription",
        Some("x"),
        "nope",
        "ResolutionFailed",
        "True",
        10,
    )
    .await;
    assert!(sub.pointer("/status/installedCSV").is_none());

    ns(&c, "openshift-gitops-operator").await;
    apply_yaml(
        &c,
        &format!("{GITOPS_SUB}  config:\n    env: [{{name: DISABLE_DEFAULT_ARGOCD_INSTANCE, value: \"true\"}}]\n"),
    )
    .await
    .unwrap();
    wait_field(
        &c,
        "operators.coreos.com/v1alpha1",
        "Subscription",
        Some("openshift-gitops-operator"),
        "openshift-gitops-operator",
        "/status/state",
        json!("AtLatestKnown"),
        10,
    )
    .await;
    assert!(
        h.settle(std::time::Duration::from_secs(10)).await,
        "the controllers settle"
    );
    assert!(get_json(
        &c,
        "argoproj.io/v1beta1",
        "ArgoCD",
        Some("openshift-gitops"),
        "openshift-gitops"
    )
    .await
    .is_none());
    h.shutdown().await;
}

#[tokio::test]
async fn talos_has_no_openshift_apis() {
    let h = sim_support::start(Platform::Talos, 20.0, "", true).await;
    let c = sim_support::kube_client(&h).await;
    let d = kube::discovery::Discovery::new(c.clone()).run().await.unwrap();
    assert!(
        !d.has_group("config.openshift.io")
            && !d.has_group("operators.coreos.com")
            && !d.has_group("route.openshift.io")
    );
    let node = get_json(&c, "v1", "Node", None, "talos-cp-1").await.unwrap();
    assert_eq!(node["status"]["nodeInfo"]["osImage"], "Talos (v1.11.2)");
    let v = c.apiserver_version().await.unwrap();
    assert_eq!(v.minor, "34");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operands_report_ready_and_create_their_objects() {
    let h = sim_support::start(Platform::Openshift, 50.0, "gpus=2", false).await;
    let c = sim_support::kube_client(&h).await;
    for (ns_name, pkg) in [
        ("openshift-lvm-storage", "lvms-operator"),
        ("nvidia-gpu-operator", "gpu-operator-certified"),
        ("openshift-nfd", "nfd"),
        ("external-secrets", "openshift-external-secrets-operator"),
        ("metallb-system", "metallb-operator"),
    ] {
        ns(&c, ns_name).await;
        // No channel: OLM subscribes to the package's default channel.
        apply_yaml(&c, &format!("apiVersion: operators.coreos.com/v1alpha1\nkind: Subscription\nmetadata: {{name: {pkg}, namespace: {ns_name}}}\nspec: {{name: {pkg}, source: redhat-operators, sourceNamespace: openshift-marketplace}}\n")).await.unwrap();
    }
    for (ns_name, pkg) in [
        ("openshift-lvm-storage", "lvms-operator"),
        ("nvidia-gpu-operator", "gpu-operator-certified"),
        ("openshift-nfd", "nfd"),
        ("external-secrets", "openshift-external-secrets-operator"),
        ("metallb-system", "metallb-operator"),
    ] {
        wait_field(
            &c,
            "operators.coreos.com/v1alpha1",
            "Subscription",
            Some(ns_name),
            pkg,
            "/status/state",
            json!("AtLatestKnown"),
            15,
        )
        .await;
    }
    sim_support::eventually(5, "CRDs established", || async {
        let d = kube::discovery::Discovery::new(c.clone()).run().await.ok()?;
        [
            "lvm.topolvm.io",
            "nvidia.com",
            "nfd.openshift.io",
            "external-secrets.io",
            "metallb.io",
        ]
        .iter()
        .all(|g| d.has_group(g))
        .then_some(())
    })
    .await;
    apply_yaml(&c, "apiVersion: lvm.topolvm.io/v1alpha1\nkind: LVMCluster\nmetadata: {name: lvms, namespace: openshift-lvm-storage}\nspec: {storage: {deviceClasses: [{name: vg1, default: true, fstype: xfs, deviceSelector: {paths: [/dev/disk/by-path/pci-0000:01:00.0-nvme-1]}}]}}\n").await.unwrap();
    apply_yaml(&c, "apiVersion: nvidia.com/v1\nkind: ClusterPolicy\nmetadata: {name: gpu-cluster-policy}\nspec: {driver: {kernelModuleType: proprietary}}\n").await.unwrap();
    apply_yaml(&c, "apiVersion: nfd.openshift.io/v1\nkind: NodeFeatureDiscovery\nmetadata: {name: nfd-instance, namespace: openshift-nfd}\nspec: {}\n").await.unwrap();
    // The trust anchor the simulated ESO needs, as on a real cluster: the Connect token Secret, a Connect
    // server behind the store's connectHost, and the ClusterSecretStore.
    ns(&c, "1passwordconnect").await;
    apply_yaml(&c, "apiVersion: v1\nkind: Secret\nmetadata: {name: 1passwordconnect, namespace: external-secrets}\nstringData: {token: simulated}\n").await.unwrap();
    apply_yaml(&c, "apiVersion: v1\nkind: Service\nmetadata: {name: onepassword-connect, namespace: 1passwordconnect}\nspec: {selector: {app: connect}, ports: [{port: 8080}]}\n").await.unwrap();
    apply_yaml(&c, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: onepassword-connect, namespace: 1passwordconnect}\nspec: {selector: {matchLabels: {app: connect}}, template: {metadata: {labels: {app: connect}}, spec: {containers: [{name: api, image: 1password/connect-api:1.7.3}]}}}\n").await.unwrap();
    apply_yaml(&c, "apiVersion: external-secrets.io/v1\nkind: ClusterSecretStore\nmetadata: {name: 1password}\nspec: {provider: {onepassword: {connectHost: 'http://onepassword-connect.1passwordconnect.svc:8080', vaults: {homelab: 1}, auth: {secretRef: {connectTokenSecretRef: {name: 1passwordconnect, key: token, namespace: external-secrets}}}}}}\n").await.unwrap();
    apply_yaml(&c, "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: token, namespace: external-secrets}\nspec: {refreshInterval: 1h, secretStoreRef: {kind: ClusterSecretStore, name: 1password}, target: {name: cf-token, creationPolicy: Owner}, data: [{secretKey: api-token, remoteRef: {key: cloudflare, property: token}}]}\n").await.unwrap();
    apply_yaml(&c, "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: openshift-ingress}\nspec: {gatewayClassName: openshift-default, listeners: [{name: https, port: 443, protocol: HTTPS}]}\n").await.unwrap();

    let lvm = wait_field(
        &c,
        "lvm.topolvm.io/v1alpha1",
        "LVMCluster",
        Some("openshift-lvm-storage"),
        "lvms",
        "/status/state",
        json!("Ready"),
        10,
    )
    .await;
    assert_eq!(lvm["status"]["ready"], true);
    let sc = get_json(&c, "storage.k8s.io/v1", "StorageClass", None, "lvms-vg1")
        .await
        .unwrap();
    assert_eq!(
        sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"],
        "true"
    );
    wait_field(
        &c,
        "nvidia.com/v1",
        "ClusterPolicy",
        None,
        "gpu-cluster-policy",
        "/status/state",
        json!("ready"),
        10,
    )
    .await;
    let node = wait_field(
        &c,
        "v1",
        "Node",
        None,
        "sno-ai-lab",
        "/metadata/labels/feature.node.kubernetes.io~1pci-10de.present",
        json!("true"),
        10,
    )
    .await;
    assert_eq!(node["status"]["capacity"]["nvidia.com/gpu"], "2");
    assert_eq!(node["status"]["allocatable"]["nvidia.com/gpu"], "2");
    let es = sim_support::eventually(10, "ExternalSecret Ready", || async {
        let o = get_json(
            &c,
            "external-secrets.io/v1",
            "ExternalSecret",
            Some("external-secrets"),
            "token",
        )
        .await?;
        (o.pointer("/status/conditions/0/status") == Some(&json!("True"))).then_some(o)
    })
    .await;
    assert_eq!(es["status"]["conditions"][0]["reason"], "SecretSynced");
    let secret = get_json(&c, "v1", "Secret", Some("external-secrets"), "cf-token")
        .await
        .unwrap();
    assert!(secret["data"]["api-token"].is_string());
    // Bare-metal OpenShift: no address (so not Programmed) while MetalLB has no pool...
    let gw = sim_support::wait_condition(
        &c,
        "gateway.networking.k8s.io/v1",
        "Gateway",
        Some("openshift-ingress"),
        "gw",
        "Programmed",
        "False",
        10,
    )
    .await;
    assert!(gw["status"]["addresses"].is_null(), "{gw}");
    apply_yaml(&c, "apiVersion: v1\nkind: Service\nmetadata: {name: lb, namespace: openshift-ingress}\nspec: {type: LoadBalancer, ports: [{port: 443}]}\n").await.unwrap();
    // ...a pool for another namespace does not help...
    apply_yaml(&c, "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: other, namespace: metallb-system}\nspec: {addresses: [10.9.9.9/32], serviceAllocation: {namespaces: [elsewhere]}}\n").await.unwrap();
    assert!(
        h.settle(std::time::Duration::from_secs(10)).await,
        "the controllers settle"
    );
    let gw = get_json(
        &c,
        "gateway.networking.k8s.io/v1",
        "Gateway",
        Some("openshift-ingress"),
        "gw",
    )
    .await
    .unwrap();
    assert!(gw["status"]["addresses"].is_null(), "{gw}");
    // ...one that serves openshift-ingress gives the Gateway and the LoadBalancer Service its first address.
    apply_yaml(&c, "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: gateway, namespace: metallb-system}\nspec: {addresses: [192.168.10.11/32], serviceAllocation: {namespaces: [openshift-ingress]}}\n").await.unwrap();
    let gw = sim_support::wait_condition(
        &c,
        "gateway.networking.k8s.io/v1",
        "Gateway",
        Some("openshift-ingress"),
        "gw",
        "Programmed",
        "True",
        10,
    )
    .await;
    assert_eq!(gw["status"]["addresses"][0]["value"], "192.168.10.11");
    let svc = wait_field(
        &c,
        "v1",
        "Service",
        Some("openshift-ingress"),
        "lb",
        "/status/loadBalancer/ingress/0/ip",
        json!("192.168.10.11"),
        10,
    )
    .await;
    assert_eq!(svc["spec"]["type"], "LoadBalancer");
    h.shutdown().await;
}

#[tokio::test]
async fn claims_bind_on_first_consumer_and_gpu_pods_wait_for_gpus() {
    let h = sim_support::start(Platform::Talos, 50.0, "", false).await;
    let c = sim_support::kube_client(&h).await;
    apply_yaml(&c, "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: default}\nspec: {storageClassName: sim-local, accessModes: [ReadWriteOnce], resources: {requests: {storage: 5Gi}}}\n").await.unwrap();
    assert!(
        h.settle(std::time::Duration::from_secs(10)).await,
        "the controllers settle"
    );
    let pvc = get_json(&c, "v1", "PersistentVolumeClaim", Some("default"), "data")
        .await
        .unwrap();
    assert_eq!(
        pvc["status"]["phase"], "Pending",
        "WaitForFirstConsumer: no consumer yet"
    );
    apply_yaml(&c, "apiVersion: v1\nkind: Pod\nmetadata: {name: user, namespace: default}\nspec: {containers: [{name: c, image: busybox}], volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]}\n").await.unwrap();
    let pvc = wait_field(
        &c,
        "v1",
        "PersistentVolumeClaim",
        Some("default"),
        "data",
        "/status/phase",
        json!("Bound"),
        10,
    )
    .await;
    assert_eq!(pvc["status"]["capacity"]["storage"], "5Gi");
    wait_field(
        &c,
        "v1",
        "Pod",
        Some("default"),
        "user",
        "/status/phase",
        json!("Running"),
        10,
    )
    .await;

    // a pod asking for a GPU stays Pending (Unschedulable) on nodes without one
    apply_yaml(&c, "apiVersion: v1\nkind: Pod\nmetadata: {name: gpu, namespace: default}\nspec: {restartPolicy: Never, containers: [{name: c, image: 'nvcr.io/nvidia/k8s/cuda-sample:vectoradd-cuda12.5.0-ubi8', resources: {limits: {nvidia.com/gpu: 1}}}]}\n").await.unwrap();
    let pod = sim_support::eventually(10, "Unschedulable", || async {
        let p = get_json(&c, "v1", "Pod", Some("default"), "gpu").await?;
        (p.pointer("/status/conditions/0/reason") == Some(&json!("Unschedulable"))).then_some(p)
    })
    .await;
    assert_eq!(pod["status"]["phase"], "Pending");
    h.shutdown().await;
}
