//! `kapchart chart --session ID`: a session's live screen, with the quick-entry bar focused.

use crate::cli::screen::{Start, open_tui};
use crate::cli::{Ctx, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    session: i64,
}

pub fn run(ctx: &Ctx, args: Args) -> Outcome {
    open_tui(
        ctx,
        ctx.paths.chart.clone(),
        None,
        Start::Session(args.session),
    )
}
