//! kube-rs (kube 5) through a kubeconfig against the simulated cluster: discovery, CRDs, SSA with
//! managedFields, watch resume, kube-runtime's watcher.
mod sim_support;

use fleetctl::sim::Platform;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::discovery::Discovery;
use serde_json::json;

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.sim}
spec:
  group: example.sim
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"#;

#[tokio::test]
async fn discovery_and_a_crd_created_at_run_time() {
    let h = sim_support::start(Platform::Talos, 20.0, "", false).await;
    let client = sim_support::kube_client(&h).await;
    let d = Discovery::new(client.clone()).run().await.unwrap();
    assert!(d.has_group("apps") && d.has_group("apiextensions.k8s.io"));
    assert!(!d.has_group("example.sim"));

    let crd: CustomResourceDefinition = serde_yaml::from_str(CRD).unwrap();
    Api::<CustomResourceDefinition>::all(client.clone())
        .create(&PostParams::default(), &crd)
        .await
        .unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    sim_support::eventually(10, "CRD Established", || async {
        let c = crds.get("widgets.example.sim").await.ok()?;
        let conds = c.status?.conditions?;
        conds
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
            .then_some(())
    })
    .await;
    let d = Discovery::new(client.clone()).run().await.unwrap();
    let agg = Discovery::new(client.clone()).run_aggregated().await.unwrap();
    assert!(
        agg.has_group("example.sim") && agg.has_group("apps"),
        "aggregated discovery sees the CRD"
    );
    let (core, _) = agg
        .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Pod"))
        .expect("core group in aggregated discovery");
    assert_eq!(core.plural, "pods");
    let (ar, caps) = d
        .resolve_gvk(&GroupVersionKind::gvk("example.sim", "v1", "Widget"))
        .expect("Widget discovered");
    assert_eq!(ar.plural, "widgets");
    assert!(caps.scope == kube::discovery::Scope::Namespaced);

    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let w = DynamicObject::new("w1", &ar).data(json!({"spec": {"size": 3}}));
    let got = api
        .patch("w1", &PatchParams::apply("test"), &Patch::Apply(&w))
        .await
        .unwrap();
    assert_eq!(got.data["spec"]["size"], 3);
    // the status subresource: main-resource writes ignore .status
    let with_status = DynamicObject::new("w1", &ar).data(json!({"spec": {"size": 3}, "status": {"phase": "x"}}));
    let got = api
        .patch("w1", &PatchParams::apply("test"), &Patch::Apply(&with_status))
        .await
        .unwrap();
    assert!(got.data.get("status").is_none());
    api.patch_status(
        "w1",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"phase": "Ready"}})),
    )
    .await
    .unwrap();
    assert_eq!(api.get("w1").await.unwrap().data["status"]["phase"], "Ready");

    // deleting the CRD removes its objects, then the CRD and its group (asynchronously, as the
    // apiextensions finalizer does)
    crds.delete("widgets.example.sim", &Default::default()).await.unwrap();
    sim_support::eventually(10, "the example.sim group to leave discovery", || async {
        let d = Discovery::new(client.clone()).run().await.ok()?;
        (!d.has_group("example.sim")).then_some(())
    })
    .await;
    h.shutdown().await;
}

