//! A seeded generator that scales the shared corpus to any size, for benchmarks.
//!
//! The shared corpus (`../shared/data`) holds five models' answers to 805 instructions and
//! several sets of human-written texts: 12 MB, too small to measure a scan by. [`Generator`]
//! draws records from it, one JSON object per line (`{"id": "...", "text": "..."}`, the
//! one schema every peer tool reads as it is), until the output reaches the size asked for.
//! Each record is, by the shares in [`Mix`]:
//!
//! - a model's answer copied exactly, or with its white space and case changed (an exact
//!   match after normalisation);
//! - a model's answer edited: words replaced, the text cut short, a chatty opening added, or
//!   a sentence dropped (a near copy);
//! - two models' answers joined (a splice);
//! - a human text that is registered (expert answers of the self-instruct set, the `src` side
//!   of the `CoEdIT` pairs) or not (the Alpaca seed tasks' answers, the `CoEdIT` `tgt` side);
//! - a model's answer with its words shuffled: a text no source wrote (unknown).
//!
//! The same seed and size give the same bytes on every machine: the random numbers come from
//! the `SplitMix64` generator written here, not from a crate whose stream could change.
#![deny(missing_docs)]

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use serde_json::Value;

/// The texts a generated corpus is made of.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Model answers, by model (the five `models/*.jsonl` files' `output`).
    pub models: Vec<(String, Vec<String>)>,
    /// Human texts that the benchmark registers as human sources.
    pub human_registered: Vec<String>,
    /// Human texts that no source registers.
    pub human_unregistered: Vec<String>,
}

impl Corpus {
    /// Loads the corpus from the shared data folder `dir` (`../shared/data`).
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let mut corpus = Self::default();
        let mut names: Vec<_> = fs_err::read_dir(dir.join("models"))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        names.sort();
        for path in names {
            let model = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let outputs = strings(&path, |v| v.get("output").cloned().into_iter().collect())?;
            corpus.models.push((model, outputs));
        }

        let instance_outputs = |v: &Value| -> Vec<Value> {
            v.get("instances")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|i| i.get("output").cloned()).collect())
                .unwrap_or_default()
        };
        let human = dir.join("human");
        corpus.human_registered.extend(strings(
            &human.join("self_instruct_user_oriented.jsonl"),
            instance_outputs,
        )?);
        let coedit = human.join("coedit_paraphrase.jsonl");
        corpus.human_registered.extend(strings(&coedit, |v| {
            v.get("src").cloned().into_iter().collect()
        })?);
        corpus.human_unregistered.extend(strings(
            &human.join("alpaca_seed_tasks.jsonl"),
            instance_outputs,
        )?);
        corpus.human_unregistered.extend(strings(&coedit, |v| {
            v.get("tgt").cloned().into_iter().collect()
        })?);
        anyhow::ensure!(
            !corpus.models.is_empty() && !corpus.human_registered.is_empty(),
            "{}: no model answers or human texts found",
            dir.display()
        );
        Ok(corpus)
    }
}

/// The non-empty strings `pick` takes from each line of the JSON Lines file `path`.
fn strings(path: &Path, pick: impl Fn(&Value) -> Vec<Value>) -> anyhow::Result<Vec<String>> {
    let text = fs_err::read_to_string(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not JSON", path.display(), i + 1))?;
        out.extend(
            pick(&value)
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .filter(|s| !s.trim().is_empty()),
        );
    }
    Ok(out)
}

/// Shares of the kinds of record, in percent; they add up to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    /// A model's answer, exact (after normalisation).
    pub exact: u32,
    /// A model's answer, edited.
    pub edited: u32,
    /// Two models' answers joined.
    pub spliced: u32,
    /// A registered human text.
    pub human_registered: u32,
    /// A human text no source registered.
    pub human_unregistered: u32,
    /// A model's answer with its words shuffled.
    pub unknown: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Self {
            exact: 35,
            edited: 20,
            spliced: 5,
            human_registered: 20,
            human_unregistered: 5,
            unknown: 15,
        }
    }
}

