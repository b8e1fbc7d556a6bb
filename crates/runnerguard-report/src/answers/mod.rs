//! The RBAC answers (`can-i`, `who-can`, `paths`) for people and as JSON. The CLI computes an
//! answer, puts it in one of these types and picks the format; the wording (`human.rs`) and
//! the JSON documents ([`crate::schema::v1`]) are here.
//!
//! The JSON documents are written with their keys sorted (through a `serde_json::Value`, as
//! they always were): they are a few kilobytes, unlike an audit's, which streams.

mod human;

use std::io::{self, Write};

use runnerguard_audit::GrantPath;
use runnerguard_engine::{
    Action, Decision, EffectiveDecision, Grant, Identity, NearMiss, Policy, Reached, ResolveError,
    RulesFor, SubjectGrant, UserInfo,
};
use runnerguard_model::{ObjectRef, Subject};
use serde::Serialize;

use crate::schema::v1;

/// What the API server says of `system:masters` in `who-can`.
const SYSTEM_MASTERS_NOTE: &str =
    "the API server lets system:masters do anything, whatever RBAC says";

/// `can-i`: the authorizer's decision, with the near misses when it says no.
#[derive(Debug)]
pub struct CanI<'a> {
    /// The policy the decision was made against.
    pub policy: &'a Policy,
    /// The identity asked about.
    pub user: &'a UserInfo,
    /// The request.
    pub action: &'a Action,
    /// The decision.
    pub decision: &'a Decision,
    /// The closest rules, when not allowed and they were asked for.
    pub near_misses: &'a [NearMiss],
}

/// `can-i --effective` and `paths --to`: whether an identity the subject can become may.
#[derive(Debug)]
pub struct Effective<'a> {
    /// The policy.
    pub policy: &'a Policy,
    /// The subject asked about.
    pub user: &'a UserInfo,
    /// The request.
    pub action: &'a Action,
    /// The answer.
    pub decision: &'a EffectiveDecision,
}

/// `can-i --list`: every rule the identity holds in a namespace.
#[derive(Debug)]
pub struct RuleList<'a> {
    /// The policy.
    pub policy: &'a Policy,
    /// The identity asked about.
    pub user: &'a UserInfo,
    /// The namespace.
    pub namespace: &'a str,
    /// The rule resolver's answer.
    pub rules: &'a RulesFor,
}

/// `who-can`: the subject locator's answer.
#[derive(Debug)]
pub struct WhoCan<'a> {
    /// The policy.
    pub policy: &'a Policy,
    /// The request.
    pub action: &'a Action,
    /// The subjects, in the locator's order.
    pub subjects: &'a [SubjectGrant],
    /// Applicable bindings whose role does not exist.
    pub errors: &'a [ResolveError],
}

/// `who-can --effective`: every subject that may, itself or through an identity it can
/// become, with that identity and the grant.
#[derive(Debug)]
pub struct WhoCanEffective<'a> {
    /// The policy.
    pub policy: &'a Policy,
    /// The request.
    pub action: &'a Action,
    /// Each subject with the identity that may and its grant (`None`: it holds everything).
    pub subjects: &'a [(Subject, Reached, Option<Grant>)],
}

/// `paths --as`: the identities a subject can become.
#[derive(Debug)]
pub struct Paths<'a> {
    /// The policy.
    pub policy: &'a Policy,
    /// The subject.
    pub user: &'a UserInfo,
    /// `-n`, when given.
    pub namespace: Option<&'a str>,
    /// The identities shown, breadth-first.
    pub reached: &'a [&'a Reached],
}

/// `paths --all-service-accounts`: each ServiceAccount (namespace, name) and the identities
/// it can become.
#[derive(Debug)]
pub struct AllServiceAccounts<'a> {
    /// The ServiceAccounts.
    pub accounts: &'a [(String, String, Vec<Identity>)],
}

/// A grant resolved against the policy, with the subject that matched: what a
/// [`v1::Grant`] borrows.
struct Resolved<'p> {
    path: GrantPath,
    subject: Option<&'p Subject>,
}

impl<'p> Resolved<'p> {
    fn new(policy: &'p Policy, grant: &Grant) -> Self {
        Self {
            path: GrantPath::new(policy, grant),
            subject: policy
                .binding(grant.binding)
                .subjects
                .get(grant.subject_index),
        }
    }

    fn view(&self) -> v1::Grant<'_> {
        v1::Grant::with_subject(&self.path, self.subject)
    }
}

/// An identity reached with each step's grants resolved.
pub(crate) struct ResolvedReached<'p> {
    reached: &'p Reached,
    steps: Vec<Vec<Resolved<'p>>>,
}

impl<'p> ResolvedReached<'p> {
    pub(crate) fn new(policy: &'p Policy, reached: &'p Reached) -> Self {
        Self {
            reached,
            steps: reached
                .path
                .iter()
                .map(|s| {
                    s.permissions
                        .iter()
                        .map(|p| Resolved::new(policy, &p.grant))
                        .collect()
                })
                .collect(),
        }
    }