#[tokio::test]
async fn ssa_merges_two_managers_and_records_both() {
    let h = sim_support::start(Platform::Talos, 20.0, "", false).await;
    let client = sim_support::kube_client(&h).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let a = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared", "labels": {"owner-a": "yes"}}, "data": {"a": "1"}});
    let b = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"b": "2"}});
    let first = cms
        .patch("shared", &PatchParams::apply("manager-a"), &Patch::Apply(&a))
        .await
        .unwrap();
    cms.patch("shared", &PatchParams::apply("manager-b"), &Patch::Apply(&b))
        .await
        .unwrap();
    let got = cms.get("shared").await.unwrap();
    let data = got.data.clone().unwrap();
    assert_eq!((data["a"].as_str(), data["b"].as_str()), ("1", "2"));
    let mf = got.metadata.managed_fields.clone().unwrap();
    let managers: Vec<_> = mf
        .iter()
        .map(|e| (e.manager.clone().unwrap(), e.operation.clone().unwrap()))
        .collect();
    assert!(
        managers.contains(&("manager-a".into(), "Apply".into()))
            && managers.contains(&("manager-b".into(), "Apply".into())),
        "{managers:?}"
    );
    let a_fields = serde_json::to_value(
        &mf.iter()
            .find(|e| e.manager.as_deref() == Some("manager-a"))
            .unwrap()
            .fields_v1,
    )
    .unwrap();
    assert!(
        a_fields["f:data"]["f:a"].is_object() && a_fields["f:data"].get("f:b").is_none(),
        "{a_fields}"
    );

    // same apply again: no change, resourceVersion kept
    let again = cms
        .patch("shared", &PatchParams::apply("manager-a"), &Patch::Apply(&a))
        .await
        .unwrap();
    assert_eq!(again.metadata.resource_version, got.metadata.resource_version);
    assert_ne!(first.metadata.resource_version, got.metadata.resource_version);

    // manager-b taking a field manager-a owns, with another value: conflict unless forced
    let steal =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"b": "2", "a": "9"}});
    let err = cms
        .patch("shared", &PatchParams::apply("manager-b"), &Patch::Apply(&steal))
        .await
        .unwrap_err();
    assert!(matches!(&err, kube::Error::Api(s) if s.code == 409), "{err:?}");
    cms.patch(
        "shared",
        &PatchParams::apply("manager-b").force(),
        &Patch::Apply(&steal),
    )
    .await
    .unwrap();
    // manager-a drops its label: removed since nobody else owns it; data.a stays (now manager-b's)
    let a2 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}});
    let got = cms
        .patch("shared", &PatchParams::apply("manager-a"), &Patch::Apply(&a2))
        .await
        .unwrap();
    assert!(!got.metadata.labels.unwrap_or_default().contains_key("owner-a"));
    assert_eq!(got.data.unwrap()["a"], "9");
    h.shutdown().await;
}

