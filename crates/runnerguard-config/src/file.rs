//! The file as written: one struct per section, one field per key, each value with its span.
//! Nothing here is checked beyond types; `runnerguard generate` validates what it builds from
//! and [`crate::Audit::resolve`] the `[audit]` section.
//!
//! Keys are `snake_case` like the runner's own `config.toml`, except in `[audit]`, whose keys
//! are the audit's flags (`fail-on` is `--fail-on`).

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, Range};

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, de::value::MapAccessDeserializer};

/// A value and the bytes of the file it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Its bytes in the file.
    pub span: Range<usize>,
}

/// A spanned section reads as the section: `tenant.name` for `Spanned<Tenant>`.
impl<T> Deref for Spanned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = toml::Spanned::<T>::deserialize(deserializer)?;
        Ok(Self {
            span: spanned.span(),
            value: spanned.into_inner(),
        })
    }
}

/// An optional string key.
pub type Text = Option<Spanned<String>>;
/// An optional array, each item with its place.
pub type List<T> = Option<Spanned<Vec<Spanned<T>>>>;
/// An optional array of strings, each with its place.
pub type Texts = List<String>;

/// `runnerguard.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigFile {
    /// `[manager]`.
    #[serde(deserialize_with = "table")]
    pub manager: Manager,
    /// `[[tenants]]`; `None` when the file has none (the default tenant applies).
    #[serde(deserialize_with = "tables")]
    pub tenants: List<Tenant>,
    /// `[audit]`.
    #[serde(deserialize_with = "table")]
    pub audit: Audit,
}

/// `[manager]`: where the runner managers run, and what they target.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Manager {
    /// `namespace`.
    pub namespace: Text,
    /// `gitlab_url`.
    pub gitlab_url: Text,
    /// `runner_version`.
    pub runner_version: Text,
    /// `chart_version`.
    pub chart_version: Text,
}

/// One `[[tenants]]` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tenant {
    /// `name`.
    pub name: Text,
    /// `job_namespace`.
    pub job_namespace: Text,
    /// `deploy_namespaces`.
    pub deploy_namespaces: List<DeployNamespace>,
    /// `job_service_account`.
    pub job_service_account: Text,
    /// `deploy`.
    pub deploy: Option<Spanned<bool>>,
    /// `deployer_service_account`.
    pub deployer_service_account: Text,
    /// `manager_service_account`.
    pub manager_service_account: Text,
    /// `token_secret`.
    pub token_secret: Text,
    /// `developer_groups`.
    pub developer_groups: Texts,
    /// `developer_job_access`.
    pub developer_job_access: Text,
    /// `developer_deploy_access`.
    pub developer_deploy_access: Text,
    /// `pod_security`.
    pub pod_security: Text,
    /// `image`.
    pub image: Text,
    /// `allowed_images`.
    pub allowed_images: Texts,
    /// `allowed_services`.
    pub allowed_services: Texts,
    /// `concurrent`.
    pub concurrent: Option<Spanned<i64>>,
    /// `executor_features`.
    pub executor_features: Texts,
    /// `[tenants.resources]`.
    #[serde(deserialize_with = "table")]
    pub resources: Resources,
    /// `[tenants.security_context]`.
    #[serde(deserialize_with = "table")]
    pub security_context: SecurityContext,
    /// `[tenants.quota]`.
    #[serde(deserialize_with = "table")]
    pub quota: Quota,
}

/// One `deploy_namespaces` entry: a namespace name (the setup only adds RBAC there), or a
/// table `{ name = "…", create = true }` (the setup also creates it, with Pod Security
/// labels). Plain strings keep configurations written before tables existed valid.
#[derive(Debug)]
pub enum DeployNamespace {
    /// `"staging"`.
    Name(String),
    /// `{ name = "staging", create = true }`.
    Table(DeployNamespaceTable),
}

/// `{ name = "…", create = … }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeployNamespaceTable {
    /// `name` (an entry without one is reported when the file is read).
    pub name: Text,
    /// `create`.
    pub create: Option<Spanned<bool>>,
}

impl Spanned<DeployNamespace> {
    /// The namespace named, where its name is written.
    pub fn name(&self) -> Option<Spanned<String>> {
        match &self.value {
            DeployNamespace::Name(name) => Some(Spanned {
                value: name.clone(),
                span: self.span.clone(),
            }),
            DeployNamespace::Table(t) => t.name.clone(),
        }
    }