    pub(crate) fn view(&self) -> v1::Reached<'_> {
        let r = self.reached;
        v1::Reached {
            identity: &r.identity,
            description: r.identity.to_string(),
            path: r
                .path
                .iter()
                .zip(&self.steps)
                .map(|(step, grants)| v1::Step {
                    primitive: step.primitive,
                    description: step.primitive.describe(),
                    permissions: step
                        .permissions
                        .iter()
                        .zip(grants)
                        .map(|(p, g)| v1::Permission {
                            request: (&p.action).into(),
                            grant: g.view(),
                        })
                        .collect(),
                    to: &step.to,
                    note: step.note.as_deref(),
                })
                .collect(),
        }
    }
}

/// The bindings of `errors`, for [`v1::BindingError`]s to borrow.
fn error_bindings(policy: &Policy, errors: &[ResolveError]) -> Vec<ObjectRef> {
    errors
        .iter()
        .map(|e| policy.binding(e.binding).object_ref())
        .collect()
}

fn error_views<'a>(
    bindings: &'a [ObjectRef],
    errors: &'a [ResolveError],
) -> Vec<v1::BindingError<'a>> {
    bindings
        .iter()
        .zip(errors)
        .map(|(b, e)| v1::BindingError {
            binding: b.into(),
            message: &e.message,
        })
        .collect()
}

/// Writes `doc` with its keys sorted, pretty or on one line, and a newline.
pub(crate) fn write_sorted(
    w: &mut dyn Write,
    doc: &impl Serialize,
    pretty: bool,
) -> io::Result<()> {
    let v = serde_json::to_value(doc).map_err(io::Error::from)?;
    if pretty {
        serde_json::to_writer_pretty(&mut *w, &v)?;
    } else {
        serde_json::to_writer(&mut *w, &v)?;
    }
    writeln!(w)
}

impl CanI<'_> {
    /// The v1 `can-i` document.
    pub fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        let grants: Vec<_> = self
            .decision
            .grants
            .iter()
            .map(|g| Resolved::new(self.policy, g))
            .collect();
        let misses: Vec<_> = self
            .near_misses
            .iter()
            .map(|m| Resolved::new(self.policy, &m.grant))
            .collect();
        let bindings = error_bindings(self.policy, &self.decision.errors);
        let doc = v1::CanI {
            version: v1::Version,
            allowed: self.decision.allowed,
            user: self.user.into(),
            request: self.action.into(),
            grants: grants.iter().map(Resolved::view).collect(),
            near_misses: misses
                .iter()
                .zip(self.near_misses)
                .map(|(g, m)| v1::NearMiss {
                    grant: g.view(),
                    mismatches: &m.mismatches,
                })
                .collect(),
            errors: error_views(&bindings, &self.decision.errors),
        };
        write_sorted(w, &doc, true)
    }
}

impl Effective<'_> {
    fn parts(&self) -> (Option<ResolvedReached<'_>>, Option<Resolved<'_>>) {
        (
            self.decision
                .via
                .as_ref()
                .map(|r| ResolvedReached::new(self.policy, r)),
            self.decision
                .grant
                .as_ref()
                .map(|g| Resolved::new(self.policy, g)),
        )
    }

    /// The v1 `can-i --effective` document.
    pub fn can_i_json(&self, w: &mut dyn Write) -> io::Result<()> {
        let (via, grant) = self.parts();
        let doc = v1::CanIEffective {
            version: v1::Version,
            effective: v1::EffectiveMark,
            allowed: self.decision.allowed,
            user: self.user.into(),
            request: self.action.into(),
            via: via.as_ref().map(ResolvedReached::view),
            grant: grant.as_ref().map(Resolved::view),
        };
        write_sorted(w, &doc, true)
    }

    /// The v1 `paths --to` document.
    pub fn paths_json(&self, w: &mut dyn Write) -> io::Result<()> {
        let (via, grant) = self.parts();
        let doc = v1::PathsTo {
            version: v1::Version,
            user: self.user.into(),
            request: self.action.into(),
            allowed: self.decision.allowed,
            via: via.as_ref().map(ResolvedReached::view),
            grant: grant.as_ref().map(Resolved::view),
        };
        write_sorted(w, &doc, true)
    }
}

impl RuleList<'_> {
    /// The v1 `can-i --list` document.
    pub fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        let rules: Vec<_> = self
            .rules
            .rules
            .iter()
            .map(|e| Resolved::new(self.policy, &e.grant))
            .collect();
        let bindings = error_bindings(self.policy, &self.rules.errors);
        let doc = v1::CanIList {
            version: v1::Version,
            user: self.user.into(),
            namespace: self.namespace,
            rules: rules.iter().map(Resolved::view).collect(),
            errors: error_views(&bindings, &self.rules.errors),
        };
        write_sorted(w, &doc, true)
    }
}

