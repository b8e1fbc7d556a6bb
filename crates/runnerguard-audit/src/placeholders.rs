//! Names that are placeholders for a later tool to fill in, not names.
//!
//! Manifests in git often hold `{{ .Release.Namespace }}` (a Helm template not rendered),
//! `${NAMESPACE}` (Flux's post-build substitution, envsubst), `$(NAMESPACE)` or
//! `###ZARF_VAR_NAMESPACE###` (Zarf). No cluster has an object called that: the tool that
//! deploys the file substitutes the value first. The audit reads such names as written, so
//! every finding about them is about the placeholder; the report says so instead of printing
//! `{{.Release.Namespace}} has no LimitRange` without a word.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use runnerguard_engine::Policy;
use runnerguard_model::Origin;

use crate::Topology;

/// What kind of placeholder `name` is, if it is one.
pub fn placeholder_kind(name: &str) -> Option<&'static str> {
    // Every kind below has a `{`, `#` or `$`; most names have none (an audit of 10k
    // namespaces asks about a million names).
    if !name.bytes().any(|b| matches!(b, b'{' | b'#' | b'$')) {
        return None;
    }
    if name.contains("{{") && name.contains("}}") {
        Some("a Helm/Go template expression")
    } else if name.contains("###ZARF_") {
        Some("a Zarf variable")
    } else if name.contains("${") && name.contains('}') {
        Some("a variable for envsubst or Flux post-build substitution")
    } else if name.contains("$(") && name.contains(')') {
        Some("a `$(VAR)` reference")
    } else if name.starts_with('$')
        && name.len() > 1
        && name[1..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        Some("a shell variable")
    } else {
        None
    }
}

/// One note per distinct placeholder found in object names and namespaces, subjects, role
/// references and the topologies, naming where it is used (at most three places each).
pub fn placeholder_notes(policy: &Policy, topologies: &[Topology]) -> Vec<String> {
    let objects = policy.objects();
    let mut uses: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    // The place is described only for a placeholder: most names are not one.
    let add = |uses: &mut BTreeMap<_, Vec<String>>, name, place: &dyn Fn() -> String| {
        if placeholder_kind(name).is_some() {
            uses.entry(name).or_default().push(place());
        }
    };
    let at = |what: &str, o: &Origin| format!("{what} ({o})");
    for t in topologies {
        add(&mut uses, &t.manager_namespace, &|| {
            "the manager's namespace".to_owned()
        });
        add(&mut uses, &t.manager_service_account, &|| {
            "the manager's ServiceAccount".to_owned()
        });
        for j in &t.jobs {
            add(&mut uses, &j.namespace, &|| "a job namespace".to_owned());
            add(&mut uses, &j.service_account, &|| {
                "the job ServiceAccount".to_owned()
            });
        }
    }
    for r in policy.roles() {
        let what = || at(r.kind.as_str(), &r.origin);
        add(&mut uses, &r.namespace, &|| {
            format!("namespace of {}", what())
        });
        add(&mut uses, &r.name, &|| format!("name of {}", what()));
    }
    for b in policy.bindings() {
        let what = || at(b.kind.as_str(), &b.origin);
        add(&mut uses, &b.namespace, &|| {
            format!("namespace of {}", what())
        });
        add(&mut uses, &b.name, &|| format!("name of {}", what()));
        add(&mut uses, &b.role_ref.name, &|| {
            format!("role of {}", what())
        });
        for s in &b.subjects {
            add(&mut uses, &s.name, &|| format!("subject of {}", what()));
            add(&mut uses, &s.namespace, &|| {
                format!("subject namespace of {}", what())
            });
        }
    }
    for s in &objects.service_accounts {
        let what = || at("ServiceAccount", &s.origin);
        add(&mut uses, &s.namespace, &|| {
            format!("namespace of {}", what())
        });
        add(&mut uses, &s.name, &|| format!("name of {}", what()));
    }
    for n in &objects.namespaces {
        add(&mut uses, &n.name, &|| at("Namespace", &n.origin));
    }
    for w in &objects.workloads {
        let what = || at(&w.object.kind, &w.object.origin);
        add(&mut uses, &w.object.namespace, &|| {
            format!("namespace of {}", what())
        });
        add(&mut uses, &w.object.name, &|| format!("name of {}", what()));
        add(&mut uses, &w.service_account, &|| {
            format!("ServiceAccount of {}", what())
        });
    }
    uses.into_iter()
        .map(|(name, places)| {
            let kind = placeholder_kind(name).unwrap_or_default();
            let mut note = format!(
                "`{name}` is {kind}, not a name; read as written, as {}",
                places[..places.len().min(3)].join(", ")
            );
            if places.len() > 3 {
                let _ = write!(note, " and {} more", places.len() - 3);
            }
            note.push_str(
                ": findings about it are about the placeholder; audit the rendered or substituted manifests for an exact answer",
            );
            note
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised() {
        for p in [
            "{{ .Release.Namespace }}",
            "{{.Values.ns}}-jobs",
            "${CI_NAMESPACE}",
            "ci-${ENV}",
            "$(NAMESPACE)",
            "$NAMESPACE",
            "###ZARF_VAR_RUNNER_NAMESPACE###",
        ] {
            assert!(placeholder_kind(p).is_some(), "{p}");
        }
        for name in [
            "gitlab-runner",
            "ci-jobs",
            "system:serviceaccounts",
            "$",
            "a{b}",
        ] {
            assert_eq!(placeholder_kind(name), None, "{name}");
        }
    }
}
