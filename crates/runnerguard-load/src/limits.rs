//! Decoding limits a user can raise, each through an environment variable named in the error
//! that reports it (docs/input-semantics.md lists them).

/// A limit on decoding, its environment variable, default and ceiling.
pub(crate) struct Limit {
    /// The environment variable that sets it.
    pub(crate) env: &'static str,
    /// The value without the variable.
    pub(crate) default: usize,
    /// The highest value accepted (a higher setting is lowered to it).
    pub(crate) ceiling: usize,
}

/// Nesting depth of a YAML document (mappings and sequences, List items included).
///
/// The tree is walked recursively in several places (conversion to JSON, the typed decode),
/// so the ceiling keeps those walks within a thread's stack.
pub(crate) const MAX_DEPTH: Limit = Limit {
    env: "RUNNERGUARD_MAX_DEPTH",
    default: 128,
    ceiling: 512,
};

/// Bytes of scalar text (keys, strings, numbers) in one YAML file.
pub(crate) const MAX_SCALAR_BYTES: Limit = Limit {
    env: "RUNNERGUARD_MAX_SCALAR_BYTES",
    default: 64 * 1024 * 1024,
    ceiling: usize::MAX,
};

/// Bytes of one input file (or of standard input). Reading stops one byte past it, so a
/// file that never ends (`/dev/zero` behind a link) costs at most this much memory.
pub(crate) const MAX_FILE_BYTES: Limit = Limit {
    env: "RUNNERGUARD_MAX_FILE_BYTES",
    default: 256 * 1024 * 1024,
    ceiling: usize::MAX,
};

/// `[[runners]]` entries in one runner configuration. Each entry is checked in its own
/// namespace and may yield a finding per rule, so the audit's memory grows by about 11 KB per
/// entry (1 MB of 15,000 entries peaks at 172 MB); the limit bounds that at about 1.1 GB
/// (100,000 entries measured 1.14 GB).
/// The runner itself has no such limit, but a manager polling GitLab for 100,000 runners is
/// not a configuration anyone runs.
pub(crate) const MAX_RUNNERS: Limit = Limit {
    env: "RUNNERGUARD_MAX_RUNNERS",
    default: 100_000,
    ceiling: usize::MAX,
};

impl Limit {
    /// The value in force: the variable's when set to a positive integer, else the default.
    pub(crate) fn get(&self) -> usize {
        std::env::var(self.env)
            .ok()
            .and_then(|v| v.trim().replace('_', "").parse::<usize>().ok())
            .filter(|&v| v > 0)
            .map_or(self.default, |v| v.min(self.ceiling))
    }
}
