//! The evidence of a finding as SARIF: its objects and settings as related locations, its
//! escalation paths as code flows, worded by [`crate::evidence`].

use std::collections::HashSet;

use runnerguard_audit::{EscalationStep, Evidence};
use runnerguard_model::ObjectRef;

use super::Places;
use super::log::{CodeFlow, Location, LogicalLocation, Message, ThreadFlow, ThreadFlowLocation};
use crate::evidence::{escalation_lines, grant_line, lines};

/// The related locations of a finding: every object and setting of its evidence, each once,
/// with what the evidence says of it.
pub(super) struct Related<'p, 'm> {
    pub(super) places: Places<'p>,
    pub(super) seen: HashSet<Location<'m>>,
    pub(super) out: Vec<Location<'m>>,
}

impl<'m> Related<'_, 'm> {
    fn push(&mut self, location: Location<'m>) {
        if self.seen.insert(location.clone()) {
            self.out.push(location);
        }
    }

    fn object(&mut self, o: &ObjectRef, message: String) {
        let location = self.places.object(o, message);
        self.push(location);
    }

    pub(super) fn all(&mut self, evidence: &[Evidence]) {
        for e in evidence {
            match e {
                Evidence::Grant(g) => {
                    let text = grant_line(g);
                    self.object(&g.binding, text.clone());
                    self.object(&g.role, text.clone());
                    if let Some(from) = &g.aggregated_from {
                        self.object(&from.role, text);
                    }
                }
                Evidence::Escalation(s) => {
                    let texts = escalation_lines(s);
                    for (p, line) in s.permissions.iter().zip(texts.iter().skip(1)) {
                        self.object(&p.grant.binding, line.text.clone());
                        self.object(&p.grant.role, line.text.clone());
                    }
                }
                Evidence::Setting(s) => {
                    let text = first_line(e);
                    let location = self.places.origin(&s.origin, text, || LogicalLocation {
                        name: s.key.clone(),
                        fully_qualified_name: s.key.clone(),
                        kind: "property",
                    });
                    self.push(location);
                }
                Evidence::Object(o) => {
                    self.object(&o.object, first_line(e));
                    self.all(&o.under);
                }
                Evidence::Rule(_) => {}
                Evidence::Fact { under, .. } => self.all(under),
            }
        }
    }
}

/// The first line [`crate::evidence`] words `e` with (its own, without what is under it).
fn first_line(e: &Evidence) -> String {
    lines(std::slice::from_ref(e))
        .into_iter()
        .next()
        .map(|l| l.text)
        .unwrap_or_default()
}

/// Every escalation path in `evidence` (a run of escalation steps, at any depth) as a code
/// flow, under the text of the evidence it is under (`strongest reachable: ...`).
pub(super) fn flows(
    places: Places<'_>,
    evidence: &[Evidence],
    parent: Option<&str>,
    out: &mut Vec<CodeFlow<'_>>,
) {
    let mut run: Vec<&EscalationStep> = Vec::new();
    for e in evidence.iter().map(Some).chain([None]) {
        if let Some(Evidence::Escalation(s)) = e {
            run.push(s);
            continue;
        }
        if let Some(last) = run.last() {
            let message = parent.map_or_else(
                || format!("escalation to {}", last.reached),
                ToOwned::to_owned,
            );
            out.push(code_flow(places, &run, message));
            run.clear();
        }
        match e {
            Some(Evidence::Fact { text, under }) => flows(places, under, Some(text), out),
            Some(o @ Evidence::Object(ob)) => {
                flows(places, &ob.under, Some(&first_line(o)), out);
            }
            _ => {}
        }
    }
}

/// One path: per step, the binding of each request it needs (with what the step does) and
/// the role (with the request and its grant), or the step alone when it needs no request.
fn code_flow<'m>(places: Places<'_>, steps: &[&EscalationStep], message: String) -> CodeFlow<'m> {
    let mut locations = Vec::new();
    for s in steps {
        let texts = escalation_lines(s);
        let mut step = texts.first().map(|l| l.text.clone()).unwrap_or_default();
        if let Some(note) = texts.get(1 + s.permissions.len()) {
            step.push(' ');
            step.push_str(&note.text);
        }
        if s.permissions.is_empty() {
            locations.push(ThreadFlowLocation {
                location: Location {
                    message: Some(Message::new(step.clone())),
                    ..Location::default()
                },
            });
        }
        for (p, line) in s.permissions.iter().zip(texts.iter().skip(1)) {
            locations.push(ThreadFlowLocation {
                location: places.object(&p.grant.binding, step.clone()),
            });
            locations.push(ThreadFlowLocation {
                location: places.object(&p.grant.role, line.text.clone()),
            });
        }
    }
    CodeFlow {
        message: Message::new(message),
        thread_flows: [ThreadFlow { locations }],
    }
}
