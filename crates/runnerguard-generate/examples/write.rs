//! Writes the setup of a configuration (default: the built-in one) into a directory.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().ok_or("usage: write DIR [CONFIG]")?;
    let text = match args.next() {
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
    runnerguard_generate::write_dir(std::path::Path::new(&out), &files, false)?;
    Ok(())
}