#[tokio::test]
async fn watch_resumes_from_a_resource_version_and_runtime_watcher_works() {
    let h = sim_support::start(Platform::Talos, 20.0, "", false).await;
    let client = sim_support::kube_client(&h).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mk = |n: &str| ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(n.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let c1 = cms.create(&PostParams::default(), &mk("one")).await.unwrap();
    let rv = c1.metadata.resource_version.unwrap();
    cms.create(&PostParams::default(), &mk("two")).await.unwrap();
    cms.delete("one", &Default::default()).await.unwrap();
    let mut stream = cms
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .unwrap()
        .boxed();
    let mut seen = vec![];
    while let Some(ev) = stream.try_next().await.unwrap() {
        match ev {
            WatchEvent::Added(c) => seen.push(format!("ADDED {}", c.metadata.name.unwrap())),
            WatchEvent::Deleted(c) => seen.push(format!("DELETED {}", c.metadata.name.unwrap())),
            _ => {}
        }
        if seen.len() == 2 {
            break;
        }
    }
    assert_eq!(seen, vec!["ADDED two", "DELETED one"]);

    // kube-runtime watcher: list + watch, then sees a later object
    let nss: Api<Namespace> = Api::all(client.clone());
    let mut w = kube::runtime::watcher(nss.clone(), Default::default()).boxed();
    let found = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        // the initial list first; the watch resumes from its resourceVersion, so a later create is seen
        while let Some(ev) = w.try_next().await.unwrap() {
            if matches!(ev, kube::runtime::watcher::Event::InitDone) {
                break;
            }
        }
        let ns = Namespace {
            metadata: kube::api::ObjectMeta {
                name: Some("late".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        nss.create(&PostParams::default(), &ns).await.unwrap();
        while let Some(ev) = w.try_next().await.unwrap() {
            if let kube::runtime::watcher::Event::Apply(ns) = ev {
                if ns.metadata.name.as_deref() == Some("late") {
                    return ns;
                }
            }
        }
        panic!("watcher ended");
    })
    .await;
    let ns = found.expect("the watcher saw the namespace created after its list");
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Active"));
    h.shutdown().await;
}

#[tokio::test]
async fn dynamic_api_for_an_unknown_resource_is_404() {
    let h = sim_support::start(Platform::Talos, 20.0, "", false).await;
    let client = sim_support::kube_client(&h).await;
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk("config.openshift.io", "v1", "ClusterVersion"));
    let api: Api<DynamicObject> = Api::all_with(client, &ar);
    let err = api.get("version").await.unwrap_err();
    assert!(matches!(err, kube::Error::Api(s) if s.code == 404));
    h.shutdown().await;
}

#[tokio::test]
async fn serve_cli_writes_a_kubeconfig_that_kube_can_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/kubeconfig");
    let cfg = fleetctl::sim::SimConfig::new(Platform::Openshift);
    let task = tokio::spawn(fleetctl::sim::serve_cli(cfg, Some(path.clone()), "sno"));
    sim_support::eventually(10, "kubeconfig written", || async { path.exists().then_some(()) }).await;
    let kc = kube::config::Kubeconfig::read_from(&path).unwrap();
    assert_eq!(kc.current_context.as_deref(), Some("sno"));
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    assert_eq!(cfg.cluster_url.host(), Some("127.0.0.1"));
    let client = kube::Client::try_from(cfg).unwrap();
    let nss: Api<Namespace> = Api::all(client);
    assert!(nss.get("openshift-operators").await.is_ok());
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_too_old_resource_version_gets_410_expired() {
    let h = sim_support::start(Platform::Talos, 20.0, "", false).await;
    let client = sim_support::kube_client(&h).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mk = |n: String| ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(n),
            ..Default::default()
        },
        ..Default::default()
    };
    let first = cms.create(&PostParams::default(), &mk("first".into())).await.unwrap();
    let old_rv = first.metadata.resource_version.unwrap();
    // more events than the sim's watch history holds (4096)
    futures::stream::iter(0..4200)
        .map(|i| {
            let cms = cms.clone();
            async move { cms.create(&PostParams::default(), &mk(format!("c{i}"))).await.unwrap() }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let mut stream = cms
        .watch(&WatchParams::default().timeout(5), &old_rv)
        .await
        .unwrap()
        .boxed();
    match stream.try_next().await.unwrap() {
        Some(WatchEvent::Error(e)) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
    h.shutdown().await;
}

#[tokio::test]
async fn a_selector_watch_sees_objects_enter_and_leave_the_selection() {
    let h = sim_support::start(Platform::Talos, 20.0, "", false).await;
    let client = sim_support::kube_client(&h).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let rv = cms
        .list(&Default::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut stream = cms
        .watch(&WatchParams::default().labels("team=a").timeout(5), &rv)
        .await
        .unwrap()
        .boxed();
    let label = |v: &str| Patch::Merge(json!({"metadata": {"labels": {"team": v}}}));
    let cm = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some("x".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    cms.create(&PostParams::default(), &cm).await.unwrap(); // not selected: no event
    cms.patch("x", &PatchParams::default(), &label("a")).await.unwrap(); // enters: ADDED
    cms.patch("x", &PatchParams::default(), &Patch::Merge(json!({"data": {"k": "v"}})))
        .await
        .unwrap(); // MODIFIED
    cms.patch("x", &PatchParams::default(), &label("b")).await.unwrap(); // leaves: DELETED
    let mut seen = vec![];
    while let Some(ev) = stream.try_next().await.unwrap() {
        seen.push(match ev {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            _ => continue,
        });
        if seen.len() == 3 {
            break;
        }
    }
    assert_eq!(seen, vec!["ADDED", "MODIFIED", "DELETED"]);
    h.shutdown().await;
}
