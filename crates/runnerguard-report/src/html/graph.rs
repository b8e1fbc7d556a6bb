//! The escalation graph: the identities the runner's ServiceAccounts can become, as
//! `runnerguard paths` finds them ([`Escalation::reach`]), drawn as an inline SVG.
//!
//! Nodes are identities, edges are escalation steps labelled with the requests they rest on.
//! The placement is layout-rs's (a layered layout: ranks, crossing reduction, Brandes-Köpf
//! coordinates); this module chooses what to draw, and [`super::svg`] writes what layout-rs
//! placed, every label escaped, in the page's style, deterministically.
//!
//! Bounded: at most [`MAX_NODES`] identities and [`MAX_EDGES`] steps. The strongest
//! identities (cluster-admin, the nodes' kubelet API, every ServiceAccount, a namespace's every
//! permission, a bound role's rights) are drawn first, each with its whole path; what does not
//! fit is counted on the page.
//!
//! For `diff -o html`, a [`Highlight`] marks the identities and steps a change makes
//! reachable (the comparison's paths); the audit's page has none.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::Point;
use layout::core::style::StyleAttr;
use layout::std_shapes::shapes::{Arrow, Element, ShapeKind};
use layout::topo::layout::VisualGraph;
use runnerguard_audit::EscalationStep;
use runnerguard_engine::{
    ANY_NAME, Escalation, Identity, Policy, Primitive, Reached, Step, Target,
};

use super::Html;
use super::matrix::Subjects;
use super::svg::{LABEL_SIZE, NODE_SIZE, Svg, count};
use crate::{escape, evidence};

/// At most this many identities are drawn.
pub(super) const MAX_NODES: usize = 60;
/// At most this many steps are drawn.
pub(super) const MAX_EDGES: usize = 120;

/// What a change makes reachable, marked in the graph: identities, and steps as (from, to).
#[derive(Debug, Default)]
pub(super) struct Highlight {
    /// Identities newly reachable.
    pub(super) nodes: BTreeSet<Identity>,
    /// Steps of the new paths that lead to a newly reachable identity.
    pub(super) edges: BTreeSet<(Identity, Identity)>,
}

impl Highlight {
    /// Adds `reached` (newly reachable from `start`, as the new side's shortest path goes):
    /// the identity, and each step of its path into an identity in `new` (what `start` could
    /// not become before: steps to what it already reached are not new).
    pub(super) fn add(&mut self, start: &Identity, reached: &Reached, new: &BTreeSet<&Identity>) {
        self.nodes.insert(reached.identity.clone());
        let mut from = start;
        for step in &reached.path {
            if step.to != *from && new.contains(&step.to) {
                self.edges.insert((from.clone(), step.to.clone()));
            }
            from = &step.to;
        }
    }
}

/// A drawn identity.
struct Node {
    identity: Identity,
    /// The runner roles of a subject (`runner manager`, `job pods`); empty for others.
    roles: Vec<String>,
}

/// A drawn step from one identity to another; parallel steps share one edge.
#[derive(Default)]
struct Edge {
    labels: BTreeSet<String>,
    steps: Vec<Step>,
}

/// What is drawn.
#[derive(Default)]
pub(super) struct Drawing {
    nodes: Vec<Node>,
    index: BTreeMap<Identity, usize>,
    edges: BTreeMap<(usize, usize), Edge>,
    /// Identities reachable from some subject that are not drawn.
    left_out: usize,
    /// Steps not drawn for want of room.
    edges_left_out: bool,
}

/// How strong an identity is: drawn first when there is not room for all.
fn strength(identity: &Identity) -> u8 {
    match identity {
        Identity::ClusterAdmin => 0,
        Identity::Node => 1,
        Identity::AnyServiceAccount => 2,
        Identity::NamespaceAdmin { .. } => 3,
        Identity::BoundRole { .. } => 4,
        Identity::User { .. } | Identity::Group { .. } => 5,
        Identity::ServiceAccount { .. } => 6,
    }
}

