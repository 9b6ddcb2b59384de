//! CycloneDX 1.6 from the `cyclonedx-bom` crate's 1.5 serialisation of the same model.
//!
//! The crate stops at 1.5, and 1.6 is a superset of it for everything charter-audit writes,
//! so a 1.6 document is the crate's 1.5 output with what only 1.6 has added: the version,
//! the licence `acknowledgement` (every licence charter-audit writes is what a manifest
//! declares), and `metadata.manufacturer` (the organisation that made the SBOM: TR-03183-2's
//! SBOM creator, from the supplier configuration). The JSON is edited as typed nodes that keep
//! the crate's key order; the XML, whose shape the crate fixes and whose text it escapes, by
//! inserting at its known tags. The JSON is then checked against the 1.6 schema
//! ([`super::schema`]); the XML, whose twin JSON is checked so, is validated against the 1.6
//! XSD in CI (`.ci/run`, cyclonedx-python-lib).

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{SbomError, SbomOptions};

/// What a 1.6 document adds to the crate's 1.5 one.
#[derive(Debug)]
pub(super) struct Additions {
    manufacturer: Option<Entity>,
}

/// An organisation: its name, web address and e-mail contact.
#[derive(Debug)]
struct Entity {
    name: String,
    url: Option<String>,
    email: Option<String>,
}

impl Additions {
    pub(super) fn of(options: &SbomOptions) -> Result<Additions, SbomError> {
        Ok(Additions {
            // Checked as URL and e-mail address when the metadata was made.
            manufacturer: options.supplier.as_ref().map(|s| Entity {
                name: s.name.clone(),
                url: s.url.clone(),
                email: s.contact.clone(),
            }),
        })
    }
}

