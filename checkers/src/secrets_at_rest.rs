//! The `encryption_config` check: the student's `apiserver.config.k8s.io/v1`
//! `EncryptionConfiguration` (the file kube-apiserver reads from
//! `--encryption-provider-config`) is one the API server would load, and
//! it stores the lab's resources the way the lab states:
//!
//! ```yaml
//! - encryption_config:
//!     target: encryption-config.yaml
//!     resources: [secrets]
//!     writers: [aescbc, secretbox, kms]
//!     readable_plaintext: true
//! ```
//!
//! reads "Secrets are written encrypted by aescbc, secretbox or kms v2, and
//! old plaintext Secrets stay readable". The rules are kube-apiserver's:
//! for each resource the first `resources[]` entry that names it decides
//! (a later one is masked); in its `providers` list the FIRST provider
//! writes new data and every provider can read; `identity` writes
//! plaintext. Keys are base64; aescbc and aesgcm take 16, 24 or 32 bytes,
//! secretbox exactly 32; a `kms` provider needs a name and a `unix://`
//! endpoint, and `apiVersion: v1` (the default) is deprecated and off by
//! default since Kubernetes 1.29, so `kms` in `writers` means KMS v2.
//!
//! Only `apiserver.config.k8s.io/v1` holds the kind: the group's v1beta1
//! registers other configurations (authorization, tracing), not this one.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Finding, KubeObject, Severity, Verdict};

/// An encryption provider, as a provider entry's key names it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Plaintext: no encryption.
    Identity,
    /// AES-CBC with PKCS#7 padding.
    Aescbc,
    /// AES-GCM with a random nonce.
    Aesgcm,
    /// XSalsa20 and Poly1305.
    Secretbox,
    /// Envelope encryption through a KMS plugin (apiVersion v2).
    Kms,
}

impl Provider {
    /// The provider's key in a provider entry.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Identity => "identity",
            Provider::Aescbc => "aescbc",
            Provider::Aesgcm => "aesgcm",
            Provider::Secretbox => "secretbox",
            Provider::Kms => "kms",
        }
    }

    fn from_key(k: &str) -> Option<Self> {
        Some(match k {
            "identity" => Provider::Identity,
            "aescbc" => Provider::Aescbc,
            "aesgcm" => Provider::Aesgcm,
            "secretbox" => Provider::Secretbox,
            "kms" => Provider::Kms,
            _ => return None,
        })
    }
}

/// An `encryption_config:` check as written in lab.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EncryptionConfigCheck {
    /// The workspace file with the `EncryptionConfiguration`.
    pub target: String,
    /// The resources that must be written encrypted (`secrets`,
    /// `configmaps`, `deployments.apps`; group-qualified as in the file).
    pub resources: Vec<String>,
    /// The providers allowed to write them (the first of their list).
    pub writers: Vec<Provider>,
    /// Whether data stored before encryption (plaintext) must stay
    /// readable (`identity` in the list, not first), or must not be
    /// (`identity` nowhere in the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readable_plaintext: Option<bool>,
}

impl EncryptionConfigCheck {
    /// What is wrong with the check itself (for `seclab validate`).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.target.trim().is_empty() {
            out.push(
                "encryption_config: target names the workspace file with the EncryptionConfiguration"
                    .to_owned(),
            );
        }
        if self.resources.is_empty() {
            out.push("encryption_config: resources names at least one resource".to_owned());
        }
        for r in &self.resources {
            if r.trim().is_empty() || r.contains('*') || r != &r.to_lowercase() {
                out.push(format!(
                    "encryption_config: resource `{r}` is one lower-case resource (`secrets`, `deployments.apps`), no wildcard"
                ));
            }
        }
        if self.writers.is_empty() {
            out.push("encryption_config: writers names at least one provider".to_owned());
        }
        if self.writers.contains(&Provider::Identity) {
            out.push(
                "encryption_config: identity in writers would allow plaintext; the check is about encryption"
                    .to_owned(),
            );
        }
        out
    }

    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        let w: Vec<&str> = self
            .writers
            .iter()
            .map(|p| match p {
                Provider::Kms => "kms v2",
                other => other.as_str(),
            })
            .collect();
        let mut s = format!(
            "{} in {} written encrypted by {}",
            self.resources.join(", "),
            self.target,
            or_list(&w)
        );
        match self.readable_plaintext {
            Some(true) => s.push_str("; old plaintext data stays readable"),
            Some(false) => s.push_str("; no plaintext is read"),
            None => {}
        }
        s
    }
}

fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// One provider of a list, as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEntry {
    /// Which provider (None: the entry names none the API server knows).
    pub provider: Option<Provider>,
    /// For kms: the `apiVersion` (defaulted to v1 as the API server does).
    pub kms_version: Option<String>,
    /// The path of the entry (`resources[0].providers[1]`).
    pub path: String,
}

/// One `resources[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceEntry {
    /// Its resources, as written.
    pub resources: Vec<String>,
    /// Its providers in order.
    pub providers: Vec<ProviderEntry>,
}

/// An EncryptionConfiguration: its entries, and what kube-apiserver
/// would refuse (each with the path of the offending field).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncryptionConfig {
    /// The `resources[]` entries.
    pub entries: Vec<ResourceEntry>,
    /// Errors that stop the API server from starting: (path, message).
    pub errors: Vec<(String, String)>,
    /// Things kube-apiserver loads but that defeat the configuration
    /// (two keys of one provider with one name): (path, message).
    pub mistakes: Vec<(String, String)>,
    /// Things that load but are unwise: (path, message).
    pub warnings: Vec<(String, String)>,
}

const AES_SIZES: &[usize] = &[16, 24, 32];
const SECRETBOX_SIZES: &[usize] = &[32];

/// Splits `secrets` / `deployments.apps` / `*.apps` / `*.*` into (resource,
/// group) the way `schema.ParseGroupResource` does: at the first dot.
fn group_resource(s: &str) -> (&str, &str) {
    match s.split_once('.') {
        Some((r, g)) => (r, g),
        None => (s, ""),
    }
}

/// Whether a resources-list item covers the resource `want`.
fn covers(item: &str, want: &str) -> bool {
    let (ir, ig) = group_resource(item);
    let (wr, wg) = group_resource(want);
    (ig == "*" || ig == wg) && (ir == "*" || ir == wr)
}

impl EncryptionConfig {
    /// Parses the document's value and validates it as kube-apiserver
    /// does; never fails (what is wrong goes into `errors`).
    pub fn parse(v: &Value) -> Self {
        let mut c = EncryptionConfig::default();
        let Some(map) = v.as_object() else {
            c.errors.push((
                String::new(),
                "the file is not a YAML mapping (apiVersion, kind, resources)".to_owned(),
            ));
            return c;
        };
        for k in map.keys() {
            if !matches!(k.as_str(), "apiVersion" | "kind" | "resources") {
                c.warnings.push((
                    k.clone(),
                    format!("unknown field `{k}`: the API server ignores it"),
                ));
            }
        }
        let resources = match map.get("resources") {
            None | Some(Value::Null) => {
                c.err("resources", "at least one resources is required");
                return c;
            }
            Some(Value::Array(a)) if a.is_empty() => {
                c.err("resources", "at least one resources is required");
                return c;
            }
            Some(Value::Array(a)) => a,
            Some(_) => {
                c.err("resources", "resources is a list of {resources, providers}");
                return c;
            }
        };
        let mut kms_names: BTreeSet<String> = BTreeSet::new();
        for (i, e) in resources.iter().enumerate() {
            let at = format!("resources[{i}]");
            let entry = c.parse_entry(e, &at, &mut kms_names);
            c.entries.push(entry);
        }
        c
    }

    fn err(&mut self, path: impl Into<String>, msg: impl Into<String>) {
        self.errors.push((path.into(), msg.into()));
    }

    fn parse_entry(
        &mut self,
        e: &Value,
        at: &str,
        kms_names: &mut BTreeSet<String>,
    ) -> ResourceEntry {
        let mut out = ResourceEntry {
            resources: Vec::new(),
            providers: Vec::new(),
        };
        let Some(m) = e.as_object() else {
            self.err(
                at,
                "each resources entry is a mapping: resources, providers",
            );
            return out;
        };
        let rpath = format!("{at}.resources");
        match m.get("resources") {
            Some(Value::Array(a)) if !a.is_empty() => {
                for (j, r) in a.iter().enumerate() {
                    match r.as_str() {
                        Some(s) => out.resources.push(s.to_owned()),
                        None => self.err(format!("{rpath}[{j}]"), "a resource is a string"),
                    }
                }
            }
            _ => self.err(&rpath, format!("at least one {rpath} is required")),
        }
        self.check_resource_names(&out.resources, &rpath);
        let ppath = format!("{at}.providers");
        let providers = match m.get("providers") {
            Some(Value::Array(a)) if !a.is_empty() => a.as_slice(),
            _ => {
                self.err(&ppath, format!("at least one {ppath} is required"));
                &[]
            }
        };
        for (j, p) in providers.iter().enumerate() {
            let path = format!("{ppath}[{j}]");
            out.providers.push(self.parse_provider(p, &path, kms_names));
        }
        out
    }

