//! Label selectors, as used by ClusterRole aggregation.

use std::collections::BTreeMap;

use serde::Serialize;

/// A `metav1.LabelSelector`: `matchLabels` and `matchExpressions`, all of which must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LabelSelector {
    /// Labels that must be present with exactly these values.
    pub match_labels: BTreeMap<String, String>,
    /// Further requirements.
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One `matchExpressions` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LabelSelectorRequirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`, exactly as written.
    pub operator: String,
    /// The values for `In` and `NotIn`.
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Whether `labels` satisfy this selector, as `metav1.LabelSelectorAsSelector` followed by
    /// `Matches` decides.
    ///
    /// An empty selector matches everything. A requirement with an unknown operator, or `In` /
    /// `NotIn` without values, or `Exists` / `DoesNotExist` with values, makes the selector
    /// invalid: Kubernetes then returns an error and the aggregation controller aggregates
    /// nothing for that role, so this returns `None`.
    /// (staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go `LabelSelectorAsSelector`,
    /// staging/src/k8s.io/apimachinery/pkg/labels/selector.go `NewRequirement`.)
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> Option<bool> {
        let mut ok = self
            .match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v));
        for req in &self.match_expressions {
            let value = labels.get(&req.key);
            let holds = match req.operator.as_str() {
                "In" if !req.values.is_empty() => value.is_some_and(|v| req.values.contains(v)),
                "NotIn" if !req.values.is_empty() => value.is_none_or(|v| !req.values.contains(v)),
                "Exists" if req.values.is_empty() => value.is_some(),
                "DoesNotExist" if req.values.is_empty() => value.is_none(),
                _ => return None,
            };
            ok &= holds;
        }
        Some(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn empty_selector_matches_everything() {
        assert_eq!(LabelSelector::default().matches(&labels(&[])), Some(true));
    }

    #[test]
    fn match_labels_and_expressions() {
        let sel = LabelSelector {
            match_labels: labels(&[("a", "1")]).into_iter().collect(),
            match_expressions: vec![LabelSelectorRequirement {
                key: "b".into(),
                operator: "NotIn".into(),
                values: vec!["x".into()],
            }],
        };
        assert_eq!(sel.matches(&labels(&[("a", "1")])), Some(true));
        assert_eq!(sel.matches(&labels(&[("a", "1"), ("b", "x")])), Some(false));
        assert_eq!(sel.matches(&labels(&[("a", "2")])), Some(false));
    }

    #[test]
    fn invalid_operator_is_an_error() {
        let sel = LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![LabelSelectorRequirement {
                key: "b".into(),
                operator: "in".into(),
                values: vec!["x".into()],
            }],
        };
        assert_eq!(sel.matches(&labels(&[("b", "x")])), None);
    }
}
