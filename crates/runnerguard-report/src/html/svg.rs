//! The escalation graph's SVG: a [`RenderBackend`] for layout-rs that writes what the layout
//! placed with the page's CSS classes, a `<title>` (tooltip) for each node and edge, every
//! label escaped ([`Html`]) and coordinates rounded to a tenth of a pixel, so that the output
//! is deterministic. layout-rs's own SVG writer is not used: it escapes no properties, names
//! a serif font and orders its styles by hash.

use std::fmt::Write as _;

use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::StyleAttr;

use super::Html;

/// The font size layout-rs sizes edge labels with: about the width, in pixels, of one
/// character of the page's 11px label font. Also how the backend tells labels from nodes.
pub(super) const LABEL_SIZE: usize = 7;
/// The font size of node text (nodes are sized by the graph, not by layout-rs).
pub(super) const NODE_SIZE: usize = 13;

/// A count of characters or lines as a length (counts here are small; a huge one saturates).
pub(super) fn count(n: usize) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

/// An SVG writer for layout-rs: nodes and edges with the page's classes and a `<title>` each
/// (their tooltips), labels escaped, coordinates rounded to a tenth of a pixel.
#[derive(Default)]
pub(super) struct Svg {
    body: String,
    /// Per node: its class, whether a change makes it newly reachable, and its title
    /// (already escaped).
    pub(super) nodes: Vec<(&'static str, bool, String)>,
    /// Per edge: whether it is a step a change adds, and its title (already escaped).
    pub(super) edges: Vec<(bool, String)>,
    /// A node's group is open: its text closes it.
    open: bool,
    min: Option<(f64, f64)>,
    max: Option<(f64, f64)>,
}

impl Svg {
    fn grow(&mut self, x: f64, y: f64) {
        if !x.is_finite() || !y.is_finite() {
            return;
        }
        let (mx, my) = self.min.unwrap_or((x, y));
        self.min = Some((mx.min(x), my.min(y)));
        let (nx, ny) = self.max.unwrap_or((x, y));
        self.max = Some((nx.max(x), ny.max(y)));
    }

    /// The index in `properties` (`n3`, `e7`) when it has `prefix`.
    fn index(properties: Option<&String>, prefix: char) -> Option<usize> {
        properties?.strip_prefix(prefix)?.parse().ok()
    }

    /// The drawing's width, margins included.
    pub(super) fn width(&self) -> f64 {
        match (self.min, self.max) {
            (Some((x0, _)), Some((x1, _))) => x1 - x0 + 24.0,
            _ => 0.0,
        }
    }

    /// The `<svg>` element.
    pub(super) fn finish(self) -> String {
        let (x0, y0) = self.min.unwrap_or((0.0, 0.0));
        let (x1, y1) = self.max.unwrap_or((0.0, 0.0));
        let (x, y) = (x0 - 12.0, y0 - 12.0);
        let (w, h) = (x1 - x0 + 24.0, y1 - y0 + 24.0);
        // The red arrowhead of new steps, only where there are some: the audit's graph has none.
        let new = if self.edges.iter().any(|(n, _)| *n) {
            "<marker id=\"rg-arrow-new\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
             markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">\
             <path d=\"M0,0 L10,5 L0,10 z\"/></marker>"
        } else {
            ""
        };
        format!(
            "<svg role=\"img\" aria-label=\"escalation graph\" \
             width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"{x:.1} {y:.1} {w:.1} {h:.1}\">\n\
             <defs><marker id=\"rg-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
             markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">\
             <path d=\"M0,0 L10,5 L0,10 z\"/></marker>{new}</defs>\n{}</svg>\n",
            self.body
        )
    }
}

impl RenderBackend for Svg {
    fn draw_rect(
        &mut self,
        xy: Point,
        size: Point,
        look: &StyleAttr,
        properties: Option<String>,
        _clip: Option<ClipHandle>,
    ) {
        self.grow(xy.x, xy.y);
        self.grow(xy.x + size.x, xy.y + size.y);
        let node = Self::index(properties.as_ref(), 'n').and_then(|i| self.nodes.get(i));
        let (class, new, title) =
            node.map_or(("plain", false, ""), |(c, n, t)| (*c, *n, t.as_str()));
        let new = if new { " new" } else { "" };
        let _ = write!(
            self.body,
            "<g class=\"node {class}{new}\"><title>{title}</title>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"{}\"/>",
            xy.x, xy.y, size.x, size.y, look.rounded
        );
        self.open = true;
    }

    fn draw_line(
        &mut self,
        start: Point,
        stop: Point,
        _look: &StyleAttr,
        _properties: Option<String>,
    ) {
        self.grow(start.x, start.y);
        self.grow(stop.x, stop.y);
        let _ = writeln!(
            self.body,
            "<line class=\"edge\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>",
            start.x, start.y, stop.x, stop.y
        );
    }