/// The node's style: a subject, a strong identity, a bound role's rights, or plain.
fn class(node: &Node) -> &'static str {
    if !node.roles.is_empty() {
        return "start";
    }
    match strength(&node.identity) {
        0..=3 => "strong",
        4 => "role",
        _ => "plain",
    }
}

impl Drawing {
    /// The identities the subjects reach, chosen as the module documentation says.
    fn of(escalation: &Escalation<'_>, subjects: &Subjects) -> Self {
        let mut d = Drawing::default();
        let starts: Vec<Identity> = subjects
            .list
            .iter()
            .map(|s| Identity::ServiceAccount {
                namespace: s.namespace.clone(),
                name: s.name.clone(),
            })
            .collect();
        for (identity, s) in starts.iter().zip(&subjects.list) {
            d.node(identity).roles.clone_from(&s.roles);
        }
        let users: Vec<_> = subjects
            .list
            .iter()
            .map(super::matrix::Subject::user)
            .collect();
        escalation.prepare(&users);
        let reaches: Vec<Vec<Reached>> = users.iter().map(|u| escalation.reach(u)).collect();

        // Every (subject, reached identity), strongest first, then nearest.
        let mut candidates: Vec<(u8, usize, &Identity, usize, &Reached)> = Vec::new();
        let mut reachable: BTreeSet<&Identity> = BTreeSet::new();
        for (i, reach) in reaches.iter().enumerate() {
            for r in reach.iter().skip(1) {
                reachable.insert(&r.identity);
                candidates.push((strength(&r.identity), r.path.len(), &r.identity, i, r));
            }
        }
        candidates.sort_by(|a, b| (a.0, a.1, a.2, a.3).cmp(&(b.0, b.1, b.2, b.3)));
        for (_, _, _, start, reached) in candidates {
            d.add_path(&starts[start], reached);
        }
        d.left_out = reachable
            .into_iter()
            .filter(|i| !d.index.contains_key(*i))
            .count();
        d
    }

    /// The node of `identity`, added if new.
    fn node(&mut self, identity: &Identity) -> &mut Node {
        let i = if let Some(&i) = self.index.get(identity) {
            i
        } else {
            self.nodes.push(Node {
                identity: identity.clone(),
                roles: Vec::new(),
            });
            self.index.insert(identity.clone(), self.nodes.len() - 1);
            self.nodes.len() - 1
        };
        &mut self.nodes[i]
    }

    /// Draws `reached`'s path from `start` when its new identities and steps fit.
    fn add_path(&mut self, start: &Identity, reached: &Reached) {
        let mut hops: Vec<(&Identity, &Step)> = Vec::new();
        let mut from = start;
        for step in &reached.path {
            if step.to != *from {
                hops.push((from, step));
            }
            from = &step.to;
        }
        let new_nodes: BTreeSet<&Identity> = hops
            .iter()
            .map(|(_, s)| &s.to)
            .filter(|i| !self.index.contains_key(*i))
            .collect();
        let new_edges = hops
            .iter()
            .filter(|(f, s)| match (self.index.get(*f), self.index.get(&s.to)) {
                (Some(a), Some(b)) => !self.edges.contains_key(&(*a, *b)),
                _ => true,
            })
            .count();
        if self.nodes.len() + new_nodes.len() > MAX_NODES {
            return;
        }
        if self.edges.len() + new_edges > MAX_EDGES {
            self.edges_left_out = true;
            return;
        }
        for (from, step) in hops {
            let a = self.index_of(from);
            let b = self.index_of(&step.to);
            let edge = self.edges.entry((a, b)).or_default();
            edge.labels.insert(label(step));
            if !edge.steps.contains(step) {
                edge.steps.push(step.clone());
            }
        }
    }

    /// A node, for tests that build a drawing of any shape.
    #[cfg(test)]
    pub(super) fn push_node(&mut self, identity: &Identity) {
        self.node(identity);
    }