    fn check_resource_names(&mut self, resources: &[String], rpath: &str) {
        for (j, r) in resources.iter().enumerate() {
            let at = format!("{rpath}[{j}]");
            let (res, group) = group_resource(r);
            let msg = if r.to_lowercase() != *r {
                "resource name should not contain capital letters"
            } else if r == "*" {
                "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources"
            } else if matches!(
                r.as_str(),
                "apiserveripinfo" | "serviceipallocations" | "servicenodeportallocations"
            ) {
                "resources which do not have REST API/s cannot be encrypted"
            } else if group == "events.k8s.io" {
                "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file"
            } else if group == "extensions" {
                "'extensions' group has been removed and cannot be used for encryption"
            } else if group == "*" && res != "*" {
                "encrypting the same resource across groups is not supported"
            } else {
                continue;
            };
            self.err(at, msg);
        }
        let parsed: Vec<(&str, &str)> = resources.iter().map(|r| group_resource(r)).collect();
        let mut duplicate = false;
        let mut overlap = false;
        for (i, a) in parsed.iter().enumerate() {
            for (j, b) in parsed.iter().enumerate() {
                if i == j {
                    continue;
                }
                if a == b {
                    duplicate = true;
                } else if *a == ("*", "*") || (a.1 == b.1 && (a.0 == "*" || b.0 == "*")) {
                    overlap = true;
                }
            }
        }
        if duplicate {
            self.err(
                rpath,
                "the same resource cannot be specified multiple times",
            );
        }
        if overlap {
            self.err(
                rpath,
                "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked",
            );
        }
    }

    fn parse_provider(
        &mut self,
        p: &Value,
        path: &str,
        kms_names: &mut BTreeSet<String>,
    ) -> ProviderEntry {
        let mut out = ProviderEntry {
            provider: None,
            kms_version: None,
            path: path.to_owned(),
        };
        let Some(m) = p.as_object() else {
            self.err(
                path,
                "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity",
            );
            return out;
        };
        let known: Vec<(&String, Provider)> = m
            .keys()
            .filter_map(|k| Provider::from_key(k).map(|p| (k, p)))
            .collect();
        for k in m.keys() {
            if Provider::from_key(k).is_none() {
                self.warnings.push((
                    format!("{path}.{k}"),
                    format!("unknown provider field `{k}`: the API server ignores it"),
                ));
            }
        }
        match known.as_slice() {
            [] => {
                self.err(
                    path,
                    "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity",
                );
                return out;
            }
            [(_, p)] => out.provider = Some(*p),
            _ => {
                self.err(
                    path,
                    "more than one provider specified in a single element, should split into different list elements",
                );
                return out;
            }
        }
        let provider = out.provider.unwrap_or(Provider::Identity);
        let body = &m[provider.as_str()];
        let at = format!("{path}.{}", provider.as_str());
        match provider {
            Provider::Identity => {}
            Provider::Aescbc | Provider::Aesgcm => self.check_keys(body, &at, AES_SIZES),
            Provider::Secretbox => self.check_keys(body, &at, SECRETBOX_SIZES),
            Provider::Kms => out.kms_version = Some(self.check_kms(body, &at, kms_names)),
        }
        out
    }

