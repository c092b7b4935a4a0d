//! `spin-test-host`: serve the app by hand the way `spin up` would, for manual checks and soak
//! tests on machines without the Spin CLI.
//!
//! Usage: spin-test-host [--manifest spin.toml] [--listen 127.0.0.1:3000] [--build]

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use spin_test_host::App;

fn main() -> Result<()> {
    let mut manifest = PathBuf::from("spin.toml");
    let mut listen = "127.0.0.1:3000".to_owned();
    let mut build = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--manifest" => manifest = args.next().context("--manifest needs a path")?.into(),
            "--listen" => listen = args.next().context("--listen needs an address")?,
            "--build" => build = true,
            other => bail!("unknown argument {other:?}; usage: spin-test-host [--manifest spin.toml] [--listen 127.0.0.1:3000] [--build]"),
        }
    }
    if build {
        App::build(&manifest)?;
    }
    let app = App::load(&manifest)?;
    let server = app.serve_on(listen.parse().context("--listen")?, &[])?;
    println!("Logging component stdio to {:?}", server.log_dir());
    println!("Serving {}", server.url());
    println!("Available Routes:");
    println!("  {}: {}{}", app.manifest().component_id, server.url(), app.manifest().route);
    server.wait();
    Ok(())
}
