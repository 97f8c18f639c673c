//! Timing of a full `provguard_dynamics::analyze` on a realistic ecosystem size: K = 8 models,
//! d = 24, dense 24 x 24 transfer matrices (a 192 x 192 round map).
//!
//! Run with `cargo bench -p provguard-dynamics --bench dynamics`; it prints the time per
//! analysis (eigenvalues of `M` and `W`, the solve for `S = (I - M)^{-1}`, lineage and every
//! influence).

use std::hint::black_box;
use std::time::{Duration, Instant};

use provguard_dynamics::{AnalyzeOptions, Ecosystem, Input, Model, analyze};

const MODELS: usize = 8;
const DIM: usize = 24;
const INPUTS_PER_MODEL: usize = 3;

/// `SplitMix64`, so that the benchmark ecosystem is the same on every run.
fn uniform(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1_u64 << 53) as f64
}

fn ecosystem() -> Ecosystem {
    let mut state = 42;
    let mut eco = Ecosystem::new(DIM);
    eco.human_target = (0..DIM).map(|_| uniform(&mut state) * 2.0 - 1.0).collect();
    for k in 0..MODELS {
        let mut model = Model::new(format!("m{k}"));
        model.human = 0.1 + 0.3 * uniform(&mut state);
        model.samples_per_round = Some(10_000.0);
        model.reward.eta = 0.2 + uniform(&mut state);
        let share = (1.0 - model.human) / INPUTS_PER_MODEL as f64;
        for step in 1..=INPUTS_PER_MODEL {
            let mut input = Input::new(format!("m{}", (k + step) % MODELS), share);
            input.curated = uniform(&mut state);
            let spread = 1.6 / (DIM as f64).sqrt();
            input.transfer = Some(
                (0..DIM)
                    .map(|_| {
                        (0..DIM)
                            .map(|_| spread * (uniform(&mut state) - 0.5))
                            .collect()
                    })
                    .collect(),
            );
            model.inputs.push(input);
        }
        eco.models.push(model);
    }
    eco
}

#[expect(
    clippy::print_stdout,
    reason = "a benchmark binary reports its figures on stdout"
)]
fn main() {
    let eco = ecosystem();
    let opts = AnalyzeOptions::default();
    let first = analyze(&eco, &opts).expect("benchmark ecosystem is valid");
    println!(
        "ecosystem: K = {MODELS}, d = {DIM}, round map {n} x {n}, r(M) = {r:.4}, regime {regime:?}, {i} influences",
        n = MODELS * DIM,
        r = first.spectral_radius,
        regime = first.regime,
        i = first.influence.len(),
    );

    // Warm up, then time batches and report the median time per analysis.
    for _ in 0..3 {
        black_box(analyze(black_box(&eco), &opts).unwrap());
    }
    let runs = 20;
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(analyze(black_box(&eco), &opts).unwrap());
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "analyze: median {:.2} ms, min {:.2} ms, max {:.2} ms per solve ({runs} runs)",
        times[runs / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[runs - 1].as_secs_f64() * 1e3,
    );
}
