//! The subject locator: `AllowedSubjects` of
//! `plugin/pkg/auth/authorizer/rbac/subject_locator.go` (who may perform one request).

use runnerguard_model::Subject;
use serde::Serialize;

use super::{Grant, HashMap, Policy, ResolveError, RoleId};
use crate::{Action, rule_allows};

/// The group whose members the API server never asks RBAC about (`user.SystemPrivilegedGroup`):
/// the subject locator always lists it first.
const SYSTEM_MASTERS: &str = "system:masters";

/// One subject allowed a request, and the binding that allows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubjectGrant {
    /// The subject as written in the binding (a ServiceAccount's empty namespace is kept).
    pub subject: Subject,
    /// The binding and the first allowing rule of its role; `None` for `system:masters`,
    /// which needs no binding.
    pub grant: Option<Grant>,
}

impl Policy {
    /// Every subject named by some binding, each once, sorted.
    pub fn subjects(&self) -> Vec<Subject> {
        let mut out: Vec<Subject> = self
            .bindings
            .iter()
            .flat_map(|b| {
                b.subjects.iter().map(move |s| {
                    let mut s = s.clone();
                    if s.kind == "ServiceAccount" && s.namespace.is_empty() {
                        s.namespace.clone_from(&b.namespace);
                    }
                    s.api_group.clear();
                    s
                })
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// `AllowedSubjects`: `system:masters`, then the subjects of every applicable binding whose
    /// role allows `action`, in visiting order and not deduplicated, as upstream returns them.
    /// Also returns the bindings whose roles are missing.
    pub fn allowed_subjects(&self, action: &Action) -> (Vec<SubjectGrant>, Vec<ResolveError>) {
        let mut subjects = vec![SubjectGrant {
            subject: Subject {
                kind: "Group".to_owned(),
                api_group: "rbac.authorization.k8s.io".to_owned(),
                name: SYSTEM_MASTERS.to_owned(),
                namespace: String::new(),
            },
            grant: None,
        }];
        let mut errors = Vec::new();
        self.subjects_allowed_by(
            self.cluster_bindings
                .iter()
                .chain(self.namespace_bindings_of(action)),
            action,
            &mut subjects,
            &mut errors,
        );
        (subjects, errors)
    }

    /// The part of [`Policy::allowed_subjects`] that the RoleBindings of `action`'s namespace
    /// give, in the same order: with the answer for the same request without a namespace
    /// (`system:masters` and the ClusterRoleBindings, which a rule's match does not make
    /// depend on the namespace) before it, that is `allowed_subjects`' answer. For asking
    /// about many namespaces without going through every ClusterRoleBinding each time.
    pub fn allowed_subjects_by_role_bindings(
        &self,
        action: &Action,
    ) -> (Vec<SubjectGrant>, Vec<ResolveError>) {
        let (mut subjects, mut errors) = (Vec::new(), Vec::new());
        self.subjects_allowed_by(
            self.namespace_bindings_of(action).iter(),
            action,
            &mut subjects,
            &mut errors,
        );
        (subjects, errors)
    }

    /// The RoleBindings of `action`'s namespace (none without one).
    fn namespace_bindings_of(&self, action: &Action) -> &[super::BindingId] {
        if action.namespace.is_empty() {
            &[]
        } else {
            self.namespace_bindings
                .get(&action.namespace)
                .map_or(&[][..], Vec::as_slice)
        }
    }

    /// Adds the subjects of each of `bindings` whose role allows `action` to `subjects`, and
    /// the bindings whose roles are missing to `errors`.
    fn subjects_allowed_by<'b>(
        &self,
        bindings: impl Iterator<Item = &'b super::BindingId>,
        action: &Action,
        subjects: &mut Vec<SubjectGrant>,
        errors: &mut Vec<ResolveError>,
    ) {
        // Many bindings share a role: decide each role once.
        let mut allowing: HashMap<RoleId, Option<usize>> = HashMap::default();
        for &binding in bindings {
            let role = match self.binding_role(binding) {
                Ok(role) => role,
                Err(message) => {
                    errors.push(ResolveError {
                        binding,
                        message: message.to_owned(),
                    });
                    continue;
                }
            };
            let rule_index = *allowing.entry(role).or_insert_with(|| {
                self.role(role)
                    .rules
                    .iter()
                    .position(|rule| rule_allows(rule, action))
            });
            let Some(rule_index) = rule_index else {
                continue;
            };
            let b = self.binding(binding);
            subjects.extend(
                b.subjects
                    .iter()
                    .enumerate()
                    .map(|(subject_index, s)| SubjectGrant {
                        subject: s.clone(),
                        grant: Some(Grant {
                            binding,
                            subject_index,
                            role,
                            rule_index,
                        }),
                    }),
            );
        }
    }
}
