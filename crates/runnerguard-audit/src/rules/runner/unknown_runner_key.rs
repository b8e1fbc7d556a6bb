//! RG116 `unknown-runner-key`: a runner configuration key that the runner does not read: the
//! setting silently does nothing.

use runnerguard_model::{RunnerEntry, Setting};

use super::entry_name;
use crate::chart::is_below;
use crate::{Context, Finding, Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it flags
    /// A key of a `[[runners]]` entry, or of `[runners.kubernetes]` and its nested tables
    /// (at any depth, members of arrays of tables included), that the runner does not read:
    /// a typo such as `alowed_images`, a key of another section, or a key that a runner
    /// release removed (`pre_clone_script`, removed in 17.0; reported with that version).
    ///
    /// Keys are matched as the runner's TOML decoder (BurntSushi/toml) matches them: the
    /// exact name first, else case-insensitively, so `Privileged = true` is read as
    /// `privileged` and is not flagged (RG111 sees it). The keys of maps (`node_selector`,
    /// `pod_labels`, `feature_flags`, ...) and the sections of other executors and features
    /// (`docker`, `cache`, `machine`, ...) are not checked; neither are keys written as
    /// templates (containing `{{`). When an unknown key is close to one the runner reads
    /// (Damerau-Levenshtein distance of at most 2, and at most one edit per four
    /// characters), the finding suggests it.
    ///
    /// ## Why it matters
    /// The runner ignores keys it does not know, without a word in its log: a misspelt
    /// `allowed_images` leaves jobs free to use any image, a misspelt `cpu_limit` leaves
    /// build containers unbounded, a misspelt `[runners.kubernetes.pod_security_context]`
    /// drops the whole security context, and the configuration still looks right to
    /// whoever reads it. Only `gitlab-runner lint` (runner 19.3 and later) lists such keys.
    ///
    /// ## How to fix
    /// Rename the key to the one the runner reads (the suggestion, when there is one), or
    /// remove it. Check the key names in the runner's documentation for your runner version.
    ///
    /// ## Example
    /// ```toml
    /// [[runners]]
    ///   name = "k8s"
    ///   [runners.kubernetes]
    ///     namespace = "teams"
    ///     alowed_images = ["registry.example.com/*"]   # flagged: did you mean `allowed_images`?
    ///     Privileged = false                           # not flagged: read as `privileged`
    ///     [runners.kubernetes.pod_securty_context]     # flagged: the whole table is ignored
    ///       run_as_non_root = true
    /// ```
    pub(crate) struct UnknownRunnerKey {
        id: "RG116",
        name: "unknown-runner-key",
        severity: Medium,
        summary: "a runner configuration key that the runner does not read: the setting silently does nothing",
        remediation: "rename the key to one the runner reads (see the suggestion) or remove it",
    }
}

/// The longest edit distance at which a known key is suggested.
///
/// Damerau-Levenshtein rather than Jaro-Winkler: typos are edits (a letter dropped, doubled
/// or swapped, and a swap counts as one edit here), while Jaro-Winkler rewards a shared
/// prefix, which the runner's keys share in long families (`helper_cpu_limit`,
/// `helper_cpu_limit_overwrite_max_allowed`, `helper_cpu_request`, ...), so it would
/// suggest a sibling for a key that is not a typo of anything.
const MAX_DISTANCE: usize = 2;

/// [`suggestion`]'s answers, by table and key.
type Guesses = std::collections::HashMap<(String, String), Option<&'static str>>;

