//! RG108 `registration-token-deprecated`: `runnerRegistrationToken` is used instead of an
//! authentication token.

use runnerguard_model::SettingValue;

use crate::{Context, Finding, Rule, RuleMeta, declare_rule, qualified};

declare_rule! {
    /// ## What it flags
    /// Helm values for the gitlab-runner chart that set `runnerRegistrationToken` to a
    /// non-empty value: the runner registers itself with a registration token instead of
    /// using the authentication token (`glrt-...`) of a runner created in GitLab. Also a
    /// Secret whose `runner-registration-token` key is not empty: the chart renders one from
    /// `runnerRegistrationToken` (`helm template` output), and a Secret named by
    /// `runners.secret` may carry one. Only whether the key is empty is read, never its
    /// value. The chart's Secret in the manager's namespace, read with the values it was
    /// rendered from, adds to the values' finding.
    ///
    /// ## Why it matters
    /// Registration tokens are the deprecated registration workflow: GitLab plans to remove
    /// them in GitLab 20.0, after which such a runner cannot register at all. They are also
    /// a standing credential: whoever holds one can register any number of runners of their
    /// own with the project or group, and those runners receive its jobs, with their source
    /// and CI/CD variables. Every start of the manager pod registers a new runner with it.
    /// In a values file the token also tends to end up in Git.
    ///
    /// ## How to fix
    /// Create the runner in GitLab (Settings > CI/CD > Runners, or the `POST /user/runners`
    /// API), put its authentication token in a Secret with the keys `runner-token` and
    /// `runner-registration-token: ""` (both must exist), name that Secret in
    /// `runners.secret`, and remove `runnerRegistrationToken` from the values. Tags, run
    /// untagged, protected and locked are then set on the runner in GitLab.
    ///
    /// ## Example
    /// ```yaml
    /// runnerRegistrationToken: "GR1348941..."   # flagged
    /// ```
    /// becomes
    /// ```yaml
    /// runners:
    ///   secret: gitlab-runner-token   # keys runner-token (glrt-...) and runner-registration-token ("")
    /// ```
    pub(crate) struct RegistrationTokenDeprecated {
        id: "RG108",
        name: "registration-token-deprecated",
        severity: Medium,
        summary: "`runnerRegistrationToken` is used instead of an authentication token",
        remediation: "create the runner in GitLab and put its authentication token (glrt-...) in a Secret named by `runners.secret`; remove `runnerRegistrationToken`",
    }
}

/// Whether a values setting holds a value. Credentials arrive redacted (`<redacted>`) when
/// non-empty; an empty string, `false` or `null` is "not set" to the chart's `if`.
fn is_set(value: &SettingValue) -> bool {
    match value {
        SettingValue::String(s) => !s.is_empty(),
        SettingValue::Bool(b) => *b,
        SettingValue::List(items) => !items.is_empty(),
        SettingValue::Other(s) => s != "null",
        SettingValue::Integer(_) | SettingValue::Float(_) | SettingValue::Table => true,
    }
}

impl Rule for RegistrationTokenDeprecated {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        // Only the first values finding and the Secrets in the manager's namespace depend on
        // the setup: the values and Secrets that hold no registration token are looked at
        // under the first setup only (a scan of all of them per setup was quadratic in
        // tenants, issue #9 C3).
        let all_values = &cx.objects().helm_values;
        let todo = cx.once_or_again("RG108 values", all_values.len(), |i| {
            all_values.get(i).is_some_and(|v| {
                v.get("runnerRegistrationToken")
                    .is_some_and(|t| is_set(&t.value))
            })
        });
        let mut from_values: Vec<Finding> = Vec::new();
        for values in todo.into_iter().filter_map(|i| all_values.get(i)) {
            let Some(token) = values.get("runnerRegistrationToken") else {
                continue;
            };
            if !is_set(&token.value) {
                continue;
            }
            // The value itself is never shown: it is a credential (and redacted at load).
            let mut f = Finding::new(
                self.meta(),
                "`runnerRegistrationToken` is set: the runner registers with a registration token, a workflow GitLab deprecated and plans to remove in GitLab 20.0",
            )
            .location("runnerRegistrationToken", token.origin.clone())
            .fact(
                "the manager pod runs `gitlab-runner register` with it each time it starts, registering a new runner",
            );
            let runner_token = values.get("runnerToken").filter(|s| is_set(&s.value));
            let secret = values
                .get("runners.secret")
                .and_then(|s| s.value.as_str())
                .filter(|s| !s.is_empty());
            if let Some(t) = runner_token {
                // The value is a token: the setting is named by key alone.
                f = f.setting(
                    "runnerToken",
                    None,
                    t.origin.clone(),
                    "is set too: keep the authentication token only, in a Secret",
                );
            }
            if let Some(name) = secret {
                f = f.fact(format!(
                    "`runners.secret` names Secret `{name}`: the manager reads its tokens from there; put the authentication token under `runner-token` and leave `runner-registration-token` empty"
                ));
            }
            from_values.push(f);
        }
        // Secrets holding a registration token: the chart renders one from
        // `runnerRegistrationToken` (`helm template` output), or a Secret named by
        // `runners.secret` carries it. Only whether the key is empty is known (issue #8).
        let secrets = &cx.objects().secrets;
        let todo = cx.once_or_again("RG108 secrets", secrets.len(), |i| {
            secrets
                .get(i)
                .is_some_and(|s| s.has_value(REGISTRATION_KEY))
        });
        for secret in todo.into_iter().filter_map(|i| secrets.get(i)) {
            if !secret.has_value(REGISTRATION_KEY) {
                continue;
            }
            let name = qualified(&secret.object.namespace, &secret.object.name);
            let step = format!(
                "Secret {name} ({}) holds a non-empty `{REGISTRATION_KEY}` (its value is not read)",
                secret.object.origin
            );
            // The chart's Secret of a release whose values are read too: one finding.
            if secret.object.namespace == cx.topology.manager_namespace
                && let Some(f) = from_values.first_mut()
            {
                *f = f.clone().object(secret.object.clone()).fact(step);
                continue;
            }
            let mut f = Finding::new(
                self.meta(),
                format!(
                    "Secret {name} holds a registration token (`{REGISTRATION_KEY}` is not empty; the chart renders it from `runnerRegistrationToken`): the runner registers with it, a workflow GitLab deprecated and plans to remove in GitLab 20.0"
                ),
            )
            .object(secret.object.clone())
            .fact(step)
            .fact(
                "the manager pod runs `gitlab-runner register` with it each time it starts, registering a new runner",
            )
            .remediation(format!(
                "create the runner in GitLab and put its authentication token (glrt-...) under `runner-token` in Secret {name}, with `{REGISTRATION_KEY}` empty; stop setting `runnerRegistrationToken`"
            ));
            if secret.has_value("runner-token") {
                f = f.fact(
                    "`runner-token` is set too: keep the authentication token only, and empty `runner-registration-token`",
                );
            }
            out.push(f);
        }
        out.extend(from_values);
    }
}

/// The Secret key the chart and the manager read the registration token from.
const REGISTRATION_KEY: &str = "runner-registration-token";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_false_are_not_set() {
        assert!(!is_set(&SettingValue::String(String::new())));
        assert!(!is_set(&SettingValue::Bool(false)));
        assert!(!is_set(&SettingValue::Other("null".into())));
        assert!(is_set(&SettingValue::Other("<redacted>".into())));
        assert!(is_set(&SettingValue::String("x".into())));
    }
}
