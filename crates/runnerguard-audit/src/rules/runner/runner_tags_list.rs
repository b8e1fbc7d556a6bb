//! RG109 `runner-tags-list`: `runners.tags` is a YAML list; the chart expects a comma-separated
//! string.

use runnerguard_model::SettingValue;

use crate::{Context, Finding, Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it flags
    /// Helm values whose `runners.tags` is a YAML list (`tags: ["k8s", "secure"]`), and a
    /// rendered manager Deployment whose `RUNNER_TAG_LIST` shows the result: a value in
    /// brackets such as `[k8s secure]`.
    ///
    /// ## Why it matters
    /// The chart copies `runners.tags` into the environment variable `RUNNER_TAG_LIST`, which
    /// `gitlab-runner register` splits at commas. Go's template engine prints a list as
    /// `[k8s secure]`, so the runner registers with one tag named `[k8s secure]` and picks up
    /// no job tagged `k8s` or `secure`: those jobs stay pending, or land on some other runner
    /// that matches their tags. (With an authentication token, `glrt-...`, the chart's tags
    /// are ignored altogether: tags are set on the runner in GitLab.)
    ///
    /// ## How to fix
    /// Write the tags as one comma-separated string, `runners.tags: "k8s,secure"`; better,
    /// create the runner in GitLab with its tags and use its authentication token.
    ///
    /// ## Example
    /// ```yaml
    /// runners:
    ///   tags: ["k8s", "secure"]   # flagged: registers the single tag "[k8s secure]"
    /// ```
    /// becomes
    /// ```yaml
    /// runners:
    ///   tags: "k8s,secure"
    /// ```
    pub(crate) struct RunnerTagsList {
        id: "RG109",
        name: "runner-tags-list",
        severity: Low,
        summary: "`runners.tags` is a YAML list; the chart expects a comma-separated string",
        remediation: "write `runners.tags: \"k8s,secure\"` (or set tags on the runner in GitLab)",
    }
}

/// How Go's `fmt` (and so a Helm template) prints a value: a list as `[a b]`, a string
/// without quotes.
fn go_text(value: &SettingValue) -> String {
    match value {
        SettingValue::String(s) | SettingValue::Other(s) => s.clone(),
        SettingValue::List(items) => {
            let inner: Vec<String> = items.iter().map(go_text).collect();
            format!("[{}]", inner.join(" "))
        }
        SettingValue::Table => "map[...]".to_owned(),
        other => other.to_string(),
    }
}

/// The tags a comma-separated `RUNNER_TAG_LIST` gives, as the runner splits it.
fn registered_tags(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| format!("`{t}`"))
        .collect()
}

impl Rule for RunnerTagsList {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for values in &cx.objects().helm_values {
            let Some(tags) = values.get("runners.tags") else {
                continue;
            };
            let SettingValue::List(items) = &tags.value else {
                continue;
            };
            // An empty list is false to the chart's `if`: no RUNNER_TAG_LIST at all.
            if items.is_empty() {
                continue;
            }
            let rendered = go_text(&tags.value);
            let wanted: Vec<String> = items.iter().map(go_text).collect();
            let tags_shown = registered_tags(&rendered).join(", ");
            let mut f = Finding::new(
                self.meta(),
                format!(
                    "`runners.tags` is a YAML list: the chart renders RUNNER_TAG_LIST as `{rendered}`, so the runner registers with the tag(s) {tags_shown} instead of {}",
                    and_list(&wanted),
                ),
            )
            .location("runners.tags", tags.origin.clone())
            .remediation(format!(
                "write `runners.tags: \"{}\"` (or set tags on the runner in GitLab)",
                wanted.join(",")
            ));
            let non_empty = |key: &str| {
                values
                    .get(key)
                    .is_some_and(|s| !matches!(&s.value, SettingValue::String(v) if v.is_empty()))
            };
            if non_empty("runnerToken") || non_empty("runners.secret") {
                f = f.fact(
                    "if the token in use is an authentication token (glrt-...), the chart's tags are ignored anyway: tags are then set on the runner in GitLab",
                );
            }
            out.push(f);
        }
        for w in &cx.objects().workloads {
            let Some(list) = w.env("RUNNER_TAG_LIST") else {
                continue;
            };
            let list = list.trim();
            let Some(inner) = list
                .strip_prefix('[')
                .and_then(|l| l.strip_suffix(']'))
                .filter(|l| !l.trim().is_empty())
            else {
                continue;
            };
            let wanted: Vec<&str> = inner.split_whitespace().collect();
            let tags_shown = registered_tags(list).join(", ");
            out.push(
                Finding::new(
                    self.meta(),
                    format!(
                        "{} `{}` sets RUNNER_TAG_LIST to `{list}`, a YAML list as the chart prints it: the runner registers with the tag(s) {tags_shown} instead of {}",
                        w.object.kind,
                        crate::qualified(&w.object.namespace, &w.object.name),
                        and_list(&wanted),
                    ),
                )
                .object(w.object.clone())
                .fact("`runners.tags` in the chart's values was a list; the chart expects a comma-separated string")
                .remediation(format!(
                    "write `runners.tags: \"{}\"` in the values (or set tags on the runner in GitLab)",
                    wanted.join(",")
                )),
            );
        }
    }
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` ``.
fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|t| format!("`{}`", t.as_ref())).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_print_as_go_does() {
        let v = SettingValue::List(vec![
            SettingValue::String("k8s".into()),
            SettingValue::String("secure".into()),
        ]);
        assert_eq!(go_text(&v), "[k8s secure]");
        assert_eq!(registered_tags("[k8s secure]"), ["`[k8s secure]`"]);
        assert_eq!(registered_tags("[a, b]"), ["`[a`", "`b]`"]);
        assert_eq!(registered_tags("a,b"), ["`a`", "`b`"]);
    }
}
