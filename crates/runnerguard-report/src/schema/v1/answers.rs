//! The RBAC answers: `can-i`, `who-can` and `paths` documents. Built by [`crate::answers`],
//! which resolves the engine's ids into the objects these borrow.

use schemars::JsonSchema;
use serde::Serialize;

use super::{
    BindingError, EffectiveMark, Grant, Identity, Mismatch, Permission, Primitive, Request,
    Subject, User, Version,
};

/// `runnerguard can-i -o json`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanI<'a> {
    /// The schema version, 1.
    pub version: Version,
    /// Whether RBAC allows the request.
    pub allowed: bool,
    /// The identity asked about.
    pub user: User<'a>,
    /// The request.
    pub request: Request<'a>,
    /// Every rule that allows the request, in the order Kubernetes visits bindings.
    pub grants: Vec<Grant<'a>>,
    /// When not allowed: the rules with the fewest differences from the request (at most 5).
    pub near_misses: Vec<NearMiss<'a>>,
    /// Applicable bindings whose role does not exist.
    pub errors: Vec<BindingError<'a>>,
}

/// A rule that would allow the request but for `mismatches`.
#[derive(Serialize, JsonSchema)]
pub struct NearMiss<'a> {
    /// The rule and where it comes from.
    #[serde(flatten)]
    pub grant: Grant<'a>,
    /// What differs.
    pub mismatches: &'a [Mismatch],
}

/// `runnerguard can-i --list -o json`.
#[derive(Serialize, JsonSchema)]
pub struct CanIList<'a> {
    /// The schema version, 1.
    pub version: Version,
    /// The identity asked about.
    pub user: User<'a>,
    /// The namespace listed.
    pub namespace: &'a str,
    /// Every rule of every binding that applies, in visiting order, neither broken down nor
    /// compacted.
    pub rules: Vec<Grant<'a>>,
    /// Applicable bindings whose role does not exist.
    pub errors: Vec<BindingError<'a>>,
}

/// `runnerguard can-i --effective -o json`.
#[derive(Serialize, JsonSchema)]
pub struct CanIEffective<'a> {
    /// The schema version, 1.
    pub version: Version,
    /// `true`.
    pub effective: EffectiveMark,
    /// Whether the identity, or one it can become, may.
    pub allowed: bool,
    /// The identity asked about.
    pub user: User<'a>,
    /// The request.
    pub request: Request<'a>,
    /// The identity that may, with the path to it; `null` when none.
    pub via: Option<Reached<'a>>,
    /// The grant allowing it to that identity; `null` when it holds every permission in
    /// scope.
    pub grant: Option<Grant<'a>>,
}

/// `runnerguard paths --to PERMISSION -o json`: the fields of an effective `can-i`.
#[derive(Serialize, JsonSchema)]
pub struct PathsTo<'a> {
    /// The schema version, 1.
    pub version: Version,
    /// The subject asked about.
    pub user: User<'a>,
    /// The permission.
    pub request: Request<'a>,
    /// Whether the subject, or an identity it can become, has it.
    pub allowed: bool,
    /// The identity that has it, with the path; `null` when none.
    pub via: Option<Reached<'a>>,
    /// The grant; `null` when the identity holds every permission in scope.
    pub grant: Option<Grant<'a>>,
}

/// `runnerguard who-can -o json`.
#[derive(Serialize, JsonSchema)]
pub struct WhoCan<'a> {
    /// The schema version, 1.
    pub version: Version,
    /// The request.
    pub request: Request<'a>,
    /// The API server's subject locator's list, in its order, not deduplicated.
    pub subjects: Vec<WhoCanSubject<'a>>,
    /// Applicable bindings whose role does not exist.
    pub errors: Vec<BindingError<'a>>,
}

/// A subject allowed the request.
#[derive(Serialize, JsonSchema)]
pub struct WhoCanSubject<'a> {
    /// The subject as written in the binding.
    pub subject: Subject<'a>,
    /// The user name a ServiceAccount subject stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub user: Option<String>,
    /// The first allowing rule of the binding's role; `null` for `system:masters`.
    pub grant: Option<Grant<'a>>,
    /// Why no grant is needed (`system:masters`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub note: Option<&'a str>,
}

/// `runnerguard who-can --effective -o json`.
#[derive(Serialize, JsonSchema)]
pub struct WhoCanEffective<'a> {
    /// The schema version, 1.
    pub version: Version,
    /// `true`.
    pub effective: EffectiveMark,
    /// The request.
    pub request: Request<'a>,
    /// Every subject that may, itself or through an identity it can become.
    pub subjects: Vec<WhoCanEffectiveSubject<'a>>,
}

/// A subject that may, and how.
#[derive(Serialize, JsonSchema)]
pub struct WhoCanEffectiveSubject<'a> {
    /// The subject, its ServiceAccount namespace resolved.
    pub subject: Subject<'a>,
    /// The identity that may, with the path to it.
    pub via: Reached<'a>,
    /// The grant; `null` when the identity holds every permission in scope.
    pub grant: Option<Grant<'a>>,
}

/// `runnerguard paths --as SUBJECT -o json`.
#[derive(Serialize, JsonSchema)]
pub struct Paths<'a> {
    /// The schema version, 1.
    pub version: Version,
    /// The subject asked about.
    pub user: User<'a>,
    /// `-n`, `null` when not given.
    pub namespace: Option<&'a str>,
    /// Every identity reachable (the subject itself left out), breadth-first.
    pub reached: Vec<Reached<'a>>,
}

/// `runnerguard paths --all-service-accounts -o json`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllServiceAccounts<'a> {
    /// The schema version, 1.
    pub version: Version,
    /// Every ServiceAccount, with the identities it can become.
    pub service_accounts: Vec<ServiceAccountReach<'a>>,
}

/// A ServiceAccount and the identities it can become (identities only, no paths).
#[derive(Serialize, JsonSchema)]
pub struct ServiceAccountReach<'a> {
    /// Its namespace.
    pub namespace: &'a str,
    /// Its name.
    pub name: &'a str,
    /// The identities it can become.
    pub reached: &'a [Identity],
}

/// An identity reached, and the shortest path to it.
#[derive(Serialize, JsonSchema)]
pub struct Reached<'a> {
    /// The identity.
    pub identity: &'a Identity,
    /// The identity in words.
    pub description: String,
    /// The steps from the subject (empty for the subject itself).
    pub path: Vec<Step<'a>>,
}

/// One escalation step.
#[derive(Serialize, JsonSchema)]
pub struct Step<'a> {
    /// The kind of edge.
    #[schemars(with = "Primitive")]
    pub primitive: runnerguard_engine::Primitive,
    /// What the edge means, in words.
    pub description: &'static str,
    /// The requests it needs, each with the grant allowing it.
    pub permissions: Vec<Permission<'a>>,
    /// The identity it leads to.
    pub to: &'a Identity,
    /// A caveat when the edge is conservative, else `null`.
    pub note: Option<&'a str>,
}