    fn check_keys(&mut self, body: &Value, at: &str, sizes: &[usize]) {
        let kpath = format!("{at}.keys");
        let keys = match body.get("keys") {
            Some(Value::Array(a)) if !a.is_empty() => a,
            _ => {
                self.err(&kpath, "at least one keys is required");
                return;
            }
        };
        let mut names: Vec<&str> = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let kp = format!("{kpath}[{i}]");
            let name = k.get("name").and_then(Value::as_str).unwrap_or_default();
            if name.is_empty() {
                self.err(format!("{kp}.name"), "name is a mandatory field for a key");
            } else if names.contains(&name) {
                // Not refused by kube-apiserver, but the prefix
                // `k8s:enc:<provider>:v1:<name>:` then names two keys: data
                // written with one is tried with the other first.
                self.mistakes.push((
                    format!("{kp}.name"),
                    format!(
                        "key name `{name}` is used twice in this provider: stored data names its key (k8s:enc:{}:v1:{name}:), so two keys with one name cannot be told apart",
                        at.rsplit('.').next().unwrap_or_default()
                    ),
                ));
            } else {
                names.push(name);
            }
            let secret = k.get("secret").and_then(Value::as_str).unwrap_or_default();
            if secret.is_empty() {
                self.err(
                    format!("{kp}.secret"),
                    "secret is a mandatory field for a key",
                );
                continue;
            }
            let cleaned: String = secret
                .chars()
                .filter(|c| *c != '\n' && *c != '\r')
                .collect();
            match base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes()) {
                Err(_) => self.err(
                    format!("{kp}.secret"),
                    "secrets must be base64 encoded (e.g. `head -c 32 /dev/urandom | base64`)",
                ),
                Ok(bytes) if !sizes.contains(&bytes.len()) => {
                    let want: Vec<String> = sizes.iter().map(ToString::to_string).collect();
                    self.err(
                        format!("{kp}.secret"),
                        format!(
                            "secret is not of the expected length, got {}, expected one of [{}] (bytes once base64-decoded)",
                            bytes.len(),
                            want.join(" ")
                        ),
                    );
                }
                Ok(_) => {}
            }
        }
    }

    fn check_kms(&mut self, body: &Value, at: &str, kms_names: &mut BTreeSet<String>) -> String {
        let version = body
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("v1")
            .to_owned();
        if version != "v1" && version != "v2" {
            self.err(
                format!("{at}.apiVersion"),
                "unsupported apiVersion apiVersion for KMS provider, only v1 and v2 are supported",
            );
        }
        let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() {
            self.err(
                format!("{at}.name"),
                "name is a mandatory field for a provider",
            );
        } else {
            if version != "v1" && name.contains(':') {
                self.err(
                    format!("{at}.name"),
                    format!("invalid KMS provider name {name}, must not contain ':'"),
                );
            }
            if version != "v1" && kms_names.contains(name) {
                self.err(
                    format!("{at}.name"),
                    format!("duplicate KMS provider name {name}, names must be unique"),
                );
            }
            kms_names.insert(name.to_owned());
        }
        match body.get("endpoint").and_then(Value::as_str) {
            None | Some("") => {
                self.err(
                    format!("{at}.endpoint"),
                    "endpoint is a mandatory field for a kms",
                );
            }
            Some(e) => {
                let scheme = e.split_once("://").map_or("", |(s, _)| s);
                if scheme != "unix" {
                    self.err(
                        format!("{at}.endpoint"),
                        format!(
                            "unsupported scheme {scheme:?} for KMS provider, only unix is supported"
                        ),
                    );
                }
            }
        }
        if version != "v1" && body.get("cachesize").is_some() {
            self.err(
                format!("{at}.cachesize"),
                "cachesize is not supported in v2",
            );
        }
        if let Some(t) = body.get("timeout") {
            let s = t.as_str().unwrap_or_default();
            if !is_positive_duration(s) {
                self.err(
                    format!("{at}.timeout"),
                    "timeout should be a positive value (a duration: 3s, 500ms)",
                );
            }
        }
        if version == "v1" {
            self.warnings.push((
                format!("{at}.apiVersion"),
                "KMS v1 is deprecated (and disabled by default since Kubernetes 1.29): use apiVersion: v2".to_owned(),
            ));
        }
        version
    }

    /// The entry that decides how `resource` is stored: the first that
    /// covers it (a later entry is masked), with the index.
    pub fn entry_for(&self, resource: &str) -> Option<(usize, &ResourceEntry)> {
        self.entries
            .iter()
            .enumerate()
            .find(|(_, e)| e.resources.iter().any(|r| covers(r, resource)))
    }
}

/// Whether `s` is a Go duration greater than zero (`3s`, `1m30s`, `500ms`).
fn is_positive_duration(s: &str) -> bool {
    let mut rest = s;
    let mut any_nonzero = false;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        if n == 0 {
            return false;
        }
        let (num, tail) = rest.split_at(n);
        let Ok(value) = num.parse::<f64>() else {
            return false;
        };
        let u = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(u);
        if !matches!(unit, "ns" | "us" | "µs" | "ms" | "s" | "m" | "h") {
            return false;
        }
        any_nonzero |= value > 0.0;
        rest = next;
    }
    any_nonzero
}