    /// `create`, when the entry is a table that sets it.
    pub fn create(&self) -> Option<&Spanned<bool>> {
        match &self.value {
            DeployNamespace::Name(_) => None,
            DeployNamespace::Table(t) => t.create.as_ref(),
        }
    }
}

impl<'de> Deserialize<'de> for DeployNamespace {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entry;

        impl<'de> Visitor<'de> for Entry {
            type Value = DeployNamespace;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a namespace name or a table")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(DeployNamespace::Name(v.to_owned()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Table::deserialize_map(map).map(DeployNamespace::Table)
            }
        }

        deserializer.deserialize_any(Entry)
    }
}

/// `[tenants.resources]`: the job pod's containers.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Resources {
    /// `[tenants.resources.build]`.
    #[serde(deserialize_with = "table")]
    pub build: Container,
    /// `[tenants.resources.helper]`.
    #[serde(deserialize_with = "table")]
    pub helper: Container,
    /// `[tenants.resources.service]`.
    #[serde(deserialize_with = "table")]
    pub service: Container,
}

/// `[tenants.resources.<container>]`: quantities as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Container {
    /// `cpu_request`.
    pub cpu_request: Text,
    /// `cpu_limit`.
    pub cpu_limit: Text,
    /// `memory_request`.
    pub memory_request: Text,
    /// `memory_limit`.
    pub memory_limit: Text,
}

/// `[tenants.security_context]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityContext {
    /// `run_as_non_root`.
    pub run_as_non_root: Option<Spanned<bool>>,
    /// `run_as_user`.
    pub run_as_user: Option<Spanned<i64>>,
    /// `run_as_group`.
    pub run_as_group: Option<Spanned<i64>>,
    /// `fs_group`.
    pub fs_group: Option<Spanned<i64>>,
}

/// `[tenants.quota]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Quota {
    /// `pods`.
    pub pods: Option<Spanned<i64>>,
    /// `requests_cpu`.
    pub requests_cpu: Text,
    /// `requests_memory`.
    pub requests_memory: Text,
    /// `limits_cpu`.
    pub limits_cpu: Text,
    /// `limits_memory`.
    pub limits_memory: Text,
}

/// `[audit]`: what `runnerguard audit --config FILE` runs and fails on. Flags given on the
/// command line win.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct Audit {
    /// `select`: rule ids, names or id prefixes (`RG1`, `RG1*`) to run.
    pub select: Texts,
    /// `ignore`: rule ids, names or id prefixes to leave out.
    pub ignore: Texts,
    /// `severity`: a severity per rule id or name, instead of the rule's default.
    pub severity: Option<Spanned<Severities>>,
    /// `fail-on`: the lowest severity that fails the audit.
    pub fail_on: Text,
}

/// `severity = { RG109 = "info", ... }`, sorted by rule as written.
#[derive(Debug, Default)]
pub struct Severities(pub Vec<(Spanned<String>, Spanned<String>)>);

impl<'de> Deserialize<'de> for Severities {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;

        impl<'de> Visitor<'de> for Entries {
            type Value = Severities;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of rule ids and severities")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Severities(entries))
            }
        }

        deserializer.deserialize_map(Entries)
    }
}

/// A section, read from a table only: serde would also build a struct from an array, field
/// by field, so that `manager = ["a", "b", "c", "d"]` would be a `[manager]`.
struct Table<T>(T);

impl<'de, T: Deserialize<'de>> Table<T> {
    fn deserialize_map<A: MapAccess<'de>>(map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Table<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Only<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for Only<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                Table::deserialize_map(map)
            }
        }

        deserializer.deserialize_map(Only(PhantomData)).map(Table)
    }
}

/// A section field (`deserialize_with`).
fn table<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<T, D::Error> {
    Table::deserialize(deserializer).map(|t| t.0)
}

/// An array of sections (`[[tenants]]`), each with its place.
fn tables<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<List<T>, D::Error> {
    let list = List::<Table<T>>::deserialize(deserializer)?;
    Ok(list.map(|l| Spanned {
        span: l.span,
        value: l
            .value
            .into_iter()
            .map(|t| Spanned {
                span: t.span,
                value: t.value.0,
            })
            .collect(),
    }))
}
