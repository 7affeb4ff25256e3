//! `kapchart completions SHELL`: the shell's completions for every command.

use crate::cli::{Cli, Outcome};
use clap::CommandFactory;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    shell: clap_complete::Shell,
}

pub fn run(args: Args, out: &mut impl Write) -> Outcome {
    clap_complete::generate(args.shell, &mut Cli::command(), "kapchart", out);
    Ok(())
}