/// The documents of the check's file, as the workspace holds them.
pub fn targets<'a>(
    check: &EncryptionConfigCheck,
    workspace: &'a [KubeObject],
) -> Vec<&'a KubeObject> {
    workspace
        .iter()
        .filter(|o| o.source.as_deref() == Some(check.target.as_str()))
        .collect()
}

/// Whether `o` is an EncryptionConfiguration (a file kube-apiserver reads
/// at start, not an object of its API).
pub fn is_encryption_config(o: &KubeObject) -> bool {
    o.kind() == "EncryptionConfiguration" || o.api_version().starts_with("apiserver.config.k8s.io/")
}

fn in_file(mut f: Finding, obj: &KubeObject, path: &str) -> Finding {
    f.source.clone_from(&obj.source);
    f.doc = obj.source.as_ref().map(|_| obj.doc);
    if path.is_empty() { f } else { f.at(path) }
}

const AESGCM_WARNING: &str = "aesgcm needs key rotation every 200k writes; not recommended unless you rotate automatically (a random 96-bit nonce per write: after about 2^32 writes with one key a nonce repeats, and a repeated nonce breaks AES-GCM)";

/// Grades the workspace's file against the check's property.
pub fn grade(check: &EncryptionConfigCheck, workspace: &[KubeObject]) -> Verdict {
    let docs = targets(check, workspace);
    let Some(obj) = docs.first().copied() else {
        return Verdict::fail(format!(
            "{} is not in the workspace (or holds no YAML document): it is the file with your apiserver.config.k8s.io/v1 EncryptionConfiguration",
            check.target
        ));
    };
    if let Some(second) = docs.get(1) {
        return Verdict::from_findings(vec![in_file(
            Finding::error(format!(
                "{} holds {} documents: kube-apiserver reads one EncryptionConfiguration from --encryption-provider-config",
                check.target,
                docs.len()
            )),
            second,
            "kind",
        )]);
    }
    if obj.api_version() != "apiserver.config.k8s.io/v1" || obj.kind() != "EncryptionConfiguration"
    {
        let at = if obj.kind() == "EncryptionConfiguration" {
            "apiVersion"
        } else {
            "kind"
        };
        return Verdict::from_findings(vec![in_file(
            Finding::error(format!(
                "{} holds apiVersion `{}`, kind `{}`: kube-apiserver reads apiVersion: apiserver.config.k8s.io/v1, kind: EncryptionConfiguration",
                check.target,
                obj.api_version(),
                obj.kind()
            )),
            obj,
            at,
        )]);
    }
    let config = EncryptionConfig::parse(&obj.value);
    let mut findings: Vec<Finding> = Vec::new();
    for (path, msg) in &config.errors {
        findings.push(in_file(
            Finding::error(format!("kube-apiserver would not start: {path}: {msg}")),
            obj,
            path,
        ));
    }
    for (path, msg) in &config.mistakes {
        findings.push(in_file(Finding::error(msg.clone()), obj, path));
    }
    for (path, msg) in &config.warnings {
        findings.push(in_file(Finding::warning(msg.clone()), obj, path));
    }
    findings.extend(property(check, &config, obj));
    if !findings.iter().any(|f| f.severity == Severity::Error) {
        findings.push(Finding::info(format!("{}: holds", check.describe())));
    }
    Verdict::from_findings(findings)
}