/// The 1.6 JSON document of the crate's 1.5 JSON document.
pub(super) fn json(v1_5: &[u8], additions: &Additions) -> Result<Vec<u8>, SbomError> {
    let fail = |message: String| SbomError::Serialise {
        spec: "1.6",
        format: "JSON",
        message,
    };
    let mut root: Node = serde_json::from_slice(v1_5).map_err(|e| fail(e.to_string()))?;
    let Node::Object(entries) = &mut root else {
        return Err(fail("the crate wrote no JSON object".to_owned()));
    };
    for (key, value) in entries.iter_mut() {
        match key.as_str() {
            "specVersion" => *value = Node::Leaf(Value::from("1.6")),
            "metadata" => {
                if let (Node::Object(metadata), Some(entity)) = (value, &additions.manufacturer) {
                    // Where the schema lists it: after the tools.
                    let at = ["tools", "lifecycles", "timestamp"]
                        .iter()
                        .find_map(|name| metadata.iter().position(|(k, _)| k == name))
                        .map_or(0, |i| i + 1);
                    metadata.insert(at, ("manufacturer".to_owned(), entity.json()));
                }
            }
            _ => {}
        }
    }
    acknowledge(&mut root);
    let mut out = serde_json::to_vec_pretty(&root).map_err(|e| fail(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// Marks every licence as declared: charter-audit writes licences only as manifests declare
/// them, and concludes none.
fn acknowledge(node: &mut Node) {
    match node {
        Node::Object(entries) => {
            for (key, value) in entries.iter_mut() {
                if key == "licenses"
                    && let Node::Array(choices) = value
                {
                    for choice in choices.iter_mut() {
                        declare(choice);
                    }
                } else {
                    acknowledge(value);
                }
            }
        }
        Node::Array(items) => items.iter_mut().for_each(acknowledge),
        Node::Leaf(_) => {}
    }
}

/// One licence choice (`{"license": {...}}` or `{"expression": "..."}`) marked declared.
fn declare(choice: &mut Node) {
    let Node::Object(entries) = choice else {
        return;
    };
    let declared = || {
        (
            "acknowledgement".to_owned(),
            Node::Leaf(Value::from("declared")),
        )
    };
    if let Some(at) = entries.iter().position(|(k, _)| k == "expression") {
        entries.insert(at + 1, declared());
    } else if let Some((_, Node::Object(license))) =
        entries.iter_mut().find(|(k, _)| k == "license")
    {
        license.push(declared());
    }
}

impl Entity {
    fn json(&self) -> Node {
        let mut entries = vec![(
            "name".to_owned(),
            Node::Leaf(Value::from(self.name.clone())),
        )];
        if let Some(url) = &self.url {
            entries.push((
                "url".to_owned(),
                Node::Array(vec![Node::Leaf(Value::from(url.clone()))]),
            ));
        }
        if let Some(email) = &self.email {
            entries.push((
                "contact".to_owned(),
                Node::Array(vec![Node::Object(vec![(
                    "email".to_owned(),
                    Node::Leaf(Value::from(email.clone())),
                )])]),
            ));
        }
        Node::Object(entries)
    }

    fn xml(&self, indent: &str) -> String {
        let mut out = format!("{indent}<manufacturer>\n");
        out.push_str(&format!("{indent}  <name>{}</name>\n", escape(&self.name)));
        if let Some(url) = &self.url {
            out.push_str(&format!("{indent}  <url>{}</url>\n", escape(url)));
        }
        if let Some(email) = &self.email {
            out.push_str(&format!(
                "{indent}  <contact>\n{indent}    <email>{}</email>\n{indent}  </contact>\n",
                escape(email)
            ));
        }
        out.push_str(&format!("{indent}</manufacturer>\n"));
        out
    }
}

/// The 1.6 XML document of the crate's 1.5 XML document. Text the crate writes is escaped, so
/// `<license>` and `<expression>` occur only as the tags of licences, and the first
/// `</tools>` closes the metadata's tools.
pub(super) fn xml(v1_5: &[u8], additions: &Additions) -> Result<Vec<u8>, SbomError> {
    let fail = |message: &str| SbomError::Serialise {
        spec: "1.6",
        format: "XML",
        message: message.to_owned(),
    };
    let text = std::str::from_utf8(v1_5).map_err(|_| fail("the crate wrote no UTF-8"))?;
    let namespace = "xmlns=\"http://cyclonedx.org/schema/bom/1.5\"";
    if !text.contains(namespace) {
        return Err(fail("the crate wrote no CycloneDX 1.5 root element"));
    }
    let mut text = text
        .replacen(
            namespace,
            "xmlns=\"http://cyclonedx.org/schema/bom/1.6\"",
            1,
        )
        .replace("<license>", "<license acknowledgement=\"declared\">")
        .replace("<expression>", "<expression acknowledgement=\"declared\">");
    move_lifecycles(&mut text);
    if let Some(entity) = &additions.manufacturer {
        // The XSD's sequence puts it after the metadata's component (which the crate indents
        // by four spaces, the tool's by eight), else at the end of the metadata.
        let end = text
            .find("  </metadata>\n")
            .ok_or_else(|| fail("the crate wrote no metadata"))?;
        let close = "\n    </component>\n";
        let at = match text[..end].find(close) {
            Some(at) => at + close.len(),
            None => end,
        };
        text.insert_str(at, &entity.xml("    "));
    }
    Ok(text.into_bytes())
}

/// The crate writes the metadata's `<lifecycles>` last, where the XSD (1.5 and 1.6) does not
/// allow it: it belongs after the timestamp.
fn move_lifecycles(text: &mut String) {
    let (open, close) = ("    <lifecycles>\n", "    </lifecycles>\n");
    let Some(end) = text.find("  </metadata>\n") else {
        return;
    };
    let (Some(start), Some(stop)) = (text[..end].find(open), text[..end].find(close)) else {
        return;
    };
    let block: String = text.drain(start..stop + close.len()).collect();
    let stamp = "</timestamp>\n";
    let at = text.find(stamp).map_or_else(
        || {
            text.find("  <metadata>\n")
                .map_or(0, |i| i + "  <metadata>\n".len())
        },
        |i| i + stamp.len(),
    );
    text.insert_str(at, &block);
}

/// Text as XML character data or attribute value.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON value whose objects keep their keys in the order written (serde_json's own `Value`
/// sorts them), so that the 1.6 document reads like the 1.5 one it is made from.
#[derive(Debug)]
enum Node {
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Leaf(Value),
}

impl Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Node::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
            Node::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Leaf(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Node>()? {
                    entries.push((key, value));
                }
                Ok(Node::Object(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Node>()? {
                    items.push(item);
                }
                Ok(Node::Array(items))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Leaf(Value::from(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Leaf(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Leaf(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Leaf(Value::from(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Leaf(Value::from(v)))
            }
            fn visit_string<E>(self, v: String) -> Result<Node, E> {
                Ok(Node::Leaf(Value::from(v)))
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Leaf(Value::Null))
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Leaf(Value::Null))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn additions() -> Additions {
        Additions {
            manufacturer: Some(Entity {
                name: "Example <Health> Ltd".to_owned(),
                url: Some("https://example.org".to_owned()),
                email: Some("security@example.org".to_owned()),
            }),
        }
    }

    #[test]
    fn json_keeps_the_order_and_adds_what_1_6_has() {
        let v1_5 = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{"timestamp":"t","tools":[],"authors":[]},
            "components":[{"name":"a","licenses":[{"expression":"MIT OR Apache-2.0"}]},
                          {"name":"b","licenses":[{"license":{"name":"see LICENSE"}}]}]}"#;
        let out = String::from_utf8(json(v1_5, &additions()).unwrap()).unwrap();
        let value: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["specVersion"], "1.6");
        assert_eq!(
            value["metadata"]["manufacturer"]["contact"][0]["email"],
            "security@example.org"
        );
        assert_eq!(
            value["components"][0]["licenses"][0]["acknowledgement"],
            "declared"
        );
        assert_eq!(
            value["components"][1]["licenses"][0]["license"]["acknowledgement"],
            "declared"
        );
        let order = |keys: &[&str]| {
            let at: Vec<usize> = keys.iter().map(|k| out.find(k).unwrap()).collect();
            at.windows(2).all(|w| w[0] < w[1])
        };
        assert!(order(&[
            "bomFormat",
            "specVersion",
            "metadata",
            "components"
        ]));
        assert!(order(&["\"tools\"", "\"manufacturer\"", "\"authors\""]));
    }

    #[test]
    fn xml_gets_the_namespace_acknowledgements_and_an_escaped_manufacturer() {
        let v1_5 = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\" version=\"1\">\n  <metadata>\n    <tools>\n      <components>\n        <component type=\"application\">\n        </component>\n      </components>\n    </tools>\n    <component type=\"application\">\n    </component>\n    <supplier>\n    </supplier>\n  </metadata>\n  <components>\n    <component type=\"library\"><name>&lt;license&gt;</name><licenses><expression>MIT</expression></licenses></component>\n  </components>\n</bom>\n";
        let out = String::from_utf8(xml(v1_5.as_bytes(), &additions()).unwrap()).unwrap();
        assert!(out.contains("xmlns=\"http://cyclonedx.org/schema/bom/1.6\""));
        assert!(out.contains("<expression acknowledgement=\"declared\">MIT</expression>"));
        assert!(
            out.contains("<name>&lt;license&gt;</name>"),
            "text untouched"
        );
        assert!(out.contains(
            "    </component>\n    <manufacturer>\n      <name>Example &lt;Health&gt; Ltd</name>\n"
        ));
        assert!(out.contains("    </manufacturer>\n    <supplier>\n"));
        assert!(xml(b"<bom/>", &additions()).is_err());
    }
}