    /// An edge from node `a` to node `b`, for tests.
    #[cfg(test)]
    pub(super) fn push_edge(&mut self, a: usize, b: usize, label: &str, step: Step) {
        let edge = self.edges.entry((a, b)).or_default();
        edge.labels.insert(label.to_owned());
        edge.steps.push(step);
    }

    /// The drawing as SVG.
    #[cfg(test)]
    pub(super) fn svg(&self) -> String {
        svg(self, None)
    }

    fn index_of(&mut self, identity: &Identity) -> usize {
        if let Some(&i) = self.index.get(identity) {
            return i;
        }
        self.node(identity);
        self.nodes.len() - 1
    }
}

/// A step's label: the requests it rests on, verbs of one resource together (`bind
/// clusterroles + create rolebindings`), or what it is when it needs none.
fn label(step: &Step) -> String {
    // (resource, verbs), in the order the step needs them.
    let mut requests: Vec<(String, Vec<&str>)> = Vec::new();
    for p in step.permissions.iter() {
        let what = match &p.action.target {
            Target::Resource(r) => {
                let mut t = r.resource.clone();
                if !r.subresource.is_empty() {
                    t.push('/');
                    t.push_str(&r.subresource);
                }
                // A named object is worth saying; "any name" is what a plain request means.
                if !r.name.is_empty() && r.name != ANY_NAME {
                    t.push(' ');
                    t.push_str(&r.name);
                }
                t
            }
            Target::NonResource { path } => path.clone(),
        };
        let verb = p.action.verb.as_str();
        match requests.iter_mut().find(|(w, _)| *w == what) {
            Some((_, verbs)) if !verbs.contains(&verb) => verbs.push(verb),
            Some(_) => {}
            None => requests.push((what, vec![verb])),
        }
    }
    if requests.is_empty() {
        return match step.primitive {
            Primitive::Superuser => "system:masters".to_owned(),
            Primitive::Includes => "includes".to_owned(),
            _ => String::new(),
        };
    }
    let text: Vec<String> = requests
        .iter()
        .map(|(what, verbs)| format!("{} {what}", verbs.join(", ")))
        .collect();
    escape(&text.join(" + ")).into_owned()
}

/// An identity as two lines: what it is, and which.
fn lines(identity: &Identity) -> (String, String) {
    let q = |ns: &str, name: &str| {
        if ns.is_empty() {
            escape(name).into_owned()
        } else {
            format!("{}/{}", escape(ns), escape(name))
        }
    };
    match identity {
        Identity::ServiceAccount { namespace, name } => {
            ("ServiceAccount".to_owned(), q(namespace, name))
        }
        Identity::User { name } => ("User".to_owned(), q("", name)),
        Identity::Group { name } => ("Group".to_owned(), q("", name)),
        Identity::AnyServiceAccount => (
            "every ServiceAccount".to_owned(),
            "of every namespace".to_owned(),
        ),
        Identity::Node => ("kubelet API".to_owned(), "of every node".to_owned()),
        Identity::BoundRole {
            role_kind,
            role_namespace,
            role_name,
            scope,
        } => (
            format!("rights of {role_kind}"),
            if scope.is_empty() {
                format!("{}, cluster-wide", q(role_namespace, role_name))
            } else {
                format!("{} in {}", q(role_namespace, role_name), escape(scope))
            },
        ),
        Identity::NamespaceAdmin { namespace } => (
            "every permission".to_owned(),
            format!("in namespace {}", escape(namespace)),
        ),
        Identity::ClusterAdmin => (
            "cluster-admin".to_owned(),
            "every permission, everywhere".to_owned(),
        ),
    }
}

/// A node's two lines, with its runner role ahead of what it is.
fn node_text(node: &Node) -> String {
    let (kind, which) = lines(&node.identity);
    if node.roles.is_empty() {
        format!("{kind}\n{which}")
    } else {
        format!("{} · {kind}\n{which}", escape(&node.roles.join(", ")))
    }
}

