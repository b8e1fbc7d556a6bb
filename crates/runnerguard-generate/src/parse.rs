//! `runnerguard.toml` → [`RawConfig`]: every key with its span, and a diagnostic for each
//! syntax error, unknown key, wrong type and token in clear. [`crate::validate`] takes it
//! from there.
//!
//! The TOML is walked through `toml`'s spanned document ([`DeTable`]) rather than
//! deserialized with serde, so that one run reports every problem, not the first.

use std::ops::Range;

use runnerguard_model::SettingValue;
use toml::de::{DeArray, DeTable, DeValue};

use crate::ConfigDiagnostic;
use crate::diagnostic::Lines;

/// A value and the bytes of the file it came from.
#[derive(Clone, Debug)]
pub(crate) struct Sp<T> {
    pub(crate) value: T,
    pub(crate) span: Range<usize>,
}

/// `[manager]`.
#[derive(Debug, Default)]
pub(crate) struct RawManager {
    pub(crate) namespace: Option<Sp<String>>,
    pub(crate) gitlab_url: Option<Sp<String>>,
    pub(crate) runner_version: Option<Sp<String>>,
    pub(crate) chart_version: Option<Sp<String>>,
}

/// `[tenants.resources.<container>]`.
#[derive(Debug, Default)]
pub(crate) struct RawContainer {
    pub(crate) cpu_request: Option<Sp<String>>,
    pub(crate) cpu_limit: Option<Sp<String>>,
    pub(crate) memory_request: Option<Sp<String>>,
    pub(crate) memory_limit: Option<Sp<String>>,
}

/// `[tenants.security_context]`.
#[derive(Debug, Default)]
pub(crate) struct RawSecurity {
    pub(crate) run_as_non_root: Option<Sp<bool>>,
    pub(crate) run_as_user: Option<Sp<i64>>,
    pub(crate) run_as_group: Option<Sp<i64>>,
    pub(crate) fs_group: Option<Sp<i64>>,
}

/// `[tenants.quota]`.
#[derive(Debug, Default)]
pub(crate) struct RawQuota {
    pub(crate) pods: Option<Sp<i64>>,
    pub(crate) requests_cpu: Option<Sp<String>>,
    pub(crate) requests_memory: Option<Sp<String>>,
    pub(crate) limits_cpu: Option<Sp<String>>,
    pub(crate) limits_memory: Option<Sp<String>>,
}

/// One `deploy_namespaces` entry: a namespace name (the setup only adds RBAC there), or a
/// table `{ name = "…", create = true }` (the setup also creates it, with Pod Security
/// labels).
#[derive(Debug)]
pub(crate) struct RawDeployNamespace {
    pub(crate) name: Sp<String>,
    pub(crate) create: Option<Sp<bool>>,
}

/// One `[[tenants]]` entry.
#[derive(Debug, Default)]
pub(crate) struct RawTenant {
    pub(crate) span: Range<usize>,
    pub(crate) name: Option<Sp<String>>,
    pub(crate) job_namespace: Option<Sp<String>>,
    pub(crate) deploy_namespaces: Option<Sp<Vec<RawDeployNamespace>>>,
    pub(crate) job_service_account: Option<Sp<String>>,
    pub(crate) deploy: Option<Sp<bool>>,
    pub(crate) deployer_service_account: Option<Sp<String>>,
    pub(crate) manager_service_account: Option<Sp<String>>,
    pub(crate) token_secret: Option<Sp<String>>,
    pub(crate) developer_groups: Option<Sp<Vec<Sp<String>>>>,
    pub(crate) developer_job_access: Option<Sp<String>>,
    pub(crate) developer_deploy_access: Option<Sp<String>>,
    pub(crate) pod_security: Option<Sp<String>>,
    pub(crate) image: Option<Sp<String>>,
    pub(crate) allowed_images: Option<Sp<Vec<Sp<String>>>>,
    pub(crate) allowed_services: Option<Sp<Vec<Sp<String>>>>,
    pub(crate) concurrent: Option<Sp<i64>>,
    pub(crate) executor_features: Option<Sp<Vec<Sp<String>>>>,
    pub(crate) build: RawContainer,
    pub(crate) helper: RawContainer,
    pub(crate) service: RawContainer,
    pub(crate) security: RawSecurity,
    pub(crate) quota: RawQuota,
}

