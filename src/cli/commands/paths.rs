//! `kapchart paths`: where the chart, config, log and demo chart live.

use crate::cli::{Ctx, Outcome};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args, out: &mut impl Write) -> Outcome {
    let p = &ctx.paths;
    if args.json {
        let v = serde_json::json!({
            "chart": p.chart, "config": p.config, "log": p.log, "demo_chart": p.demo_chart,
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(out, "chart   {}", p.chart.display())?;
        writeln!(out, "config  {}", p.config.display())?;
        writeln!(out, "log     {}", p.log.display())?;
        writeln!(out, "demo    {}", p.demo_chart.display())?;
    }
    Ok(())
}