/// Writes the graph section; `highlight`, for a change, marks what it makes reachable.
pub(super) fn write(
    out: &mut String,
    policy: &Policy,
    subjects: &Subjects,
    highlight: Option<&Highlight>,
) -> fmt::Result {
    out.push_str("<section class=\"card\" id=\"graph\">\n<h2>Escalation graph</h2>\n");
    if subjects.list.is_empty() {
        out.push_str(
            "<p class=\"note\">No runner identity to start from: the inputs hold no runner.</p>\n</section>\n",
        );
        return Ok(());
    }
    let escalation = Escalation::new(policy);
    let drawing = Drawing::of(&escalation, subjects);
    if drawing.edges.is_empty() {
        out.push_str(
            "<p class=\"note\">None of the runner's ServiceAccounts can become another identity: \
             no escalation path starts from them.</p>\n</section>\n",
        );
        return Ok(());
    }
    writeln!(
        out,
        "<p class=\"note\">Who the runner's ServiceAccounts (blue) can become, as \
         <code>runnerguard paths</code> finds it: each arrow is a step, labelled with the \
         requests it rests on; red marks the strongest identities, amber a bound role's rights. \
         {} identit{} and {} step{} drawn.</p>",
        drawing.nodes.len(),
        if drawing.nodes.len() == 1 { "y" } else { "ies" },
        drawing.edges.len(),
        if drawing.edges.len() == 1 { "" } else { "s" },
    )?;
    if drawing.left_out > 0 || drawing.edges_left_out {
        writeln!(
            out,
            "<p class=\"note\">Not everything fits: {} more reachable identit{} not drawn (at most \
             {MAX_NODES} identities and {MAX_EDGES} steps, the strongest first); \
             <code>runnerguard paths --as system:serviceaccount:NAMESPACE:NAME</code> lists them all.</p>",
            drawing.left_out,
            if drawing.left_out == 1 {
                "y is"
            } else {
                "ies are"
            }
        )?;
    }
    if let Some(h) = highlight {
        marked(out, &drawing, h)?;
    }
    out.push_str("<div class=\"graph-wrap\">\n");
    out.push_str(&svg(&drawing, highlight));
    out.push_str("</div>\n");
    steps(out, policy, &drawing, highlight)?;
    out.push_str("</section>\n");
    Ok(())
}

/// What the graph marks as new with a change, and how many of those are drawn.
fn marked(out: &mut String, d: &Drawing, h: &Highlight) -> fmt::Result {
    let nodes = d
        .nodes
        .iter()
        .filter(|n| h.nodes.contains(&n.identity))
        .count();
    let edges = d
        .edges
        .keys()
        .filter(|&&(a, b)| is_new(Some(h), d, a, b))
        .count();
    if nodes + edges == 0 {
        return writeln!(
            out,
            "<p class=\"note\">The change makes nothing newly reachable from the runner's ServiceAccounts.</p>"
        );
    }
    writeln!(
        out,
        "<p class=\"note\"><span class=\"legend\"><span class=\"new\">new with this change</span></span>\
         {nodes} identit{} the runner's ServiceAccounts could not become before (dashed red outline), \
         and the {edges} step{} of the paths that now reach {} (red arrows: the path is new, a step \
         on it may have been there before).</p>",
        if nodes == 1 { "y" } else { "ies" },
        if edges == 1 { "" } else { "s" },
        if nodes == 1 { "it" } else { "them" },
    )
}

