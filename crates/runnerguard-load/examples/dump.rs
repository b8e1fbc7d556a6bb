//! Prints what the loader reads from the given paths (a debugging aid).
#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a debugging example prints"
)]

fn main() {
    let inputs: Vec<runnerguard_load::Input> = std::env::args()
        .skip(1)
        .map(|a| runnerguard_load::Input::parse(&a))
        .collect();
    match runnerguard_load::load_inputs(&inputs) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("warning: {w}");
            }
            println!("{:#?}", loaded.inventory);
        }
        Err(e) => eprintln!("{e:?}"),
    }
}
