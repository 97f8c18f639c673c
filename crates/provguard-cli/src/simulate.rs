//! `provguard simulate`.

use anyhow::{Context as _, bail};
use provguard::dynamics::{AnalyzeOptions, Ecosystem, analyze, sweep};
use serde_json::json;

use crate::cli::{FormatArg, SimulateArgs};
use crate::{EXIT_PASS, output};

pub fn run(args: &SimulateArgs) -> anyhow::Result<u8> {
    let ecosystem = Ecosystem::load(&args.ecosystem).context("cannot use the ecosystem file")?;
    let opts = AnalyzeOptions {
        watched: args.watch.clone(),
    };

    let Some(spec) = &args.sweep else {
        let analysis = analyze(&ecosystem, &opts)?;
        match args.format {
            FormatArg::Json => output::stdout_line(&serde_json::to_string_pretty(&analysis)?),
            FormatArg::Text => output::analysis(&analysis),
        }
        return Ok(EXIT_PASS);
    };

    let (param, values) = parse_sweep(spec)?;
    let points = sweep(&ecosystem, &param, &values, &opts)?;
    match args.format {
        FormatArg::Json => {
            let points: Vec<_> = points
                .iter()
                .map(|(value, analysis)| json!({ "value": value, "analysis": analysis }))
                .collect();
            let body = json!({ "parameter": param, "points": points });
            output::stdout_line(&serde_json::to_string_pretty(&body)?);
        }
        FormatArg::Text => output::sweep_table(&param, &points),
    }
    Ok(EXIT_PASS)
}

/// `PATH=FROM:TO:STEPS` into the path and `STEPS` evenly spaced values from `FROM` to `TO`.
fn parse_sweep(spec: &str) -> anyhow::Result<(String, Vec<f64>)> {
    let Some((param, range)) = spec.rsplit_once('=') else {
        bail!("`--sweep {spec}` is not of the form PATH=FROM:TO:STEPS");
    };
    let parts: Vec<&str> = range.split(':').collect();
    let [from, to, steps] = parts.as_slice() else {
        bail!("`--sweep {spec}`: the range `{range}` is not FROM:TO:STEPS");
    };
    let from: f64 = from
        .trim()
        .parse()
        .with_context(|| format!("`{from}` is not a number"))?;
    let to: f64 = to
        .trim()
        .parse()
        .with_context(|| format!("`{to}` is not a number"))?;
    let steps: usize = steps
        .trim()
        .parse()
        .with_context(|| format!("`{steps}` is not a whole number"))?;
    if !(2..=10_000).contains(&steps) {
        bail!("`--sweep {spec}`: STEPS must be from 2 to 10000, got `{steps}`");
    }
    let values = (0..steps)
        .map(|i| from + (to - from) * i as f64 / (steps - 1) as f64)
        .collect();
    Ok((param.trim().to_owned(), values))
}

#[cfg(test)]
mod tests {
    use super::parse_sweep;

    #[test]
    fn sweep_ranges_include_both_ends() {
        let (param, values) = parse_sweep("models.p.inputs.q.curated=0:1:5").unwrap();
        assert_eq!(param, "models.p.inputs.q.curated");
        assert_eq!(values, [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert!(parse_sweep("x=0:1").is_err());
        assert!(parse_sweep("x=0:1:1").is_err());
        assert!(parse_sweep("x").is_err());
    }
}