/// The known key closest to `key` among `known`, when it is close enough to be a typo: at
/// most [`MAX_DISTANCE`] edits, and at most one edit per four characters (so that a short
/// key is not "corrected" into an unrelated short key). Ties go to the first in the data.
fn suggestion(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let key = key.to_lowercase();
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&key, k), *k))
        .filter(|(d, _)| *d <= MAX_DISTANCE && d * 4 <= key.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// What a key restricts, said of the runner when the key is missing: for the fix text of a
/// typo whose suggestion is such a key. `path` is relative to the `[[runners]]` entry.
fn unrestricted(path: &str) -> Option<String> {
    let name = path.rsplit('.').next().unwrap_or(path);
    let kube = path.starts_with("kubernetes.");
    let text = match name {
        "allowed_images" => "jobs may use any image".to_owned(),
        "allowed_services" => "jobs may start any service image".to_owned(),
        "allowed_pull_policies" => "jobs may choose any pull policy".to_owned(),
        "allowed_users" => "jobs may run as any user the image or job names".to_owned(),
        "allowed_groups" => "jobs may run with any group the job names".to_owned(),
        "allow_privilege_escalation" => {
            "job containers may gain privileges (Kubernetes allows escalation by default)"
                .to_owned()
        }
        "automount_service_account_token" => {
            "the ServiceAccount token is mounted into job pods (Kubernetes' default)".to_owned()
        }
        "cap_drop" | "drop" => "no capability is dropped beyond the runner's defaults".to_owned(),
        "namespace" if kube => {
            "jobs run in the runner's default namespace (with the chart: the release namespace, next to the manager)"
                .to_owned()
        }
        "service_account" if kube => {
            "job pods run as the namespace's `default` ServiceAccount".to_owned()
        }
        "pod_security_context" => "job pods get no pod security context".to_owned(),
        "run_as_non_root" | "run_as_user" | "run_as_group" | "read_only_root_filesystem"
        | "seccomp_profile" | "app_armor_profile" => {
            format!("that part of the security context (`{name}`) is not set")
        }
        n if n.ends_with("_container_security_context") => {
            format!("the {} containers get no security context", n.trim_end_matches("_container_security_context"))
        }
        n if kube && n.ends_with("_limit") => {
            format!("job containers get no `{n}`: they are unbounded unless a LimitRange applies")
        }
        "limit" if !kube => {
            "the runner takes as many jobs at once as the global `concurrent` allows".to_owned()
        }
        "debug_trace_disabled" => {
            "jobs may switch on CI_DEBUG_TRACE, which writes their variables into the job log"
                .to_owned()
        }
        _ => return None,
    };
    Some(text)
}

/// How a table is named in messages; `parent` is relative to the entry.
fn table_name(parent: &str) -> String {
    if parent.is_empty() {
        "[[runners]]".to_owned()
    } else {
        format!("[runners.{parent}]")
    }
}

impl UnknownRunnerKey {
    fn check_entry(self, entry: &RunnerEntry, guesses: &mut Guesses, out: &mut Vec<Finding>) {
        // Paths relative to the entry, parents before children.
        let settings = entry.settings.iter().map(|s| (s.key.clone(), s)).chain(
            entry
                .kubernetes
                .iter()
                .map(|s| (format!("kubernetes.{}", s.key), s)),
        );
        // A table the runner does not know is reported once: its keys are ignored with it.
        let mut unknown: Vec<String> = Vec::new();
        for (path, s) in settings {
            if path.contains("{{") || unknown.iter().any(|u| is_below(&path, u)) {
                continue;
            }
            let (parent, key) = path.rsplit_once('.').unwrap_or(("", &path));
            if !RunnerEntry::keys_checked(parent) {
                continue;
            }
            if RunnerEntry::canonical_key(parent, key).is_none() {
                let guess = *guesses
                    .entry((parent.to_owned(), key.to_owned()))
                    .or_insert_with(|| suggestion(key, &RunnerEntry::known_keys(parent)));
                out.push(self.unknown(entry, parent, key, guess, s));
                unknown.push(path.clone());
            } else if let Some(version) = RunnerEntry::key_removed(&path) {
                out.push(self.removed(entry, parent, key, version, s));
            }
        }
    }

    fn unknown(
        self,
        entry: &RunnerEntry,
        parent: &str,
        key: &str,
        guess: Option<&'static str>,
        s: &Setting,
    ) -> Finding {
        let o = &s.origin;
        let message = format!(
            "{} has key `{key}` in {} at {}:{}:{}, which the runner does not read{}",
            entry_name(entry),
            table_name(parent),
            o.file,
            o.line,
            o.column,
            guess.map_or_else(String::new, |g| format!(": did you mean `{g}`?"))
        );
        let remediation = if let Some(g) = guess {
            let meant = if parent.is_empty() {
                g.to_owned()
            } else {
                format!("{parent}.{g}")
            };
            match unrestricted(&meant) {
                Some(effect) => format!(
                    "rename `{key}` to `{g}`: as written the runner ignores it, so without `{g}` {effect}"
                ),
                None => format!("rename `{key}` to `{g}`: as written the runner ignores it"),
            }
        } else {
            format!(
                "remove `{key}` or rename it to a key the runner reads in {}",
                table_name(parent)
            )
        };
        Finding::new(self.meta(), message)
            .location(key, o.clone())
            .remediation(remediation)
    }

    fn removed(
        self,
        entry: &RunnerEntry,
        parent: &str,
        key: &str,
        version: &str,
        s: &Setting,
    ) -> Finding {
        let o = &s.origin;
        Finding::new(
            self.meta(),
            format!(
                "{} has key `{key}` in {} at {}:{}:{}, which runner {version} removed: it does nothing since",
                entry_name(entry),
                table_name(parent),
                o.file,
                o.line,
                o.column
            ),
        )
        .location(key, o.clone())
        .fact(format!("removed in runner {version}"))
        .remediation(format!(
            "remove `{key}` (runner {version} and later ignore it), and check that what it did is done another way"
        ))
    }
}

impl Rule for UnknownRunnerKey {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        // Configurations repeat their typos from entry to entry: each unknown key is
        // compared with the known ones once (100k entries, issue #13).
        let mut guesses = Guesses::new();
        for (_, entry) in cx.runner_entries() {
            self.check_entry(entry, &mut guesses, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{rule_by_id, run_with};

    const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: teams\n";

    fn run(rule: &dyn Rule, config: &str) -> Vec<Finding> {
        run_with(
            rule,
            NS,
            config,
            &[("teams", "ci-job", Some(false))],
            "18.9",
        )
    }

    #[test]
    fn suggestions_are_close_keys_only() {
        let known = RunnerEntry::known_keys("kubernetes");
        assert_eq!(suggestion("alowed_images", &known), Some("allowed_images"));
        assert_eq!(suggestion("privilegd", &known), Some("privileged"));
        assert_eq!(suggestion("Alowed_Images", &known), Some("allowed_images"));
        assert_eq!(suggestion("colour", &known), None);
        let top = RunnerEntry::known_keys("");
        assert_eq!(suggestion("tls_ca_file", &top), Some("tls-ca-file"));
        // Two edits in a two-letter key is not a typo.
        assert_eq!(suggestion("ix", &top), None);
    }

    #[test]
    fn typos_are_flagged_with_a_suggestion_and_what_they_were_meant_to_do() {
        let config = "[[runners]]\n  name = \"k8s\"\n  limt = 4\n  [runners.kubernetes]\n    alowed_images = [\"registry.example.com/*\"]\n    privilegd = false\n    [runners.kubernetes.pod_securty_context]\n      run_as_non_root = true\n";
        let out = run(&UnknownRunnerKey, config);
        let messages: Vec<&str> = out.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(out.len(), 4, "{messages:#?}");
        let images = out
            .iter()
            .find(|f| f.message.contains("`alowed_images`"))
            .unwrap();
        assert!(
            images
                .message
                .contains("in [runners.kubernetes] at config.toml:5:5"),
            "{}",
            images.message
        );
        assert!(images.message.ends_with("did you mean `allowed_images`?"));
        assert!(
            images
                .remediation
                .contains("without `allowed_images` jobs may use any image"),
            "{}",
            images.remediation
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("`privilegd`") && m.ends_with("did you mean `privileged`?"))
        );
        assert!(messages.iter().any(|m| m.contains("`pod_securty_context`")
            && m.ends_with("did you mean `pod_security_context`?")));
        assert!(messages.iter().any(|m| m.contains("`limt` in [[runners]]")));
        // The keys of an unknown table are not reported one by one.
        assert!(!messages.iter().any(|m| m.contains("run_as_non_root")));
    }

    #[test]
    fn known_keys_in_another_case_are_read_and_not_flagged() {
        let config = "[[Runners]]\n  Name = \"k8s\"\n  Executor = \"kubernetes\"\n  [Runners.Kubernetes]\n    Namespace = \"teams\"\n    Privileged = true\n    [Runners.Kubernetes.Pod_Security_Context]\n      Run_As_Non_Root = true\n    [Runners.Kubernetes.node_selector]\n      \"Kubernetes.io/OS\" = \"linux\"\n";
        assert!(run(&UnknownRunnerKey, config).is_empty());
        // The runner reads `Privileged = true` as `privileged`: RG111 must see it.
        let rg111 = run(rule_by_id("RG111"), config);
        assert!(
            rg111.iter().any(|f| f.message.contains("privileged")
                && f.locations.iter().any(|l| l.origin.line == 6)),
            "{rg111:#?}"
        );
    }

    #[test]
    fn removed_keys_say_since_when() {
        let config = "[[runners]]\n  pre_clone_script = \"echo\"\n  [runners.kubernetes]\n    terminationGracePeriodSeconds = 30\n";
        let out = run(&UnknownRunnerKey, config);
        assert_eq!(out.len(), 2, "{out:#?}");
        assert!(
            out.iter()
                .all(|f| f.message.contains("which runner 17.0 removed"))
        );
    }

    #[test]
    fn maps_other_sections_and_templates_are_not_checked() {
        let config = "[[runners]]\n  token = \"glrt-secret-value\"\n  tokn = \"glrt-other-secret-value\"\n  [runners.feature_flags]\n    FF_ANYTHING = true\n  [runners.docker]\n    anything = 1\n  [runners.cache.s3]\n    SecretKey = \"s3-secret-value\"\n  [runners.kubernetes]\n    \"{{ .Values.key }}\" = \"x\"\n    [runners.kubernetes.pod_labels]\n      whatever = \"x\"\n    [[runners.kubernetes.volumes.host_path]]\n      name = \"h\"\n      mount_pth = \"/x\"\n";
        let out = run(&UnknownRunnerKey, config);
        assert_eq!(out.len(), 2, "{out:#?}");
        assert!(out[0].message.contains("`tokn` in [[runners]]"));
        assert!(
            out[1]
                .message
                .contains("`mount_pth` in [runners.kubernetes.volumes.host_path]")
        );
        // Secret values never reach a finding or the entry's settings.
        let shown = format!("{out:?}");
        assert!(!shown.contains("secret-value"), "{shown}");
        let loaded = runnerguard_load::load_str("config.toml", config).unwrap();
        let entries = format!("{:?}", loaded.inventory.runner_configs);
        assert!(!entries.contains("secret-value"), "{entries}");
    }
}
