pub async fn run(
    _c: &crate::config::Config,
    _b: Bench,
) -> Result<(), crate::platform::PlatformError> {
    Ok(())
}
#[derive(clap::Subcommand)]
pub enum Bench {
    Append,
}