/// The configuration as written: every value with its span, nothing checked beyond types.
#[derive(Debug, Default)]
pub(crate) struct RawConfig {
    pub(crate) manager: RawManager,
    /// `None` when the file has no `[[tenants]]`: the default tenant applies.
    pub(crate) tenants: Option<Sp<Vec<RawTenant>>>,
}

pub(crate) const TOP_KEYS: &[&str] = &["manager", "tenants"];
pub(crate) const MANAGER_KEYS: &[&str] =
    &["namespace", "gitlab_url", "runner_version", "chart_version"];
pub(crate) const TENANT_KEYS: &[&str] = &[
    "name",
    "job_namespace",
    "deploy_namespaces",
    "job_service_account",
    "deploy",
    "deployer_service_account",
    "manager_service_account",
    "token_secret",
    "developer_groups",
    "developer_job_access",
    "developer_deploy_access",
    "pod_security",
    "image",
    "allowed_images",
    "allowed_services",
    "concurrent",
    "executor_features",
    "resources",
    "security_context",
    "quota",
];
const DEPLOY_NAMESPACE_KEYS: &[&str] = &["name", "create"];
const RESOURCES_KEYS: &[&str] = &["build", "helper", "service"];
const CONTAINER_KEYS: &[&str] = &["cpu_request", "cpu_limit", "memory_request", "memory_limit"];
const SECURITY_KEYS: &[&str] = &["run_as_non_root", "run_as_user", "run_as_group", "fs_group"];
const QUOTA_KEYS: &[&str] = &[
    "pods",
    "requests_cpu",
    "requests_memory",
    "limits_cpu",
    "limits_memory",
];

/// What to do instead of writing a token into the file.
pub(crate) const TOKEN_HELP: &str = "never write the runner token into runnerguard.toml: create a Secret in the manager namespace with keys `runner-token` (the glrt- token) and `runner-registration-token` (empty), and name it with `token_secret = \"NAME\"` under [[tenants]]";

