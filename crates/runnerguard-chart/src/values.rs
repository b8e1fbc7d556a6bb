//! Values merged as Helm merges them.

use serde_json::{Map, Value};

/// Merges `over` onto `base` as Helm does for `-f a.yaml -f b.yaml` and for user values over
/// the chart's defaults (pkg/chart/common/util/coalesce.go `coalesceTablesFullKey`, and
/// pkg/cli/values/options.go `mergeMaps`): mappings merge key by key, recursively; any other
/// value in `over` replaces the one in `base`; a `null` in `over` deletes the key.
pub fn coalesce(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => merge_maps(b, o),
        (b, o) => *b = o.clone(),
    }
}

fn merge_maps(base: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (k, v) in over {
        if v.is_null() {
            base.remove(k);
            continue;
        }
        match base.get_mut(k) {
            Some(existing @ Value::Object(_)) if v.is_object() => coalesce(existing, v),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn later_wins_maps_merge_null_deletes() {
        let mut base = json!({"rbac": {"create": false, "rules": [1]}, "a": 1, "b": {"c": 1}});
        coalesce(
            &mut base,
            &json!({"rbac": {"create": true}, "a": null, "b": 2}),
        );
        assert_eq!(
            base,
            json!({"rbac": {"create": true, "rules": [1]}, "b": 2})
        );
    }
}
