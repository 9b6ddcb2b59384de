//! TR-03183-2's checks field by field: a document that holds every field has no gap, and each
//! document made from it by taking one field away has that gap, and only that one.

use serde_json::{Value, json};

use super::{Cause, Gap, Profile, extra_gaps, gaps};

/// A product and one library, with every field TR-03183-2 asks for.
fn complete() -> Value {
    let component = |name: &str, hash: &str, filename: &str| {
        json!({
            "type": "library", "bom-ref": name, "name": name, "version": "1.0.0",
            "purl": format!("pkg:npm/{name}@1.0.0"),
            "supplier": {"name": "Maker", "url": ["https://maker.example"]},
            "licenses": [{"expression": "MIT", "acknowledgement": "concluded"},
                         {"license": {"id": "MIT", "acknowledgement": "declared"}}],
            "hashes": [{"alg": "SHA-256", "content": "00"}],
            "externalReferences": [
                {"type": "distribution", "url": format!("{filename}"),
                 "hashes": [{"alg": "SHA-512", "content": hash}]},
                {"type": "vcs", "url": "https://git.example/x"}],
            "properties": [
                {"name": "bsi:component:filename", "value": filename},
                {"name": "bsi:component:executable", "value": "executable"},
                {"name": "bsi:component:archive", "value": "no archive"},
                {"name": "bsi:component:structured", "value": "structured"},
                {"name": "bsi:component:effectiveLicence", "value": "MIT"}]
        })
    };
    let mut product = component("app", "aa", "app.bin");
    product["type"] = "application".into();
    json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", "version": 1,
        "metadata": {
            "timestamp": "2026-08-25T00:00:00Z",
            "tools": {"components": [{"type": "application", "name": "tool"}]},
            "lifecycles": [{"phase": "build"}],
            "manufacturer": {"name": "Maker", "contact": [{"email": "sbom@maker.example"}]},
            "authors": [{"name": "Maker"}],
            "supplier": {"name": "Maker"},
            "component": product
        },
        "components": [component("lib", "bb", "lib.so")],
        "dependencies": [{"ref": "app", "dependsOn": ["lib"]}, {"ref": "lib"}],
        "compositions": [{"aggregate": "complete", "dependencies": ["app", "lib"]}]
    })
}

/// A change made to a document (or one of its components).
type Change = Box<dyn Fn(&mut Value)>;

fn bsi(bom: &Value) -> Vec<Gap> {
    extra_gaps(Profile::BsiTr03183_2, &serde_json::to_vec(bom).unwrap()).unwrap()
}

/// The one gap of `bom`: its element, components and cause.
fn only_gap(bom: &Value) -> (&'static str, Vec<String>, Cause) {
    let gaps = bsi(bom);
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    let gap = &gaps[0];
    assert!(gap.source.starts_with("TR-03183-2 §"), "{}", gap.source);
    (gap.element, gap.components.clone(), gap.cause)
}

#[test]
fn a_complete_document_has_no_gap() {
    assert_eq!(bsi(&complete()), []);
    // Nor does it lack an NTIA element: every profile includes them.
    let all = gaps(
        Profile::BsiTr03183_2,
        &serde_json::to_vec(&complete()).unwrap(),
    )
    .unwrap();
    assert_eq!(all, []);
}

