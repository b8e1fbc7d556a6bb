//! Prints the default setup as one YAML stream (a quick look at the generator's output).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(&path)?,
        None => String::new(),
    };
    let config = runnerguard_generate::parse_config("runnerguard.toml", &text).map_err(|d| {
        d.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let files = runnerguard_generate::generate(&config)?;
    #[expect(clippy::print_stdout, reason = "an example that prints")]
    {
        for f in &files {
            println!("=== {}\n{}", f.path, f.contents);
        }
    }
    Ok(())
}