/// Each drawn edge with the wording of its steps, as `paths` prints them; a step `highlight`
/// marks is marked in the list too.
fn steps(
    out: &mut String,
    policy: &Policy,
    d: &Drawing,
    highlight: Option<&Highlight>,
) -> fmt::Result {
    writeln!(
        out,
        "<details class=\"evidence\"><summary>The {} step{} with the rule that allows each</summary>\n<ol class=\"steps\">",
        d.edges.len(),
        if d.edges.len() == 1 { "" } else { "s" }
    )?;
    for (&(a, b), edge) in &d.edges {
        let new = if is_new(highlight, d, a, b) {
            " class=\"new\""
        } else {
            ""
        };
        write!(
            out,
            "<li{new}><code>{}</code> → <code>{}</code>",
            Html(&d.nodes[a].identity),
            Html(&d.nodes[b].identity)
        )?;
        for step in &edge.steps {
            for line in evidence::escalation_lines(&EscalationStep::new(policy, step)) {
                write!(
                    out,
                    "<div class=\"ev d{}\">{}</div>",
                    line.depth.min(6),
                    Html(&line.text)
                )?;
            }
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n</details>\n");
    Ok(())
}

/// A graph this wide or less fits the page as it is.
const FITS: f64 = 1280.0;

/// The drawing laid out by layout-rs, as an `<svg>` element: left to right (a fan-out of
/// many identities stacks down the page), or top to bottom when that is narrower and left to
/// right would not fit the page (long paths).
fn svg(d: &Drawing, highlight: Option<&Highlight>) -> String {
    let across = layout(d, Orientation::LeftToRight, highlight);
    if across.width() <= FITS {
        return across.finish();
    }
    let down = layout(d, Orientation::TopToBottom, highlight);
    if down.width() < across.width() {
        down.finish()
    } else {
        across.finish()
    }
}

/// Whether the edge from node `a` to node `b` is one `highlight` marks.
fn is_new(highlight: Option<&Highlight>, d: &Drawing, a: usize, b: usize) -> bool {
    highlight.is_some_and(|h| {
        h.edges
            .contains(&(d.nodes[a].identity.clone(), d.nodes[b].identity.clone()))
    })
}

/// The drawing laid out in `orientation`, with what `highlight` marks.
fn layout(d: &Drawing, orientation: Orientation, highlight: Option<&Highlight>) -> Svg {
    let mut graph = VisualGraph::new(orientation);
    let node_look = StyleAttr::new(Color::fast("black"), 1, None, 6, NODE_SIZE);
    let mut handles = Vec::new();
    let mut backend = Svg::default();
    for (i, node) in d.nodes.iter().enumerate() {
        let text = node_text(node);
        let size = node_size(&text);
        let element = Element::create_with_properties(
            ShapeKind::new_box(&text),
            node_look.clone(),
            orientation,
            size,
            format!("n{i}"),
        );
        handles.push(graph.add_node(element));
        let mut title = Html(&node.identity).to_string();
        if !node.roles.is_empty() {
            let _ = write!(title, " ({})", Html(node.roles.join(", ")));
        }
        let new = highlight.is_some_and(|h| h.nodes.contains(&node.identity));
        if new {
            title.push_str(" (newly reachable)");
        }
        backend.nodes.push((class(node), new, title));
    }
    let label_look = StyleAttr::new(Color::fast("black"), 1, None, 0, LABEL_SIZE);
    for (i, (&(a, b), edge)) in d.edges.iter().enumerate() {
        let text: Vec<&str> = edge.labels.iter().map(String::as_str).collect();
        let mut arrow = Arrow::simple_with_properties(&text.join(" / "), format!("e{i}"));
        arrow.look = label_look.clone();
        graph.add_edge(arrow, handles[a], handles[b]);
        let new = is_new(highlight, d, a, b);
        backend.edges.push((
            new,
            format!(
                "{} → {}{}",
                Html(&d.nodes[a].identity),
                Html(&d.nodes[b].identity),
                if new { " (new)" } else { "" }
            ),
        ));
    }
    graph.do_it(false, false, false, &mut backend);
    backend
}

/// A node's box: wide enough for its longest line in the page's fonts (about 7.8 pixels a
/// character at 13px, 6.9 at 11.5px), two lines high.
fn node_size(text: &str) -> Point {
    let mut lines = text.lines();
    let first = lines.next().map_or(0, |l| l.chars().count());
    let second = lines.map(|l| l.chars().count()).max().unwrap_or(0);
    let width = (count(first) * 6.9).max(count(second) * 7.8) + 28.0;
    Point::new(width.max(120.0), 46.0)
}