    fn draw_circle(
        &mut self,
        xy: Point,
        size: Point,
        _look: &StyleAttr,
        _properties: Option<String>,
    ) {
        self.grow(xy.x - size.x / 2.0, xy.y - size.y / 2.0);
        self.grow(xy.x + size.x / 2.0, xy.y + size.y / 2.0);
        let _ = writeln!(
            self.body,
            "<ellipse class=\"edge\" cx=\"{:.1}\" cy=\"{:.1}\" rx=\"{:.1}\" ry=\"{:.1}\"/>",
            xy.x,
            xy.y,
            size.x / 2.0,
            size.y / 2.0
        );
    }

    fn draw_text(&mut self, xy: Point, text: &str, look: &StyleAttr) {
        let lines: Vec<&str> = text.lines().collect();
        if look.font_size == LABEL_SIZE {
            // An edge label, beside its edge.
            let width = count(lines.iter().map(|l| l.chars().count()).max().unwrap_or(0)) * 6.5;
            self.grow(xy.x - width / 2.0, xy.y - 8.0);
            self.grow(xy.x + width / 2.0, xy.y + 8.0);
            let _ = write!(
                self.body,
                "<text class=\"el\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" dominant-baseline=\"central\">",
                xy.x, xy.y
            );
            for (i, line) in lines.iter().enumerate() {
                let dy = if i == 0 { "0" } else { "1.2em" };
                let _ = write!(
                    self.body,
                    "<tspan x=\"{:.1}\" dy=\"{dy}\">{}</tspan>",
                    xy.x,
                    Html(line)
                );
            }
            self.body.push_str("</text>\n");
            return;
        }
        // A node's lines, centred on it: what it is (small), then which.
        let _ = write!(
            self.body,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" dominant-baseline=\"central\">",
            xy.x, xy.y
        );
        let n = lines.len();
        for (i, line) in lines.iter().enumerate() {
            let dy = if i == 0 {
                // Lines are 1.25em apart; the first sits half the block above the centre.
                format!("{:.3}em", -0.625 * count(n.saturating_sub(1)))
            } else {
                "1.25em".to_owned()
            };
            let class = if i == 0 && n > 1 {
                " class=\"kind\""
            } else {
                ""
            };
            let _ = write!(
                self.body,
                "<tspan x=\"{:.1}\" dy=\"{dy}\"{class}>{}</tspan>",
                xy.x,
                Html(line)
            );
        }
        self.body.push_str("</text>");
        if self.open {
            self.body.push_str("</g>\n");
            self.open = false;
        }
    }

    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        dashed: bool,
        head: (bool, bool),
        _look: &StyleAttr,
        properties: Option<String>,
        _text: &str,
    ) {
        // The first pair is the start point and its control point, each later pair a control
        // point and the point it leads into: `M p0 C c0, c1 p1 S c2 p2 ...`.
        let Some(first) = path.first() else {
            return;
        };
        for (a, b) in path {
            self.grow(a.x, a.y);
            self.grow(b.x, b.y);
        }
        let mut d = format!(
            "M {:.1} {:.1} C {:.1} {:.1}",
            first.0.x, first.0.y, first.1.x, first.1.y
        );
        for (i, (c, p)) in path.iter().skip(1).enumerate() {
            if i == 0 {
                let _ = write!(d, ", {:.1} {:.1}, {:.1} {:.1}", c.x, c.y, p.x, p.y);
            } else {
                let _ = write!(d, " S {:.1} {:.1}, {:.1} {:.1}", c.x, c.y, p.x, p.y);
            }
        }
        let (new, title) = Self::index(properties.as_ref(), 'e')
            .and_then(|i| self.edges.get(i))
            .map_or((false, ""), |(n, t)| (*n, t.as_str()));
        let (class, marker) = if new {
            (" new", "rg-arrow-new")
        } else {
            ("", "rg-arrow")
        };
        let _ = writeln!(
            self.body,
            "<path class=\"edge{class}\" d=\"{d}\"{}{}{}><title>{title}</title></path>",
            if dashed {
                " stroke-dasharray=\"5,4\""
            } else {
                ""
            },
            if head.0 {
                format!(" marker-start=\"url(#{marker})\"")
            } else {
                String::new()
            },
            if head.1 {
                format!(" marker-end=\"url(#{marker})\"")
            } else {
                String::new()
            },
        );
    }

    fn create_clip(&mut self, _xy: Point, _size: Point, _rounded_px: usize) -> ClipHandle {
        0
    }
}
