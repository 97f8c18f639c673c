//! Timing of `provguard_dynamics::analyze` at a realistic ecosystem size: K = 8 models in
//! d = 24 dimensions (a 192 x 192 round map), each model fed by three others and by people.
//!
//! Run with `cargo bench -p provguard-dynamics --bench dynamics` (release). Two ecosystems:
//!
//! - **shared**: every input goes through one dense 24 x 24 transfer matrix, as when a file
//!   gives the ecosystem one `T` (and as `provguard scan` builds it, with `T = I`). The round
//!   map is `A (x) T` and its spectral radius `r(A) r(T)`.
//! - **own**: every input has its own dense 24 x 24 transfer matrix; the lineage graph is one
//!   strongly connected component, so `r(M)` needs the eigenvalues of the whole 192 x 192 map.
//!
//! For each it prints the median time of a full analysis (stable point, both spectral radii,
//! lineage, every influence), of the stable-point solve alone, and of `r(M)` computed as the
//! analysis does and from the dense eigenvalues of `M`, with their ratios.
#![expect(
    clippy::print_stdout,
    reason = "a benchmark binary reports its figures on stdout"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use provguard_dynamics::timing::{dense_spectral_radius, spectral_radius, stable_point};
use provguard_dynamics::{AnalyzeOptions, Ecosystem, Input, Model, analyze};

const MODELS: usize = 8;
const DIM: usize = 24;
const INPUTS_PER_MODEL: usize = 3;

/// `SplitMix64`, so that the benchmark ecosystems are the same on every run.
fn uniform(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1_u64 << 53) as f64
}

/// A dense random `DIM x DIM` matrix with spectral radius around 0.8.
fn transfer(state: &mut u64) -> Vec<Vec<f64>> {
    let spread = 1.6 / (DIM as f64).sqrt();
    (0..DIM)
        .map(|_| (0..DIM).map(|_| spread * (uniform(state) - 0.5)).collect())
        .collect()
}

/// The benchmark ecosystem; `shared` gives every input the same transfer matrix.
fn ecosystem(shared: bool) -> Ecosystem {
    let mut state = 42;
    let mut eco = Ecosystem::new(DIM);
    eco.human_target = (0..DIM).map(|_| uniform(&mut state) * 2.0 - 1.0).collect();
    let common = transfer(&mut state);
    for k in 0..MODELS {
        let mut model = Model::new(format!("m{k}"));
        model.human = 0.1 + 0.3 * uniform(&mut state);
        model.samples_per_round = Some(10_000.0);
        model.reward.eta = 0.2 + uniform(&mut state);
        let share = (1.0 - model.human) / INPUTS_PER_MODEL as f64;
        for step in 1..=INPUTS_PER_MODEL {
            let mut input = Input::new(format!("m{}", (k + step) % MODELS), share);
            input.curated = uniform(&mut state);
            input.transfer = Some(if shared {
                common.clone()
            } else {
                transfer(&mut state)
            });
            model.inputs.push(input);
        }
        eco.models.push(model);
    }
    eco
}

/// The median of `runs` timed calls of `f`, after three warm-up calls.
fn median<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    for _ in 0..3 {
        black_box(f());
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let opts = AnalyzeOptions::default();
    println!(
        "K = {MODELS} models, d = {DIM}, {INPUTS_PER_MODEL} inputs each: round map {n} x {n}",
        n = MODELS * DIM
    );
    for (name, shared) in [("shared", true), ("own", false)] {
        let eco = ecosystem(shared);
        let first = analyze(&eco, &opts).expect("benchmark ecosystem is valid");
        let reduced = spectral_radius(&eco).unwrap();
        let dense = dense_spectral_radius(&eco).unwrap();
        assert!(
            (reduced - dense).abs() <= 1e-9 * dense.max(1.0),
            "{name}: reduced r(M) {reduced} vs dense {dense}"
        );

        let runs = 41;
        let full = median(runs, || analyze(black_box(&eco), &opts).unwrap());
        let solve = median(runs, || stable_point(black_box(&eco)).unwrap());
        let radius = median(runs, || spectral_radius(black_box(&eco)).unwrap());
        let dense_radius = median(runs, || dense_spectral_radius(black_box(&eco)).unwrap());
        println!(
            "{name:>6} transfers: r(M) = {r:.4}, regime {regime:?}, {i} influences",
            r = first.spectral_radius,
            regime = first.regime,
            i = first.influence.len(),
        );
        println!(
            "        full analysis {:8.3} ms | stable-point solve {:7.3} ms | r(M) as analysed \
             {:7.3} ms | r(M) dense {:7.3} ms (dense / analysed = {:.1}x)",
            ms(full),
            ms(solve),
            ms(radius),
            ms(dense_radius),
            dense_radius.as_secs_f64() / radius.as_secs_f64(),
        );
    }
}
