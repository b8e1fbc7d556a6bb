//! A GitLab Runner setup as read from its configuration: runner `config.toml` (or the chart's
//! `config.template.toml`) and Helm values for the official chart.

use std::fmt;

use serde::Serialize;

use crate::Origin;

/// A configuration value, as written. Tables are not kept as values: their keys are settings
/// of their own, with dotted names.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SettingValue {
    /// A string.
    String(String),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Integer(i64),
    /// A floating-point number.
    Float(f64),
    /// A list.
    List(Vec<SettingValue>),
    /// A table (mapping); its entries are settings of their own.
    Table,
    /// Anything else (a date, a null), shown as written.
    Other(String),
}

impl SettingValue {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl fmt::Display for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(s) => write!(f, "{s:?}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Self::Table => f.write_str("{...}"),
            Self::Other(s) => f.write_str(s),
        }
    }
}

/// One key of a configuration, by its dotted path, with its value and place.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Setting {
    /// The dotted path, relative to the section it belongs to (e.g. `namespace`,
    /// `pod_security_context.run_as_user`, `runners.config`).
    pub key: String,
    /// The value.
    pub value: SettingValue,
    /// Where it is written.
    pub origin: Origin,
}

/// Where a runner configuration came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RunnerConfigSource {
    /// A `config.toml` file.
    File,
    /// A ConfigMap key (`config.toml` or `config.template.toml`), as the chart renders it.
    ConfigMap {
        /// The ConfigMap's namespace.
        namespace: String,
        /// The ConfigMap's name.
        name: String,
        /// The data key.
        key: String,
    },
    /// The `runners.config` string of a Helm values file.
    HelmValues,
}

/// A runner configuration: the `[[runners]]` entries of a `config.toml`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunnerConfig {
    /// Where it came from.
    pub source: RunnerConfigSource,
    /// Where it starts.
    pub origin: Origin,
    /// Whether it is a registration template (`config.template.toml`, the chart's
    /// `runners.config`): merged into the real config by `gitlab-runner register`.
    pub template: bool,
    /// The `[[runners]]` entries.
    pub runners: Vec<RunnerEntry>,
}

/// One `[[runners]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunnerEntry {
    /// Where the entry starts.
    pub origin: Origin,
    /// `name`, when set.
    pub name: Option<String>,
    /// `executor`, when set.
    pub executor: Option<String>,
    /// Where `[runners.kubernetes]` starts, when present.
    pub kubernetes_origin: Option<Origin>,
    /// Every key under `[runners.kubernetes]`, dotted paths relative to it.
    pub kubernetes: Vec<Setting>,
}

impl RunnerEntry {
    /// The `[runners.kubernetes]` setting `key` (dotted path), if set.
    pub fn kube(&self, key: &str) -> Option<&Setting> {
        self.kubernetes.iter().find(|s| s.key == key)
    }
}

/// A Helm values file for the official gitlab-runner chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HelmValues {
    /// The file and the line where the values document starts.
    pub origin: Origin,
    /// Every key path in the file, parents before children (`runners`, `runners.config`,
    /// ...). List items are not separate entries: a list is the value of its key.
    pub entries: Vec<Setting>,
    /// `runners.config`, parsed, when it is a string of valid TOML.
    pub runner_config: Option<RunnerConfig>,
}

impl HelmValues {
    /// The entry at dotted `path`, if present.
    pub fn get(&self, path: &str) -> Option<&Setting> {
        self.entries.iter().find(|s| s.key == path)
    }
}