/// `SplitMix64` (Steele, Lea and Flood, 2014): `state += 0x9E3779B97F4A7C15`, then two
/// xor-shift-multiply rounds. Small, fast and the same everywhere.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator started from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`); the modulo bias is below `n / 2^64`, nothing here.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent / 100`.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }
}

/// Words put in place of replaced words in edited copies.
const REPLACEMENTS: [&str; 12] = [
    "really", "quite", "also", "thus", "many", "some", "simply", "often", "new", "main", "great",
    "key",
];

/// Openings added to edited copies, as a chat interface or a copy-paste adds them.
const OPENINGS: [&str; 4] = [
    "Sure! ",
    "Here is the answer you asked for:\n\n",
    "Of course. ",
    "Great question! ",
];

/// Draws records from a [`Corpus`].
#[derive(Debug, Clone)]
pub struct Generator<'c> {
    corpus: &'c Corpus,
    mix: Mix,
    rng: SplitMix64,
    seed: u64,
    next_id: u64,
}

impl<'c> Generator<'c> {
    /// A generator over `corpus` with the default [`Mix`], started from `seed`.
    #[must_use]
    pub fn new(corpus: &'c Corpus, seed: u64) -> Self {
        Self {
            corpus,
            mix: Mix::default(),
            rng: SplitMix64::new(seed),
            seed,
            next_id: 0,
        }
    }

    /// The same generator with another mix.
    #[must_use]
    pub fn with_mix(mut self, mix: Mix) -> Self {
        self.mix = mix;
        self
    }

    /// The next record's text.
    pub fn next_text(&mut self) -> String {
        let m = self.mix;
        let roll = self.rng.below(100) as u32;
        let mut edge = m.exact;
        if roll < edge {
            let text = self.model_answer().to_owned();
            return if self.rng.chance(20) {
                respell(&text)
            } else {
                text
            };
        }
        edge += m.edited;
        if roll < edge {
            let text = self.model_answer().to_owned();
            return self.edit(&text);
        }
        edge += m.spliced;
        if roll < edge {
            let a = self.model_answer().to_owned();
            let b = self.model_answer();
            return format!("{a}\n\n{b}");
        }
        edge += m.human_registered;
        if roll < edge {
            let pool = &self.corpus.human_registered;
            return pool[self.rng.below(pool.len())].clone();
        }
        edge += m.human_unregistered;
        if roll < edge && !self.corpus.human_unregistered.is_empty() {
            let pool = &self.corpus.human_unregistered;
            return pool[self.rng.below(pool.len())].clone();
        }
        let text = self.model_answer().to_owned();
        self.shuffle_words(&text)
    }

    /// Writes records to `out` until at least `bytes` are written; returns the bytes and
    /// records written.
    pub fn write(&mut self, out: &mut impl Write, bytes: u64) -> anyhow::Result<(u64, u64)> {
        let mut written = 0u64;
        let mut records = 0u64;
        let mut line = Vec::with_capacity(1 << 16);
        while written < bytes {
            let text = self.next_text();
            let id = format!("gen-{}-{}", self.seed, self.next_id);
            self.next_id += 1;
            line.clear();
            serde_json::to_writer(&mut line, &serde_json::json!({"id": id, "text": text}))?;
            line.push(b'\n');
            out.write_all(&line)?;
            written += line.len() as u64;
            records += 1;
        }
        Ok((written, records))
    }

