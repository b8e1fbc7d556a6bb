//! The `[audit]` section checked against the rule catalogue of the build that reads it.
//!
//! The catalogue is given, not imported: this crate stays below both `generate` and `audit`,
//! so neither depends on the other to read the same file.

use std::ops::Range;

use crate::check::use_one_of;
use crate::file::{Audit, Spanned, Texts};
use crate::{Checks, ConfigDiagnostic, Source, closest};

/// What the `[audit]` section is checked against: the rules and severities of this build.
pub struct Catalogue<'a, S> {
    /// Each rule's id and name (`("RG101", "jobs-in-manager-namespace")`).
    pub rules: &'a [(&'a str, &'a str)],
    /// Each severity's name and value, lowest first.
    pub severities: &'a [(&'a str, S)],
}

/// The `[audit]` section, checked: what the audit runs and fails on when no flag says
/// otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditSettings<S> {
    /// Rules to run: ids, names or id prefixes, as `--select` takes them (a final `*` of
    /// the file removed). Empty: every rule.
    pub select: Vec<String>,
    /// Rules to leave out, as `--ignore` takes them.
    pub ignore: Vec<String>,
    /// A severity by rule id, instead of the rule's default, in file order.
    pub severity: Vec<(String, S)>,
    /// The lowest severity that fails the audit, when the file sets it.
    pub fail_on: Option<S>,
}

/// No `[audit]` section: every rule, at its own severity, and no `fail-on` of the file's.
impl<S> Default for AuditSettings<S> {
    fn default() -> Self {
        Self {
            select: Vec::new(),
            ignore: Vec::new(),
            severity: Vec::new(),
            fail_on: None,
        }
    }
}

impl Audit {
    /// Checks the section against `catalogue`: every selector must name a rule, every
    /// `severity` key be a rule's id or name and every severity one of the catalogue's. Each
    /// problem is a diagnostic at its place, with the closest known name.
    pub fn resolve<S: Copy>(
        &self,
        source: &Source<'_>,
        catalogue: &Catalogue<'_, S>,
    ) -> Result<AuditSettings<S>, Vec<ConfigDiagnostic>> {
        let mut checks = Checks::new(source);
        let mut selectors = |list: &Texts, key: &str| {
            let mut out = Vec::new();
            for s in list.iter().flat_map(|l| &l.value) {
                let selector = s.value.strip_suffix('*').unwrap_or(&s.value);
                if catalogue.rules.iter().any(|r| selects(*r, selector)) {
                    out.push(selector.to_owned());
                } else {
                    unknown_rule(&mut checks, &s.span, key, &s.value, catalogue);
                }
            }
            out
        };
        let select = selectors(&self.select, "select");
        let ignore = selectors(&self.ignore, "ignore");
        let mut severity = Vec::new();
        for (rule, level) in self.severity.iter().flat_map(|s| &s.value.0) {
            let id = catalogue
                .rules
                .iter()
                .find(|(id, name)| id.eq_ignore_ascii_case(&rule.value) || *name == rule.value)
                .map(|(id, _)| *id);
            let Some(id) = id else {
                unknown_rule(&mut checks, &rule.span, "severity", &rule.value, catalogue);
                continue;
            };
            let what = format!("the severity of {id}");
            if let Some(level) = level_of(&mut checks, level, &what, catalogue) {
                severity.push((id.to_owned(), level));
            }
        }
        let fail_on = self
            .fail_on
            .as_ref()
            .and_then(|f| level_of(&mut checks, f, "`fail-on`", catalogue));
        checks.finish(AuditSettings {
            select,
            ignore,
            severity,
            fail_on,
        })
    }
}

/// Whether `selector` picks rule `(id, name)`, as the audit's `--select` does: an id prefix
/// (any case) or the name.
fn selects((id, name): (&str, &str), selector: &str) -> bool {
    !selector.is_empty() && id.starts_with(&selector.to_ascii_uppercase()) || name == selector
}