/// Collects diagnostics and turns spans into places.
pub(crate) struct Walker<'a> {
    file: &'a str,
    lines: Lines<'a>,
    pub(crate) diagnostics: Vec<ConfigDiagnostic>,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        Self {
            file,
            lines: Lines::new(text),
            diagnostics: Vec::new(),
        }
    }

    /// Records a problem at `span`.
    pub(crate) fn error(&mut self, span: &Range<usize>, message: String, help: Option<String>) {
        let (line, column) = self.lines.position(span.start);
        self.diagnostics.push(ConfigDiagnostic {
            file: self.file.to_owned(),
            line,
            column,
            message,
            help,
        });
    }

    /// Parses `text`. A syntax error is the only diagnostic then.
    pub(crate) fn parse(&mut self, text: &str) -> RawConfig {
        let doc = match DeTable::parse(text) {
            Ok(doc) => doc,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                self.error(
                    &span,
                    format!("invalid TOML: {}", e.message().trim_end()),
                    None,
                );
                return RawConfig::default();
            }
        };
        let root = doc.get_ref();
        self.scan_tokens(root);
        self.unknown_keys(root, "the top level", TOP_KEYS);
        let mut raw = RawConfig::default();
        if let Some(t) = self.table(root, "manager", "the top level") {
            self.unknown_keys(t, "[manager]", MANAGER_KEYS);
            raw.manager = RawManager {
                namespace: self.string(t, "namespace"),
                gitlab_url: self.string(t, "gitlab_url"),
                runner_version: self.string(t, "runner_version"),
                chart_version: self.string(t, "chart_version"),
            };
        }
        if let Some(value) = root.get("tenants") {
            let span = value.span();
            match value.get_ref() {
                DeValue::Array(items) => {
                    let tenants = self.tenants(items);
                    raw.tenants = Some(Sp {
                        value: tenants,
                        span,
                    });
                }
                other => self.error(
                    &span,
                    format!(
                        "`tenants` must be an array of tables (`[[tenants]]`), found {}",
                        describe(other)
                    ),
                    Some("write each tenant as a `[[tenants]]` section".to_owned()),
                ),
            }
        }
        raw
    }

    fn tenants(&mut self, items: &DeArray<'_>) -> Vec<RawTenant> {
        let mut out = Vec::new();
        for item in items {
            let span = item.span();
            let DeValue::Table(t) = item.get_ref() else {
                self.error(
                    &span,
                    format!(
                        "each entry of `tenants` must be a table, found {}",
                        describe(item.get_ref())
                    ),
                    Some("write each tenant as a `[[tenants]]` section".to_owned()),
                );
                continue;
            };
            self.unknown_keys(t, "[[tenants]]", TENANT_KEYS);
            let mut tenant = RawTenant {
                span,
                name: self.string(t, "name"),
                job_namespace: self.string(t, "job_namespace"),
                deploy_namespaces: self.deploy_namespaces(t),
                job_service_account: self.string(t, "job_service_account"),
                deploy: self.bool(t, "deploy"),
                deployer_service_account: self.string(t, "deployer_service_account"),
                manager_service_account: self.string(t, "manager_service_account"),
                token_secret: self.string(t, "token_secret"),
                developer_groups: self.strings(t, "developer_groups"),
                developer_job_access: self.string(t, "developer_job_access"),
                developer_deploy_access: self.string(t, "developer_deploy_access"),
                pod_security: self.string(t, "pod_security"),
                image: self.string(t, "image"),
                allowed_images: self.strings(t, "allowed_images"),
                allowed_services: self.strings(t, "allowed_services"),
                concurrent: self.integer(t, "concurrent"),
                executor_features: self.strings(t, "executor_features"),
                ..RawTenant::default()
            };
            if let Some(r) = self.table(t, "resources", "[[tenants]]") {
                self.unknown_keys(r, "[tenants.resources]", RESOURCES_KEYS);
                tenant.build = self.container(r, "build");
                tenant.helper = self.container(r, "helper");
                tenant.service = self.container(r, "service");
            }
            if let Some(s) = self.table(t, "security_context", "[[tenants]]") {
                self.unknown_keys(s, "[tenants.security_context]", SECURITY_KEYS);
                tenant.security = RawSecurity {
                    run_as_non_root: self.bool(s, "run_as_non_root"),
                    run_as_user: self.integer(s, "run_as_user"),
                    run_as_group: self.integer(s, "run_as_group"),
                    fs_group: self.integer(s, "fs_group"),
                };
            }
            if let Some(q) = self.table(t, "quota", "[[tenants]]") {
                self.unknown_keys(q, "[tenants.quota]", QUOTA_KEYS);
                tenant.quota = RawQuota {
                    pods: self.integer(q, "pods"),
                    requests_cpu: self.string(q, "requests_cpu"),
                    requests_memory: self.string(q, "requests_memory"),
                    limits_cpu: self.string(q, "limits_cpu"),
                    limits_memory: self.string(q, "limits_memory"),
                };
            }
            out.push(tenant);
        }
        out
    }

    /// `deploy_namespaces`: an array whose entries are namespace names or
    /// `{ name = "…", create = true }` tables (issue #8: only namespaces marked `create` are
    /// created and labelled). Plain strings keep configurations written before tables
    /// existed valid.
    fn deploy_namespaces(&mut self, tenant: &DeTable<'_>) -> Option<Sp<Vec<RawDeployNamespace>>> {
        const KEY: &str = "deploy_namespaces";
        const HELP: &str = "write deploy_namespaces = [\"staging\", …] for namespaces that exist, and { name = \"staging\", create = true } for those runnerguard creates";
        let value = tenant.get(KEY)?;
        let span = value.span();
        let DeValue::Array(items) = value.get_ref() else {
            self.error(
                &span,
                format!(
                    "`{KEY}` must be an array of namespaces, found {}",
                    describe(value.get_ref())
                ),
                Some(HELP.to_owned()),
            );
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            let item_span = item.span();
            match item.get_ref() {
                DeValue::String(s) => out.push(RawDeployNamespace {
                    name: Sp {
                        value: s.to_string(),
                        span: item_span,
                    },
                    create: None,
                }),
                DeValue::Table(t) => {
                    self.unknown_keys(t, "a `deploy_namespaces` entry", DEPLOY_NAMESPACE_KEYS);
                    let name = self.string(t, "name");
                    let create = self.bool(t, "create");
                    if let Some(name) = name {
                        out.push(RawDeployNamespace { name, create });
                    } else if !t.contains_key("name") {
                        self.error(
                            &item_span,
                            "a `deploy_namespaces` entry needs a `name`".to_owned(),
                            Some("write { name = \"staging\", create = true }".to_owned()),
                        );
                    }
                }
                other => self.error(
                    &item_span,
                    format!(
                        "each entry of `{KEY}` must be a namespace name or a table, found {}",
                        describe(other)
                    ),
                    Some(HELP.to_owned()),
                ),
            }
        }
        Some(Sp { value: out, span })
    }

    fn container(&mut self, resources: &DeTable<'_>, name: &str) -> RawContainer {
        let Some(c) = self.table(resources, name, "[tenants.resources]") else {
            return RawContainer::default();
        };
        self.unknown_keys(c, &format!("[tenants.resources.{name}]"), CONTAINER_KEYS);
        RawContainer {
            cpu_request: self.string(c, "cpu_request"),
            cpu_limit: self.string(c, "cpu_limit"),
            memory_request: self.string(c, "memory_request"),
            memory_limit: self.string(c, "memory_limit"),
        }
    }

    /// A diagnostic for each key of `table` not in `known`, with a suggestion for near
    /// misses. Keys that look like tokens get the token help instead.
    fn unknown_keys(&mut self, table: &DeTable<'_>, section: &str, known: &[&str]) {
        for (key, _) in table {
            let name = key.get_ref().as_ref();
            if known.contains(&name) {
                continue;
            }
            if is_token_key(name) {
                self.error(
                    &key.span(),
                    format!("`{name}`: runner tokens do not belong in runnerguard.toml"),
                    Some(TOKEN_HELP.to_owned()),
                );
                continue;
            }
            let help = match closest(name, known) {
                Some(k) => format!("did you mean `{k}`?"),
                None => format!("{section} takes: {}", known.join(", ")),
            };
            self.error(
                &key.span(),
                format!("unknown key `{name}` in {section}"),
                Some(help),
            );
        }
    }

    /// Every string anywhere in the document that looks like a GitLab token.
    fn scan_tokens(&mut self, table: &DeTable<'_>) {
        for (_, value) in table {
            self.scan_value(value.get_ref(), &value.span());
        }
    }

    fn scan_value(&mut self, value: &DeValue<'_>, span: &Range<usize>) {
        match value {
            DeValue::String(s) => {
                if let Some(prefix) = SettingValue::TOKEN_PREFIXES
                    .iter()
                    .find(|p| s.trim().starts_with(*p))
                {
                    self.error(
                        span,
                        format!(
                            "this value looks like a GitLab token (`{prefix}…`): tokens do not belong in runnerguard.toml"
                        ),
                        Some(TOKEN_HELP.to_owned()),
                    );
                }
            }
            DeValue::Array(items) => {
                for item in items {
                    self.scan_value(item.get_ref(), &item.span());
                }
            }
            DeValue::Table(t) => self.scan_tokens(t),
            _ => {}
        }
    }

    fn table<'t>(
        &mut self,
        parent: &'t DeTable<'t>,
        key: &str,
        section: &str,
    ) -> Option<&'t DeTable<'t>> {
        let value = parent.get(key)?;
        if let DeValue::Table(t) = value.get_ref() {
            Some(t)
        } else {
            self.error(
                &value.span(),
                format!(
                    "`{key}` in {section} must be a table, found {}",
                    describe(value.get_ref())
                ),
                None,
            );
            None
        }
    }

    fn string(&mut self, table: &DeTable<'_>, key: &str) -> Option<Sp<String>> {
        let value = table.get(key)?;
        let span = value.span();
        if let DeValue::String(s) = value.get_ref() {
            Some(Sp {
                value: s.to_string(),
                span,
            })
        } else {
            self.error(
                &span,
                format!(
                    "`{key}` must be a string, found {}",
                    describe(value.get_ref())
                ),
                Some(format!("write it in quotes: {key} = \"…\"")),
            );
            None
        }
    }

    fn bool(&mut self, table: &DeTable<'_>, key: &str) -> Option<Sp<bool>> {
        let value = table.get(key)?;
        let span = value.span();
        if let DeValue::Boolean(b) = value.get_ref() {
            Some(Sp { value: *b, span })
        } else {
            self.error(
                &span,
                format!(
                    "`{key}` must be a boolean, found {}",
                    describe(value.get_ref())
                ),
                Some(format!("write {key} = true or {key} = false")),
            );
            None
        }
    }

    fn integer(&mut self, table: &DeTable<'_>, key: &str) -> Option<Sp<i64>> {
        let value = table.get(key)?;
        let span = value.span();
        if let DeValue::Integer(i) = value.get_ref()
            && let Ok(n) = i64::from_str_radix(i.as_str(), i.radix())
        {
            Some(Sp { value: n, span })
        } else {
            self.error(
                &span,
                format!(
                    "`{key}` must be an integer, found {}",
                    describe(value.get_ref())
                ),
                None,
            );
            None
        }
    }

    fn strings(&mut self, table: &DeTable<'_>, key: &str) -> Option<Sp<Vec<Sp<String>>>> {
        let value = table.get(key)?;
        let span = value.span();
        let DeValue::Array(items) = value.get_ref() else {
            self.error(
                &span,
                format!(
                    "`{key}` must be an array of strings, found {}",
                    describe(value.get_ref())
                ),
                Some(format!("write {key} = [\"…\", \"…\"]")),
            );
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            if let DeValue::String(s) = item.get_ref() {
                out.push(Sp {
                    value: s.to_string(),
                    span: item.span(),
                });
            } else {
                self.error(
                    &item.span(),
                    format!(
                        "`{key}` must hold strings only, found {}",
                        describe(item.get_ref())
                    ),
                    None,
                );
            }
        }
        Some(Sp { value: out, span })
    }
}

/// Whether a key name is a place someone put a token.
fn is_token_key(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("token") && lower != "token_secret"
}

/// What kind of TOML value this is, for messages.
fn describe(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The known key closest to `name`, when it is close enough to be a typo. The distance counts
/// a swap of two neighbouring characters as one edit (optimal string alignment), the
/// commonest typo.
pub(crate) fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::osa_distance(name, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).clamp(1, 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    // The distance `closest` uses: a swap is one edit (`nmae` is one from `name`).
    use strsim::osa_distance as distance;

    use super::*;

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(closest("job_namspace", TENANT_KEYS), Some("job_namespace"));
        assert_eq!(closest("nmae", TENANT_KEYS), Some("name"));
        assert_eq!(closest("colour", TENANT_KEYS), None);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("nmae", "name"), 1);
    }

    #[test]
    fn token_keys() {
        assert!(is_token_key("runner_token"));
        assert!(is_token_key("runnerToken"));
        assert!(!is_token_key("token_secret"));
    }
}
