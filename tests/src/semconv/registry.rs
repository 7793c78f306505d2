//! The semantic conventions' registry as read from its YAML files: attributes (type, enum
//! members, deprecation), attribute groups, span types (kind, name template, attributes with
//! their requirement levels) and metrics. Both file formats in use are read: the core
//! registry's `groups:` (v1) and the GenAI repository's `definition/2`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// How strongly the conventions ask for an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// Always.
    Required,
    /// Under the condition written in the registry.
    Conditional(String),
    /// When the data is at hand.
    Recommended,
    /// Only when the user asks.
    OptIn,
}

/// One attribute definition.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// The key (for a template, its prefix).
    pub key: String,
    /// `string`, `int`, `double`, `boolean`, `string[]`, ..., `any`, or `enum`.
    pub ty: String,
    /// A template attribute (`http.request.header.<key>`).
    pub template: bool,
    /// Enum members: value and whether the member is deprecated.
    pub members: Vec<(String, bool)>,
    /// Why the attribute is deprecated, when it is.
    pub deprecated: Option<String>,
    /// The file that defines it.
    pub file: PathBuf,
}

/// An attribute as a span or metric uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    /// The key.
    pub key: String,
    /// How strongly it is asked for.
    pub requirement: Requirement,
}

/// A span type.
#[derive(Debug, Clone)]
pub struct SpanType {
    /// Its id (`gen_ai.client.inference`, `span.http.server`).
    pub id: String,
    /// `client`, `server`, `internal`, `producer` or `consumer`.
    pub kind: String,
    /// The name formats of its name note (`{mcp.method.name} {target}`), in order.
    pub names: Vec<String>,
    /// Every `{key}` the name note mentions: the candidates for a `{target}`.
    pub name_keys: Vec<String>,
    /// Its attributes, groups and `extends` resolved.
    pub attributes: Vec<Use>,
}

/// A metric.
#[derive(Debug, Clone)]
pub struct Metric {
    /// Its name.
    pub name: String,
    /// `histogram`, `counter`, `updowncounter` or `gauge`.
    pub instrument: String,
    /// Its unit.
    pub unit: String,
    /// Its attributes.
    pub attributes: Vec<Use>,
    /// Why it is deprecated, when it is.
    pub deprecated: Option<String>,
}

#[derive(Debug, Clone)]
enum Item {
    Ref(String, Option<Requirement>),
    Group(String),
}

#[derive(Debug, Clone, Default)]
struct Group {
    items: Vec<Item>,
    extends: Option<String>,
}

/// Everything read from one or more registry folders.
#[derive(Debug, Default)]
pub struct Registry {
    /// Attributes by key.
    pub attributes: BTreeMap<String, Attribute>,
    /// Span types by id.
    pub spans: BTreeMap<String, SpanType>,
    /// Metrics by name.
    pub metrics: BTreeMap<String, Metric>,
    groups: HashMap<String, Group>,
    pending_spans: Vec<(SpanType, Group)>,
    pending_metrics: Vec<(Metric, Group)>,
    /// Files read.
    pub files: usize,
}