fn unknown_rule<S>(
    checks: &mut Checks<'_>,
    span: &Range<usize>,
    key: &str,
    value: &str,
    catalogue: &Catalogue<'_, S>,
) {
    let names: Vec<&str> = catalogue
        .rules
        .iter()
        .flat_map(|(id, name)| [*id, *name])
        .collect();
    let help = match closest(value, &names) {
        Some(k) => format!("did you mean `{k}`?"),
        None => "`runnerguard rules` lists the rules".to_owned(),
    };
    checks.error(
        span,
        format!("unknown rule `{value}` in `{key}`"),
        Some(help),
    );
}

fn level_of<S: Copy>(
    checks: &mut Checks<'_>,
    level: &Spanned<String>,
    what: &str,
    catalogue: &Catalogue<'_, S>,
) -> Option<S> {
    if let Some((_, s)) = catalogue.severities.iter().find(|(n, _)| *n == level.value) {
        return Some(*s);
    }
    let names: Vec<&str> = catalogue.severities.iter().map(|(n, _)| *n).collect();
    let help = match closest(&level.value, &names) {
        Some(k) => format!("did you mean `{k}`?"),
        None => use_one_of(&names),
    };
    checks.error(
        &level.span,
        format!("{what} cannot be `{}`", level.value),
        Some(help),
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read;

    const RULES: &[(&str, &str)] = &[
        ("RG101", "jobs-in-manager-namespace"),
        ("RG109", "no-resource-limits"),
        ("RB001", "cluster-admin-binding"),
    ];
    const LEVELS: &[(&str, u8)] = &[("info", 0), ("low", 1), ("high", 3)];

    fn resolve(text: &str) -> Result<AuditSettings<u8>, Vec<String>> {
        let source = Source::new("f", text);
        let file =
            read(&source).map_err(|e| e.iter().map(ToString::to_string).collect::<Vec<_>>())?;
        let catalogue = Catalogue {
            rules: RULES,
            severities: LEVELS,
        };
        file.audit
            .resolve(&source, &catalogue)
            .map_err(|e| e.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn a_section_is_resolved() {
        let got = resolve(
            "[audit]\nselect = [\"RG1*\", \"rb001\"]\nignore = [\"no-resource-limits\"]\nseverity = { rg101 = \"info\", cluster-admin-binding = \"low\" }\nfail-on = \"high\"\n",
        );
        assert_eq!(
            got,
            Ok(AuditSettings {
                select: vec!["RG1".to_owned(), "rb001".to_owned()],
                ignore: vec!["no-resource-limits".to_owned()],
                severity: vec![("RB001".to_owned(), 1), ("RG101".to_owned(), 0)],
                fail_on: Some(3),
            })
        );
        assert_eq!(
            resolve(""),
            Ok(AuditSettings {
                select: Vec::new(),
                ignore: Vec::new(),
                severity: Vec::new(),
                fail_on: None,
            })
        );
    }

    #[test]
    fn unknown_rules_and_levels_are_placed() {
        let got = resolve(
            "[audit]\nselect = [\"RG199\", \"XX\"]\nseverity = { RG108 = \"info\", RG101 = \"hihg\" }\nfail-on = \"urgent\"\nfail_on = \"high\"\n",
        );
        assert_eq!(
            got,
            Err(vec![
                "f:5:1: unknown key `fail_on` in [audit]\n  help: did you mean `fail-on`?"
                    .to_owned()
            ])
        );
        let got = resolve(
            "[audit]\nselect = [\"RG199\", \"XX\"]\nseverity = { RG108 = \"info\", RG101 = \"hihg\" }\nfail-on = \"urgent\"\n",
        );
        assert_eq!(
            got,
            Err(vec![
                "f:2:11: unknown rule `RG199` in `select`\n  help: did you mean `RG109`?".to_owned(),
                "f:2:20: unknown rule `XX` in `select`\n  help: `runnerguard rules` lists the rules".to_owned(),
                "f:3:14: unknown rule `RG108` in `severity`\n  help: did you mean `RG101`?".to_owned(),
                "f:3:38: the severity of RG101 cannot be `hihg`\n  help: did you mean `high`?".to_owned(),
                "f:4:11: `fail-on` cannot be `urgent`\n  help: use one of: \"info\", \"low\", \"high\"".to_owned(),
            ])
        );
    }
}
