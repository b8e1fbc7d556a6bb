//! `gen-inventory`: writes a large synthetic cluster inventory for benchmarks and load tests.
//!
//! What it writes is described in the library's documentation (`src/lib.rs`): one JSON
//! `List` of namespaces, service accounts, roles and bindings. The same `--seed` always gives
//! the same bytes.
//!
//! ```text
//! cargo run --release -p gen-inventory -- --namespaces 10000 --bindings-per-namespace 10 \
//!     --seed 42 --out /tmp/inv.json
//! ```

#![expect(
    clippy::print_stderr,
    reason = "dev tool: the summary goes to stderr, the inventory to stdout or --out"
)]

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::PathBuf;

use clap::Parser;
use gen_inventory::Options;

/// Writes a synthetic cluster inventory (a JSON `List`) for benchmarks.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// How many namespaces (`ns-0` ... `ns-<N-1>`).
    #[arg(long, default_value_t = 10_000)]
    namespaces: usize,
    /// How many role bindings in each namespace.
    #[arg(long, default_value_t = 10)]
    bindings_per_namespace: usize,
    /// Seed of the pseudo-random choices; the same seed gives the same output.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    let options = Options {
        namespaces: args.namespaces,
        bindings_per_namespace: args.bindings_per_namespace,
        seed: args.seed,
    };
    let (counts, bytes) = match &args.out {
        Some(path) => gen_inventory::write(&options, BufWriter::new(File::create(path)?))?,
        None => gen_inventory::write(&options, BufWriter::new(io::stdout().lock()))?,
    };
    eprintln!(
        "gen-inventory: {} items, {bytes} bytes: {} Namespaces, {} ServiceAccounts, {} Roles, \
         {} RoleBindings, {} ClusterRoles, {} ClusterRoleBindings ({} subjects)",
        counts.items(),
        counts.namespaces,
        counts.service_accounts,
        counts.roles,
        counts.role_bindings,
        counts.cluster_roles,
        counts.cluster_role_bindings,
        counts.subjects,
    );
    Ok(())
}