#[test]
fn each_sbom_field_missing_is_found() {
    for (change, element) in [
        (
            Box::new(|b: &mut Value| b["specVersion"] = "1.5".into()) as Change,
            "format",
        ),
        (
            Box::new(|b: &mut Value| b["vulnerabilities"] = json!([{"id": "CVE-1"}])),
            "no vulnerability information",
        ),
        (
            Box::new(|b: &mut Value| {
                b["metadata"]["manufacturer"]["contact"] = json!([]);
            }),
            "creator of the SBOM (e-mail or URL)",
        ),
        (
            Box::new(|b: &mut Value| {
                b["metadata"].as_object_mut().unwrap().remove("timestamp");
            }),
            "timestamp",
        ),
        (
            Box::new(|b: &mut Value| {
                b.as_object_mut().unwrap().remove("serialNumber");
            }),
            "SBOM-URI",
        ),
    ] {
        let mut bom = complete();
        change(&mut bom);
        let (found, components, _) = only_gap(&bom);
        assert_eq!(found, element);
        assert!(components.is_empty());
    }
    // An author's e-mail names the SBOM's creator as well as the manufacturer's.
    let mut bom = complete();
    bom["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("manufacturer");
    bom["metadata"]["authors"] = json!([{"name": "A", "email": "a@maker.example"}]);
    assert_eq!(bsi(&bom), []);
}

#[test]
fn each_component_field_missing_is_found() {
    let on_lib = |change: &dyn Fn(&mut Value)| {
        let mut bom = complete();
        change(&mut bom["components"][0]);
        only_gap(&bom)
    };
    let property = |name: &'static str| {
        move |c: &mut Value| {
            c["properties"]
                .as_array_mut()
                .unwrap()
                .retain(|p| p["name"] != name);
        }
    };
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|c| {
                c["supplier"] = json!({"name": "Maker"});
            }),
            "component creator (e-mail or URL)",
        ),
        (
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("version");
            }),
            "component name and version",
        ),
        (
            Box::new(property("bsi:component:filename")),
            "file name of the component",
        ),
        (
            Box::new(|c| {
                c["licenses"].as_array_mut().unwrap().remove(0);
            }),
            "distribution licence (concluded)",
        ),
        (
            Box::new(|c| c["externalReferences"][0]["hashes"][0]["alg"] = "SHA-256".into()),
            "SHA-512 hash of the deployable component",
        ),
        (
            Box::new(property("bsi:component:executable")),
            "executable property",
        ),
        (
            Box::new(property("bsi:component:archive")),
            "archive property",
        ),
        (
            Box::new(property("bsi:component:structured")),
            "structured property",
        ),
        (
            Box::new(property("bsi:component:effectiveLicence")),
            "effective licence",
        ),
        (
            Box::new(|c| c["externalReferences"].as_array_mut().unwrap().truncate(1)),
            "source code URI",
        ),
        (
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("purl");
            }),
            "other unique identifiers",
        ),
        (
            Box::new(|c| c["licenses"].as_array_mut().unwrap().truncate(1)),
            "original licences (declared)",
        ),
    ];
    for (change, element) in cases {
        let (found, components, _) = on_lib(&*change);
        // Named `lib 1.0.0`, or `lib` once its version is gone.
        assert_eq!(found, element);
        assert!(
            matches!(components.as_slice(), [one] if one.starts_with("lib")),
            "{components:?}"
        );
    }
    // A property given twice, or with a value the taxonomy does not have, is no property.
    let (found, _, cause) = on_lib(&|c| {
        c["properties"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "bsi:component:archive", "value": "archive"}));
    });
    assert_eq!((found, cause), ("archive property", Cause::Absent));
    let (found, _, _) = on_lib(&|c| c["properties"][3]["value"] = "half".into());
    assert_eq!(found, "structured property");
    let (found, _, _) = on_lib(&|c| c["properties"][0]["value"] = "lib/lib.so".into());
    assert_eq!(
        found, "file name of the component",
        "a path is no file name"
    );
}

#[test]
fn dependencies_need_the_graph_and_a_completeness_indicator() {
    let mut bom = complete();
    bom["dependencies"].as_array_mut().unwrap().pop();
    bom["dependencies"][0]["dependsOn"] = json!([]);
    // The NTIA check sees the missing graph entry too; the BSI one names the indicator.
    assert_eq!(
        only_gap(&bom).0,
        "dependencies, with a completeness indicator"
    );
    let mut bom = complete();
    bom["compositions"][0]
        .as_object_mut()
        .unwrap()
        .remove("aggregate");
    let (element, components, _) = only_gap(&bom);
    assert_eq!(element, "dependencies, with a completeness indicator");
    assert_eq!(components, ["app 1.0.0", "lib 1.0.0"]);
}

#[test]
fn a_crate_says_why_it_has_no_deployable_form_and_never_gets_one() {
    let mut bom = complete();
    let lib = &mut bom["components"][0];
    lib["purl"] = "pkg:cargo/lib@1.0.0".into();
    lib["externalReferences"] = json!([{"type": "source-distribution",
        "url": "https://static.crates.io/crates/lib/lib-1.0.0.crate",
        "hashes": [{"alg": "SHA-256", "content": "00"}]}]);
    let (element, _, cause) = only_gap(&bom);
    assert_eq!(element, "SHA-512 hash of the deployable component");
    assert_eq!(cause, Cause::Unknowable);
    let why = &bsi(&bom)[0].why;
    assert!(
        why.contains("statically linked") && why.contains("source archive"),
        "{why}"
    );
    bom["components"][0]["scope"] = "excluded".into();
    assert!(bsi(&bom)[0].why.contains("build or dev dependency"));
}

#[test]
fn the_products_own_gaps_are_the_suppliers_to_fill() {
    let mut bom = complete();
    let product = &mut bom["metadata"]["component"];
    product
        .as_object_mut()
        .unwrap()
        .remove("externalReferences");
    product["supplier"] = json!({"name": "Maker"});
    product["properties"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p["name"] == "bsi:component:effectiveLicence");
    let gaps = bsi(&bom);
    let found: Vec<(&str, Cause)> = gaps.iter().map(|g| (g.element, g.cause)).collect();
    assert!(found.contains(&("component creator (e-mail or URL)", Cause::Supplier)));
    assert!(found.contains(&("file name of the component", Cause::Supplier)));
    assert!(found.contains(&("SHA-512 hash of the deployable component", Cause::Supplier)));
    assert!(found.contains(&("executable property", Cause::Unknowable)));
    assert!(
        gaps.iter().all(|g| g.components == ["app 1.0.0"]),
        "{gaps:#?}"
    );
}
