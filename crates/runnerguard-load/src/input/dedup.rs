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
    let Inventory {
        roles,
        bindings,
        service_accounts,
        namespaces,
        ..
    } = &mut loaded.inventory;
    // The bindings (the most objects) on one core, the other kinds on the other; the
    // warnings in the kinds' order: roles, bindings, ServiceAccounts, Namespaces.
    let ((roles_warned, others_warned), bindings_warned) = rayon::join(
        || {
            let (mut roles_warned, mut others_warned) = (Vec::new(), Vec::new());
            dedup_by(
                roles,
                |r| (r.kind.as_str(), &r.namespace, &r.name),
                |r| &r.origin,
                &mut roles_warned,
            );
            dedup_by(
                service_accounts,
                |s| ("ServiceAccount", &s.namespace, &s.name),
                |s| &s.origin,
                &mut others_warned,
            );
            dedup_by(
                namespaces,
                |n| ("Namespace", "", &n.name),
                |n| &n.origin,
                &mut others_warned,
            );
            (roles_warned, others_warned)
        },
        || {
            let mut warned = Vec::new();
            dedup_by(
                bindings,
                |b| (b.kind.as_str(), &b.namespace, &b.name),
                |b| &b.origin,
                &mut warned,
            );
            warned
        },
    );
    loaded.warnings.extend(
        roles_warned
            .into_iter()
            .chain(bindings_warned)
            .chain(others_warned),
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
            warnings.push(replaced(key(&items[later]), origin(&items[later]), earlier));
        }
        items.swap(at, later);
    }
    remove_at(items, repeats.iter().map(|&(_, later)| later));
}

/// Removes the items at `positions`, the others keeping their order.
fn remove_at<T>(items: &mut Vec<T>, positions: impl Iterator<Item = usize>) {
    let mut gone = vec![false; items.len()];
    for i in positions {
        gone[i] = true;
    }
    let mut i = 0;
    items.retain(|_| {
        let keep = !gone[i];
        i += 1;
        keep
    });
}

/// Appends `defaults` before `loaded`'s objects, an input object replacing a default of the
/// same identity in the default's place: what deduplicating the two together would leave.
///
/// The input is deduplicated first: objects placed in a namespace (`-n`) or rendered from
/// a chart after loading may repeat one another. The defaults hold one object per identity
/// (the embedded policy, or a cluster's objects), so then only the input's objects that share
/// an identity with a default are looked for, through an index of the defaults' names:
/// deduplicating defaults and input together built a map of every object (100,000
/// bindings, 45-65 ms; issue #13).
pub(crate) fn merge_defaults(loaded: &mut Loaded, defaults: Inventory) {
    dedup(loaded);
    let mut input = std::mem::replace(&mut loaded.inventory, defaults);
    let inv = &mut loaded.inventory;
    let w = &mut loaded.warnings;
    merge_by(
        &mut inv.roles,
        std::mem::take(&mut input.roles),
        |r| (r.kind.as_str(), &r.namespace, &r.name),
        |r| &r.origin,
        w,
    );
    merge_by(
        &mut inv.bindings,
        std::mem::take(&mut input.bindings),
        |b| (b.kind.as_str(), &b.namespace, &b.name),
        |b| &b.origin,
        w,
    );
    merge_by(
        &mut inv.service_accounts,
        std::mem::take(&mut input.service_accounts),
        |s| ("ServiceAccount", &s.namespace, &s.name),
        |s| &s.origin,
        w,
    );
    merge_by(
        &mut inv.namespaces,
        std::mem::take(&mut input.namespaces),
        |n| ("Namespace", "", &n.name),
        |n| &n.origin,
        w,
    );
    inv.extend(input);
}

/// Puts `defaults` before `input`, each input item with a default's key replacing it in its
/// place (warned of unless the default is built in, as [`dedup_by`] warns).
fn merge_by<T>(
    defaults: &mut Vec<T>,
    mut input: Vec<T>,
    key: impl for<'a> Fn(&'a T) -> (&'a str, &'a str, &'a str),
    origin: impl Fn(&T) -> &runnerguard_model::Origin,
    warnings: &mut Vec<Warning>,
) {
    // The defaults by name, then kind and namespace compared: most input objects share no
    // name with a default.
    let mut by_name: HashMap<&str, Vec<usize>, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(defaults.len(), foldhash::fast::RandomState::default());
    for (i, item) in defaults.iter().enumerate() {
        by_name.entry(key(item).2).or_default().push(i);
    }
    // (default, input item replacing it), in input order.
    let replacing: Vec<(usize, usize)> = input
        .iter()
        .enumerate()
        .filter_map(|(j, item)| {
            let candidates = by_name.get(key(item).2)?;
            let i = candidates
                .iter()
                .copied()
                .find(|&i| key(&defaults[i]) == key(item))?;
            Some((i, j))
        })
        .collect();
    drop(by_name);
    if !replacing.is_empty() {
        for &(i, j) in &replacing {
            let earlier = origin(&defaults[i]);
            if !earlier.is_builtin() {
                warnings.push(replaced(key(&input[j]), origin(&input[j]), earlier));
            }
            std::mem::swap(&mut defaults[i], &mut input[j]);
        }
        // The replaced defaults, now in the input's places, go.
        remove_at(&mut input, replacing.iter().map(|&(_, j)| j));
    }
    // The input stays where it is; the few defaults go in front of it (one move of the
    // input's items, not one push each).
    input.splice(0..0, defaults.drain(..));
    *defaults = input;
}

/// The warning that the object `key` at `later` replaces the one at `earlier`.
fn replaced(
    (kind, ns, name): (&str, &str, &str),
    later: &runnerguard_model::Origin,
    earlier: &runnerguard_model::Origin,
) -> Warning {
    let ns = if ns.is_empty() {
        String::new()
    } else {
        format!("{ns}/")
    };
    Warning {
        file: later.file.clone(),
        line: later.line,
        message: format!(
            "{kind} `{ns}{name}` defined again; this definition replaces the one at {earlier}"
        ),
    }
}