/// The findings of the check's property (writers, plaintext readability)
/// for each of its resources.
fn property(
    check: &EncryptionConfigCheck,
    config: &EncryptionConfig,
    obj: &KubeObject,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let allowed: Vec<&str> = check
        .writers
        .iter()
        .map(|p| match p {
            Provider::Kms => "kms v2",
            other => other.as_str(),
        })
        .collect();
    let allowed = or_list(&allowed);
    for res in &check.resources {
        let Some((i, entry)) = config.entry_for(res) else {
            let mut msg = format!(
                "{res} are in no resources list: the API server stores them as plaintext (identity); list `{res}` (or `*.*`) with {allowed} first"
            );
            if !config.entries.is_empty() {
                let listed: Vec<&str> = config
                    .entries
                    .iter()
                    .flat_map(|e| e.resources.iter().map(String::as_str))
                    .collect();
                let _ = write!(msg, " (the file lists {})", listed.join(", "));
            }
            out.push(in_file(Finding::error(msg), obj, "resources"));
            continue;
        };
        let Some(first) = entry.providers.first() else {
            continue;
        };
        let Some(writer) = first.provider else {
            continue;
        };
        let kms_v1 = writer == Provider::Kms && first.kms_version.as_deref() == Some("v1");
        if writer == Provider::Identity {
            out.push(in_file(
                Finding::error(format!(
                    "{res}: identity is the first provider of resources[{i}], so it writes: new {res} are stored in plaintext (base64 is not encryption) and nothing is encrypted; put {allowed} first and identity last"
                )),
                obj,
                &first.path,
            ));
        } else if !check.writers.contains(&writer) || kms_v1 {
            let mut msg = format!(
                "{res} are written by {}{}, the first provider of resources[{i}]; the lab wants {allowed}",
                writer.as_str(),
                if kms_v1 { " v1 (deprecated)" } else { "" }
            );
            if writer == Provider::Aesgcm {
                let _ = write!(msg, ": {AESGCM_WARNING}");
            }
            out.push(in_file(Finding::error(msg), obj, &first.path));
        } else if writer == Provider::Aesgcm {
            out.push(in_file(Finding::warning(AESGCM_WARNING), obj, &first.path));
        }
        let identity = entry
            .providers
            .iter()
            .skip(1)
            .find(|p| p.provider == Some(Provider::Identity));
        match (check.readable_plaintext, identity) {
            (Some(true), None) if writer != Provider::Identity => out.push(in_file(
                Finding::error(format!(
                    "{res}: no identity provider in resources[{i}].providers, so the {res} stored before encryption (plaintext) can no longer be read until rewritten; add `- identity: {{}}` last"
                )),
                obj,
                &format!("resources[{i}].providers"),
            )),
            (Some(false), Some(p)) => out.push(in_file(
                Finding::error(format!(
                    "{res}: identity can read, so plaintext {res} in etcd are still accepted; remove it once every {res} has been rewritten"
                )),
                obj,
                &p.path,
            )),
            _ => {}
        }
        if let Some(p) = entry.providers.iter().enumerate().find_map(|(j, p)| {
            (j > 0 && p.provider == Some(Provider::Identity) && j + 1 < entry.providers.len())
                .then_some(p)
        }) {
            out.push(in_file(
                Finding::warning(format!(
                    "{res}: identity is not last in resources[{i}].providers: the providers after it are tried after it on every read; put it last"
                )),
                obj,
                &p.path,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const K16: &str = "MDEyMzQ1Njc4OWFiY2RlZg==";
    const K20: &str = "MDEyMzQ1Njc4OWFiY2RlZmdoaWo=";
    const K32: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    fn check(plain: Option<bool>) -> EncryptionConfigCheck {
        EncryptionConfigCheck {
            target: "enc.yaml".to_owned(),
            resources: vec!["secrets".to_owned()],
            writers: vec![Provider::Aescbc, Provider::Secretbox, Provider::Kms],
            readable_plaintext: plain,
        }
    }

    fn doc(resources: &Value) -> Vec<KubeObject> {
        let mut o = KubeObject::new(json!({
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "EncryptionConfiguration",
            "resources": resources,
        }));
        o.source = Some("enc.yaml".to_owned());
        vec![o]
    }

    fn errors(v: &Verdict) -> Vec<(String, String)> {
        v.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| (f.paths.join(","), f.message.clone()))
            .collect()
    }

    fn one_error(v: &Verdict, path: &str, text: &str) {
        let e = errors(v);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, path, "{e:?}");
        assert!(e[0].1.contains(text), "{e:?}");
    }

    fn good() -> Value {
        json!([{"resources": ["secrets"], "providers": [
            {"aescbc": {"keys": [{"name": "key1", "secret": K32}]}},
            {"identity": {}}
        ]}])
    }

    #[test]
    fn aescbc_first_identity_last_passes() {
        let v = grade(&check(Some(true)), &doc(&good()));
        assert!(v.passed(), "{:?}", v.findings);
    }

    #[test]
    fn identity_first_encrypts_nothing() {
        let r = json!([{"resources": ["secrets"], "providers": [
            {"identity": {}},
            {"aescbc": {"keys": [{"name": "key1", "secret": K32}]}}
        ]}]);
        let v = grade(&check(Some(true)), &doc(&r));
        one_error(&v, "resources[0].providers[0]", "nothing is encrypted");
    }

    #[test]
    fn secretbox_needs_32_bytes() {
        let r = json!([{"resources": ["secrets"], "providers": [
            {"secretbox": {"keys": [{"name": "k", "secret": K16}]}}, {"identity": {}}
        ]}]);
        let v = grade(&check(Some(true)), &doc(&r));
        one_error(
            &v,
            "resources[0].providers[0].secretbox.keys[0].secret",
            "got 16, expected one of [32]",
        );
    }

    #[test]
    fn aescbc_key_of_20_bytes_is_refused() {
        let r = json!([{"resources": ["secrets"], "providers": [
            {"aescbc": {"keys": [{"name": "k", "secret": K20}]}}, {"identity": {}}
        ]}]);
        let v = grade(&check(Some(true)), &doc(&r));
        one_error(
            &v,
            "resources[0].providers[0].aescbc.keys[0].secret",
            "got 20, expected one of [16 24 32]",
        );
    }

    #[test]
    fn key_not_base64() {
        let r = json!([{"resources": ["secrets"], "providers": [
            {"aescbc": {"keys": [{"name": "k", "secret": "not base64!"}]}}, {"identity": {}}
        ]}]);
        let v = grade(&check(Some(true)), &doc(&r));
        one_error(
            &v,
            "resources[0].providers[0].aescbc.keys[0].secret",
            "base64",
        );
    }

    #[test]
    fn duplicate_key_names() {
        let r = json!([{"resources": ["secrets"], "providers": [
            {"aescbc": {"keys": [{"name": "k", "secret": K32}, {"name": "k", "secret": K16}]}},
            {"identity": {}}
        ]}]);
        let v = grade(&check(Some(true)), &doc(&r));
        one_error(
            &v,
            "resources[0].providers[0].aescbc.keys[1].name",
            "used twice",
        );
        // kube-apiserver itself loads it: seclab's finding, not a refusal.
        assert!(
            !v.findings
                .iter()
                .any(|f| f.message.contains("would not start"))
        );
    }

    #[test]
    fn secrets_not_listed() {
        let r = json!([{"resources": ["configmaps"], "providers": [
            {"aescbc": {"keys": [{"name": "k", "secret": K32}]}}, {"identity": {}}
        ]}]);
        let v = grade(&check(Some(true)), &doc(&r));
        one_error(&v, "resources", "in no resources list");
    }

    #[test]
    fn star_star_covers_secrets_and_first_entry_decides() {
        let r = json!([
            {"resources": ["secrets"], "providers": [
                {"secretbox": {"keys": [{"name": "k", "secret": K32}]}}, {"identity": {}}]},
            {"resources": ["*.*"], "providers": [{"identity": {}}]}
        ]);
        assert!(grade(&check(Some(true)), &doc(&r)).passed());
        let r = json!([
            {"resources": ["*.*"], "providers": [{"identity": {}}]},
            {"resources": ["secrets"], "providers": [
                {"secretbox": {"keys": [{"name": "k", "secret": K32}]}}, {"identity": {}}]}
        ]);
        let v = grade(&check(Some(true)), &doc(&r));
        one_error(
            &v,
            "resources[0].providers[0]",
            "identity is the first provider",
        );
    }

    #[test]
    fn aesgcm_fails_when_not_allowed_and_warns_when_allowed() {
        let r = json!([{"resources": ["secrets"], "providers": [
            {"aesgcm": {"keys": [{"name": "k", "secret": K32}]}}, {"identity": {}}
        ]}]);
        let v = grade(&check(Some(true)), &doc(&r));
        one_error(&v, "resources[0].providers[0]", "200k writes");
        let mut c = check(Some(true));
        c.writers.push(Provider::Aesgcm);
        let v = grade(&c, &doc(&r));
        assert!(v.passed());
        assert!(
            v.findings
                .iter()
                .any(|f| f.severity == Severity::Warning && f.message.contains("200k"))
        );
    }

    #[test]
    fn empty_providers() {
        let r = json!([{"resources": ["secrets"], "providers": []}]);
        let v = grade(&check(Some(true)), &doc(&r));
        one_error(
            &v,
            "resources[0].providers",
            "at least one resources[0].providers",
        );
    }

    #[test]
    fn empty_resources() {
        let v = grade(&check(None), &doc(&json!([])));
        let e = errors(&v);
        assert!(
            e.iter()
                .any(|(p, m)| p == "resources" && m.contains("at least one")),
            "{e:?}"
        );
    }

    #[test]
    fn wrong_api_version_and_kind() {
        let mut o = doc(&good());
        o[0].value["apiVersion"] = json!("apiserver.config.k8s.io/v1beta1");
        one_error(
            &grade(&check(None), &o),
            "apiVersion",
            "apiserver.config.k8s.io/v1",
        );
        let mut o = doc(&good());
        o[0].value["kind"] = json!("EncryptionConfig");
        one_error(
            &grade(&check(None), &o),
            "kind",
            "kind: EncryptionConfiguration",
        );
    }

    #[test]
    fn missing_file() {
        let v = grade(&check(None), &[]);
        assert!(!v.passed());
    }

    #[test]
    fn identity_required_or_forbidden() {
        let r = json!([{"resources": ["secrets"], "providers": [
            {"aescbc": {"keys": [{"name": "k", "secret": K32}]}}
        ]}]);
        one_error(
            &grade(&check(Some(true)), &doc(&r)),
            "resources[0].providers",
            "can no longer be read",
        );
        assert!(grade(&check(Some(false)), &doc(&r)).passed());
        one_error(
            &grade(&check(Some(false)), &doc(&good())),
            "resources[0].providers[1]",
            "identity can read",
        );
    }

    #[test]
    fn kms_v2_needs_name_and_unix_endpoint() {
        let r = json!([{"resources": ["secrets"], "providers": [
            {"kms": {"apiVersion": "v2", "name": "vault", "endpoint": "unix:///var/run/kms.sock", "timeout": "3s"}},
            {"identity": {}}
        ]}]);
        assert!(grade(&check(Some(true)), &doc(&r)).passed());
        let r = json!([{"resources": ["secrets"], "providers": [
            {"kms": {"apiVersion": "v2", "endpoint": "tcp://10.0.0.1:80", "timeout": "0s"}},
            {"identity": {}}
        ]}]);
        let e = errors(&grade(&check(Some(true)), &doc(&r)));
        let paths: Vec<&str> = e.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "resources[0].providers[0].kms.name",
                "resources[0].providers[0].kms.endpoint",
                "resources[0].providers[0].kms.timeout"
            ],
            "{e:?}"
        );
    }

    #[test]
    fn kms_v1_is_not_a_v2_writer() {
        let r = json!([{"resources": ["secrets"], "providers": [
            {"kms": {"name": "old", "endpoint": "unix:///k.sock"}}, {"identity": {}}
        ]}]);
        one_error(
            &grade(&check(Some(true)), &doc(&r)),
            "resources[0].providers[0]",
            "v1 (deprecated)",
        );
    }

    #[test]
    fn two_providers_in_one_element() {
        let r = json!([{"resources": ["secrets"], "providers": [
            {"aescbc": {"keys": [{"name": "k", "secret": K32}]}, "identity": {}}
        ]}]);
        let e = errors(&grade(&check(None), &doc(&r)));
        assert!(
            e.iter()
                .any(|(p, m)| p == "resources[0].providers[0]"
                    && m.contains("more than one provider")),
            "{e:?}"
        );
    }

    #[test]
    fn resource_names_validated() {
        let r = json!([{"resources": ["Secrets", "*", "secrets.*", "secrets", "*."], "providers": [
            {"identity": {}}
        ]}]);
        let cfg = EncryptionConfig::parse(&doc(&r)[0].value);
        let msgs: Vec<&str> = cfg.errors.iter().map(|(_, m)| m.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m.contains("capital letters")),
            "{msgs:?}"
        );
        assert!(msgs.iter().any(|m| m.contains("use '*.'")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("across groups")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("overlapping")), "{msgs:?}");
    }

    #[test]
    fn malformed_never_panics() {
        for v in [
            json!(null),
            json!(3),
            json!("x"),
            json!([1]),
            json!([{"resources": 1, "providers": [1, null, {"aescbc": 1}, {"kms": null}]}]),
        ] {
            let _ = grade(&check(Some(true)), &doc(&v));
        }
    }

    #[test]
    fn durations() {
        assert!(is_positive_duration("3s"));
        assert!(is_positive_duration("1m30s"));
        assert!(!is_positive_duration("0s"));
        assert!(!is_positive_duration("3"));
        assert!(!is_positive_duration(""));
    }

    #[test]
    fn check_problems() {
        assert!(check(None).problems().is_empty());
        let mut c = check(None);
        c.writers = vec![Provider::Identity];
        c.resources = vec!["*.*".to_owned()];
        assert_eq!(c.problems().len(), 2);
    }
}