fn s(y: &Yaml, k: &str) -> Option<String> {
    match &y[k] {
        Yaml::String(v) => Some(v.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn list<'a>(y: &'a Yaml, k: &str) -> &'a [Yaml] {
    y[k].as_vec().map(Vec::as_slice).unwrap_or(&[])
}

fn requirement(y: &Yaml) -> Option<Requirement> {
    match y {
        Yaml::String(v) => Some(match v.as_str() {
            "required" => Requirement::Required,
            "opt_in" => Requirement::OptIn,
            "conditionally_required" => Requirement::Conditional(String::new()),
            _ => Requirement::Recommended,
        }),
        Yaml::Hash(_) => {
            if let Some(c) = s(y, "conditionally_required") {
                Some(Requirement::Conditional(c))
            } else if y["recommended"].as_str().is_some() {
                Some(Requirement::Recommended)
            } else if y["opt_in"].as_str().is_some() {
                Some(Requirement::OptIn)
            } else {
                Some(Requirement::Recommended)
            }
        }
        _ => None,
    }
}

fn deprecated(y: &Yaml) -> Option<String> {
    match &y["deprecated"] {
        Yaml::BadValue | Yaml::Null => None,
        Yaml::String(v) => Some(v.clone()),
        d => Some(match (s(d, "reason"), s(d, "renamed_to")) {
            (Some(r), Some(to)) => format!("{r} to {to}"),
            (Some(r), None) => r,
            _ => "deprecated".to_string(),
        }),
    }
}

/// The backticked formats with a `{` in a span's name note, and every `{key}` it mentions.
fn name_formats(note: &str) -> (Vec<String>, Vec<String>) {
    let mut formats = Vec::new();
    for (i, part) in note.split('`').enumerate() {
        // A format has a `{key}`, or is a bare literal like `invoke_agent` (no dots: not a key).
        let format = part.contains('{') || (!part.is_empty() && !part.contains('.'));
        if i % 2 == 1 && format && !formats.iter().any(|f| f == part) {
            formats.push(part.to_string());
        }
    }
    let mut keys = Vec::new();
    for part in note.split('{').skip(1) {
        if let Some((key, _)) = part.split_once('}') {
            if !keys.iter().any(|k| k == key) {
                keys.push(key.to_string());
            }
        }
    }
    (formats, keys)
}

impl Registry {
    /// Reads every `.yaml` file under each folder.
    pub fn load(dirs: &[PathBuf]) -> Result<Registry, String> {
        let mut reg = Registry::default();
        for dir in dirs {
            let mut files = Vec::new();
            collect(dir, &mut files).map_err(|e| format!("{}: {e}", dir.display()))?;
            files.sort();
            for f in files {
                let text =
                    std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
                let docs = YamlLoader::load_from_str(&text)
                    .map_err(|e| format!("{}: {e}", f.display()))?;
                for doc in &docs {
                    reg.read(doc, &f);
                }
                reg.files += 1;
            }
        }
        reg.resolve();
        Ok(reg)
    }

    fn read(&mut self, doc: &Yaml, file: &Path) {
        for a in list(doc, "attributes") {
            self.define(a, file);
        }
        for g in list(doc, "attribute_groups") {
            if let Some(id) = s(g, "id") {
                self.groups.insert(id, group(g));
            }
        }
        for sp in list(doc, "spans") {
            let (Some(id), Some(kind)) = (s(sp, "type"), s(sp, "kind")) else {
                continue;
            };
            let (names, keys) = name_formats(&s(&sp["name"], "note").unwrap_or_default());
            self.pending_spans
                .push((span_type(id, kind, names, keys), group(sp)));
        }
        for m in list(doc, "metrics") {
            self.metric(m);
        }
        for g in list(doc, "groups") {
            let Some(id) = s(g, "id") else { continue };
            match s(g, "type").as_deref() {
                Some("attribute_group") | None => {
                    for a in list(g, "attributes") {
                        if a["id"].as_str().is_some() {
                            self.define(a, file);
                        }
                    }
                    self.groups.insert(id, group(g));
                }
                Some("span") => {
                    let kind = s(g, "span_kind").unwrap_or_default();
                    // v1 span groups have no name note (their prose says "refer to the
                    // Span Name section"): the checker has their formats.
                    self.pending_spans
                        .push((span_type(id, kind, Vec::new(), Vec::new()), group(g)));
                }
                Some("metric") => self.metric(g),
                _ => {
                    self.groups.insert(id, group(g));
                }
            }
        }
    }

    fn define(&mut self, a: &Yaml, file: &Path) {
        let Some(key) = s(a, "key").or_else(|| s(a, "id")) else {
            return;
        };
        let (ty, template, members) = match &a["type"] {
            Yaml::String(t) => match t.strip_prefix("template[") {
                Some(inner) => (inner.trim_end_matches(']').to_string(), true, Vec::new()),
                None => (t.clone(), false, Vec::new()),
            },
            t => (
                "enum".to_string(),
                false,
                list(t, "members")
                    .iter()
                    .filter_map(|m| Some((s(m, "value")?, deprecated(m).is_some())))
                    .collect(),
            ),
        };
        self.attributes.insert(
            key.clone(),
            Attribute {
                key,
                ty,
                template,
                members,
                deprecated: deprecated(a),
                file: file.to_path_buf(),
            },
        );
    }

    fn metric(&mut self, m: &Yaml) {
        let Some(name) = s(m, "name").or_else(|| s(m, "metric_name")) else {
            return;
        };
        let metric = Metric {
            name,
            instrument: s(m, "instrument").unwrap_or_default(),
            unit: s(m, "unit").unwrap_or_default(),
            attributes: Vec::new(),
            deprecated: deprecated(m),
        };
        self.pending_metrics.push((metric, group(m)));
    }

    fn resolve(&mut self) {
        for (mut ty, g) in std::mem::take(&mut self.pending_spans) {
            ty.attributes = self.expand(&g, 0);
            self.spans.insert(ty.id.clone(), ty);
        }
        for (mut m, g) in std::mem::take(&mut self.pending_metrics) {
            m.attributes = self.expand(&g, 0);
            self.metrics.insert(m.name.clone(), m);
        }
    }

    /// A group's attributes, `extends` first, later references refining earlier ones.
    fn expand(&self, g: &Group, depth: usize) -> Vec<Use> {
        let mut out: Vec<Use> = Vec::new();
        if depth > 16 {
            return out;
        }
        let merge = |out: &mut Vec<Use>, key: &str, req: Option<Requirement>| match out
            .iter_mut()
            .find(|u| u.key == key)
        {
            Some(u) => {
                if let Some(r) = req {
                    u.requirement = r;
                }
            }
            None => out.push(Use {
                key: key.to_string(),
                requirement: req.unwrap_or(Requirement::Recommended),
            }),
        };
        if let Some(parent) = g.extends.as_ref().and_then(|p| self.groups.get(p)) {
            for u in self.expand(parent, depth + 1) {
                merge(&mut out, &u.key, Some(u.requirement));
            }
        }
        for item in &g.items {
            match item {
                Item::Ref(key, req) => merge(&mut out, key, req.clone()),
                Item::Group(id) => {
                    if let Some(sub) = self.groups.get(id) {
                        for u in self.expand(sub, depth + 1) {
                            merge(&mut out, &u.key, Some(u.requirement));
                        }
                    }
                }
            }
        }
        out
    }

    /// The definition of `key`, a template's prefix included.
    pub fn attribute(&self, key: &str) -> Option<&Attribute> {
        if let Some(a) = self.attributes.get(key) {
            return Some(a);
        }
        let mut prefix = key;
        while let Some((head, _)) = prefix.rsplit_once('.') {
            if let Some(a) = self.attributes.get(head).filter(|a| a.template) {
                return Some(a);
            }
            prefix = head;
        }
        None
    }
}

fn span_type(id: String, kind: String, names: Vec<String>, name_keys: Vec<String>) -> SpanType {
    SpanType {
        id,
        kind,
        names,
        name_keys,
        attributes: Vec::new(),
    }
}

fn group(g: &Yaml) -> Group {
    Group {
        items: list(g, "attributes")
            .iter()
            .filter_map(|a| {
                if let Some(id) = s(a, "ref_group") {
                    Some(Item::Group(id))
                } else {
                    let key = s(a, "ref").or_else(|| s(a, "id"))?;
                    Some(Item::Ref(key, requirement(&a["requirement_level"])))
                }
            })
            .collect(),
        extends: s(g, "extends"),
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
    Ok(())
}