impl WhoCan<'_> {
    /// The v1 `who-can` document: the locator's list in its order, not deduplicated.
    pub fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        let grants: Vec<_> = self
            .subjects
            .iter()
            .map(|s| s.grant.as_ref().map(|g| Resolved::new(self.policy, g)))
            .collect();
        let bindings = error_bindings(self.policy, self.errors);
        let doc = v1::WhoCan {
            version: v1::Version,
            request: self.action.into(),
            subjects: self
                .subjects
                .iter()
                .zip(&grants)
                .map(|(s, g)| v1::WhoCanSubject {
                    subject: (&s.subject).into(),
                    user: s.grant.as_ref().and_then(|g| {
                        s.subject
                            .service_account_user(&self.policy.binding(g.binding).namespace)
                    }),
                    grant: g.as_ref().map(Resolved::view),
                    note: s.grant.is_none().then_some(SYSTEM_MASTERS_NOTE),
                })
                .collect(),
            errors: error_views(&bindings, self.errors),
        };
        write_sorted(w, &doc, true)
    }
}

impl WhoCanEffective<'_> {
    /// The v1 `who-can --effective` document.
    pub fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        let resolved: Vec<_> = self
            .subjects
            .iter()
            .map(|(_, via, grant)| {
                (
                    ResolvedReached::new(self.policy, via),
                    grant.as_ref().map(|g| Resolved::new(self.policy, g)),
                )
            })
            .collect();
        let doc = v1::WhoCanEffective {
            version: v1::Version,
            effective: v1::EffectiveMark,
            request: self.action.into(),
            subjects: self
                .subjects
                .iter()
                .zip(&resolved)
                .map(|((s, _, _), (via, grant))| v1::WhoCanEffectiveSubject {
                    subject: s.into(),
                    via: via.view(),
                    grant: grant.as_ref().map(Resolved::view),
                })
                .collect(),
        };
        write_sorted(w, &doc, true)
    }
}

impl Paths<'_> {
    /// The v1 `paths` document.
    pub fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        let reached: Vec<_> = self
            .reached
            .iter()
            .map(|r| ResolvedReached::new(self.policy, r))
            .collect();
        let doc = v1::Paths {
            version: v1::Version,
            user: self.user.into(),
            namespace: self.namespace,
            reached: reached.iter().map(ResolvedReached::view).collect(),
        };
        write_sorted(w, &doc, true)
    }
}

impl AllServiceAccounts<'_> {
    /// The v1 `paths --all-service-accounts` document, on one line (it lists every
    /// ServiceAccount of the cluster).
    ///
    /// What `write_sorted` writes of the whole document, written an account at a time: one
    /// `Value` of 30,000 accounts took a tenth of a second to build and free (issue #13).
    pub fn json(&self, w: &mut dyn Write) -> io::Result<()> {
        const EMPTY: &str = "\"serviceAccounts\":[]";
        let empty = v1::AllServiceAccounts {
            version: v1::Version,
            service_accounts: Vec::new(),
        };
        let head = serde_json::to_string(&serde_json::to_value(&empty)?)?;
        let at = head
            .find(EMPTY)
            .map(|i| i + EMPTY.len() - 1)
            .ok_or_else(|| io::Error::other("the document has no `serviceAccounts` list"))?;
        let mut out = io::BufWriter::with_capacity(256 * 1024, w);
        out.write_all(&head.as_bytes()[..at])?;
        for (i, (namespace, name, reached)) in self.accounts.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            let account = v1::ServiceAccountReach {
                namespace,
                name,
                reached,
            };
            serde_json::to_writer(&mut out, &serde_json::to_value(&account)?)?;
        }
        out.write_all(&head.as_bytes()[at..])?;
        writeln!(out)?;
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written an account at a time, the document is byte for byte what writing it whole
    /// with sorted keys gives, with no account, one, and several.
    #[test]
    fn all_service_accounts_are_written_as_one_sorted_document() {
        let sa = |namespace: &str, name: &str| Identity::ServiceAccount {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        };
        let all = [
            (
                "team-a".to_owned(),
                "deployer".to_owned(),
                vec![
                    sa("team-a", "default"),
                    Identity::Group {
                        name: "system:masters".to_owned(),
                    },
                    Identity::ClusterAdmin,
                ],
            ),
            ("team-b".to_owned(), "default".to_owned(), Vec::new()),
            (
                "\"odd\"".to_owned(),
                "é\n".to_owned(),
                vec![Identity::AnyServiceAccount],
            ),
        ];
        for n in [0, 1, all.len()] {
            let accounts = &all[..n];
            let mut written = Vec::new();
            AllServiceAccounts { accounts }.json(&mut written).unwrap();
            let whole = v1::AllServiceAccounts {
                version: v1::Version,
                service_accounts: accounts
                    .iter()
                    .map(|(namespace, name, reached)| v1::ServiceAccountReach {
                        namespace,
                        name,
                        reached,
                    })
                    .collect(),
            };
            let mut expected = Vec::new();
            write_sorted(&mut expected, &whole, false).unwrap();
            assert_eq!(
                String::from_utf8(written).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }
}
