//! One object per identity, as `kubectl apply` leaves it: later definitions replace earlier
//! ones, and input objects replace the built-in defaults.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use runnerguard_model::Inventory;

use super::Loaded;
use crate::Warning;

/// Later objects with the same kind, namespace and name replace earlier ones, in the earlier
/// one's place, as a later `kubectl apply` of the same object would. Each replacement is a
/// warning, except a replacement of a built-in default role or binding, which is the point of
/// giving one.
pub(super) fn dedup(loaded: &mut Loaded) {
    let inv = &mut loaded.inventory;
    let w = &mut loaded.warnings;
    dedup_by(
        &mut inv.roles,
        |r| (r.kind.as_str(), &r.namespace, &r.name),
        |r| &r.origin,
        w,
    );
    dedup_by(
        &mut inv.bindings,
        |b| (b.kind.as_str(), &b.namespace, &b.name),
        |b| &b.origin,
        w,
    );
    dedup_by(
        &mut inv.service_accounts,
        |s| ("ServiceAccount", &s.namespace, &s.name),
        |s| &s.origin,
        w,
    );
    dedup_by(
        &mut inv.namespaces,
        |n| ("Namespace", "", &n.name),
        |n| &n.origin,
        w,
    );
}

/// Deduplicates `items` by `key`: the last of each key wins, in the first one's place.
///
/// The first pass only borrows, so the common case (no duplicates) moves nothing.
fn dedup_by<T>(
    items: &mut Vec<T>,
    key: impl for<'a> Fn(&'a T) -> (&'a str, &'a str, &'a str),
    origin: impl Fn(&T) -> &runnerguard_model::Origin,
    warnings: &mut Vec<Warning>,
) {
    // (position of the first occurrence, index of a later one), in input order.
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    {
        let mut first: HashMap<(&str, &str, &str), usize, foldhash::fast::RandomState> =
            HashMap::with_capacity_and_hasher(items.len(), foldhash::fast::RandomState::default());
        for (i, item) in items.iter().enumerate() {
            match first.entry(key(item)) {
                Entry::Occupied(e) => repeats.push((*e.get(), i)),
                Entry::Vacant(e) => {
                    e.insert(i);
                }
            }
        }
    }
    if repeats.is_empty() {
        return;
    }
    for &(at, later) in &repeats {
        // `items[at]` holds the definition that `items[later]` replaces.
        let earlier = origin(&items[at]);
        if !earlier.is_builtin() {
            let (kind, ns, name) = key(&items[later]);
            let ns = if ns.is_empty() {
                String::new()
            } else {
                format!("{ns}/")
            };
            let later_origin = origin(&items[later]);
            warnings.push(Warning {
                file: later_origin.file.clone(),
                line: later_origin.line,
                message: format!(
                    "{kind} `{ns}{name}` defined again; this definition replaces the one at {earlier}"
                ),
            });
        }
        items.swap(at, later);
    }
    let mut dropped = vec![false; items.len()];
    for &(_, later) in &repeats {
        dropped[later] = true;
    }
    let mut index = 0;
    items.retain(|_| {
        let keep = !dropped[index];
        index += 1;
        keep
    });
}

/// Appends `defaults` before `loaded`'s objects and deduplicates again, so that input objects
/// replace built-in ones of the same identity.
pub(crate) fn merge_defaults(loaded: &mut Loaded, defaults: Inventory) {
    let mut inventory = defaults;
    inventory.extend(std::mem::take(&mut loaded.inventory));
    loaded.inventory = inventory;
    dedup(loaded);
}