    fn model_answer(&mut self) -> &'c str {
        let models = &self.corpus.models;
        let (_, answers) = &models[self.rng.below(models.len())];
        &answers[self.rng.below(answers.len())]
    }

    /// One edit of four kinds, as people make them when they reuse a model's answer.
    fn edit(&mut self, text: &str) -> String {
        let words: Vec<&str> = text.split(' ').collect();
        match self.rng.below(4) {
            // Replace about one word in twenty.
            0 => words
                .iter()
                .map(|w| {
                    if self.rng.chance(5) {
                        REPLACEMENTS[self.rng.below(REPLACEMENTS.len())]
                    } else {
                        w
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
            // Keep the first 50 to 90 percent of the words.
            1 => {
                let keep = words.len() * (50 + self.rng.below(41)) / 100;
                words[..keep.max(1)].join(" ")
            }
            // Add a chatty opening.
            2 => format!("{}{text}", OPENINGS[self.rng.below(OPENINGS.len())]),
            // Drop one sentence.
            _ => {
                let sentences: Vec<&str> = text.split_inclusive(". ").collect();
                if sentences.len() < 2 {
                    return text.to_owned();
                }
                let drop = self.rng.below(sentences.len());
                sentences
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != drop)
                    .map(|(_, s)| *s)
                    .collect()
            }
        }
    }

    /// The words of `text` in a random order (Fisher-Yates).
    fn shuffle_words(&mut self, text: &str) -> String {
        let mut words: Vec<&str> = text.split_whitespace().collect();
        for i in (1..words.len()).rev() {
            let j = self.rng.below(i + 1);
            words.swap(i, j);
        }
        words.join(" ")
    }
}

/// The same text with its white space and case changed: equal after normalisation.
fn respell(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str("  ");
    for word in text.split(' ') {
        out.push_str(&word.to_uppercase());
        out.push_str("  ");
    }
    out
}

/// Parses a size such as `1G`, `200M`, `64K` or `1000` (bytes; powers of 1000, as disks and
/// throughput figures count them).
pub fn parse_size(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .with_context(|| format!("`{s}` is not a size such as `1G`, `200M` or `5000`"))?;
    let scale = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" => 1_000,
        "M" | "MB" => 1_000_000,
        "G" | "GB" => 1_000_000_000,
        other => anyhow::bail!("unknown size unit `{other}` in `{s}`"),
    };
    Ok(n * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Corpus {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        Corpus::load(&dir).expect("the shared corpus lies beside the repository")
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let corpus = corpus();
        let run = |seed| {
            let mut out = Vec::new();
            Generator::new(&corpus, seed)
                .write(&mut out, 200_000)
                .unwrap();
            out
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
        assert!(a.len() >= 200_000);
    }

    #[test]
    fn records_are_json_with_text_and_the_mix_is_kept() {
        let corpus = corpus();
        let mut out = Vec::new();
        let (bytes, records) = Generator::new(&corpus, 1)
            .write(&mut out, 2_000_000)
            .unwrap();
        assert_eq!(bytes as usize, out.len());
        let models: std::collections::HashSet<&str> = corpus
            .models
            .iter()
            .flat_map(|(_, a)| a.iter().map(String::as_str))
            .collect();
        let human: std::collections::HashSet<&str> =
            corpus.human_registered.iter().map(String::as_str).collect();
        let (mut exact, mut human_hits) = (0u64, 0u64);
        for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let v: Value = serde_json::from_slice(line).unwrap();
            let text = v["text"].as_str().unwrap();
            exact += u64::from(models.contains(text));
            human_hits += u64::from(human.contains(text));
        }
        // 35% exact, of which 80% are not respelled: about 28% of records verbatim.
        let share = exact as f64 / records as f64;
        assert!((0.2..0.36).contains(&share), "verbatim model share {share}");
        let share = human_hits as f64 / records as f64;
        assert!(
            (0.14..0.26).contains(&share),
            "registered human share {share}"
        );
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1G").unwrap(), 1_000_000_000);
        assert_eq!(parse_size("200M").unwrap(), 200_000_000);
        assert_eq!(parse_size("5000").unwrap(), 5000);
        assert!(parse_size("12X").is_err());
        assert!(parse_size("M").is_err());
    }
}
