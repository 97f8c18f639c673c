//! The accuracy experiment of near-copy lineage, shared by the benchmark
//! (`benches/lineage_accuracy.rs`, all of it, printed) and the test (`tests/accuracy.rs`, a
//! sample, asserted).
//!
//! From the real corpus in `../shared/data` it registers three models (gpt4, claude-2,
//! Llama-3-70B: their `output`s) and a human corpus (every other expert answer of
//! `human/self_instruct_user_oriented.jsonl` and every other distinct `src` of
//! `human/coedit_paraphrase.jsonl`), and keeps back two models (Mixtral-8x7B, the
//! unregistered model, and text-davinci-003) and the other half of the human texts. A seeded
//! generator then draws registered texts, edits them by kind, and looks every edited text up
//! exact-first ([`attribute_texts`]); the kept-back texts are looked up as they are.
//!
//! The figures, per edit kind and length bucket (tokens of the looked-up text):
//!
//! - recall: the share of edited texts whose candidates are exactly their sources (both
//!   sources for a splice);
//! - precision: of the edited texts attributed to anything, the share whose candidates are
//!   all among their sources;
//! - for kept-back texts, the share attributed to a registered model (a human text taken for
//!   a model's) or, for the unregistered models, to any registered source.
//!
//! Kept-back texts with the same words in the same order as a registered text are set apart
//! (they are the same text; a short answer or a textbook function is often written alike).
//!
//! Every text is looked up with its prompt (instruction and input) as context, as a scan
//! looks up a record's response side with its prompt side.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use provguard_lineage::near::DEFAULT_FALSE_POSITIVE_RATE;
use provguard_lineage::shingle::tokens;
use provguard_lineage::{
    Evidence, Fingerprint, Lineage, MatchKind, NearConfig, NearIndex, RecordMatch, Shingler,
    SourceFilter, SourceId, attribute_texts, normalise,
};

/// Texts of at least this many tokens are the ones the targets apply to: shorter texts have
/// too few shingles (a 19-token text has 16 of length 4) for one edit not to sway them.
pub const TARGET_MIN_TOKENS: usize = 20;

#[path = "edits.rs"]
mod edits;

use edits::edited;
pub use edits::sentences;

/// The registered sources, by id.
pub const SOURCES: [&str; 4] = ["human", "gpt4", "claude-2", "Meta-Llama-3-70B-Instruct"];

/// Source id of the registered human corpus.
pub const HUMAN: SourceId = 0;

/// The models kept back, unregistered.
pub const UNREGISTERED: [&str; 2] = ["Mixtral-8x7B-Instruct-v0.1", "text_davinci_003"];

/// The folder of the shared corpus, beside the repository.
#[must_use]
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// Length buckets of a looked-up text, by its token count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bucket {
    /// Fewer than [`TARGET_MIN_TOKENS`] tokens.
    Short,
    /// [`TARGET_MIN_TOKENS`] to 99 tokens.
    Medium,
    /// 100 tokens or more.
    Long,
}

impl Bucket {
    /// The bucket of `text`.
    #[must_use]
    pub fn of(text: &str) -> Self {
        match tokens(&normalise(text).text).len() {
            n if n < TARGET_MIN_TOKENS => Self::Short,
            n if n < 100 => Self::Medium,
            _ => Self::Long,
        }
    }

    /// The bucket's label.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Short => "<20",
            Self::Medium => "20-99",
            Self::Long => ">=100",
        }
    }

    /// True for the buckets the targets apply to.
    #[must_use]
    pub fn is_target(self) -> bool {
        self != Self::Short
    }
}

/// The kinds of edit applied to registered texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Edit {
    /// White space re-wrapped: spaces doubled, turned into tabs, CRLF and line breaks.
    Whitespace,
    /// Unicode variants: no-break and thin spaces, zero-width spaces, soft hyphens, full-width
    /// letters, decomposed accents, ligatures, a byte-order mark.
    Unicode,
    /// Upper case, lower case, or every word capitalised.
    Case,
    /// The first half of the words kept.
    TruncateHalf,
    /// One sentence dropped.
    SentenceDropped,
    /// One sentence replaced by a human sentence.
    SentenceReplaced,
    /// A chat-style prefix, suffix, or both, added.
    PrefixSuffix,
    /// Ten percent of the words replaced by other words.
    Words10,
    /// The outputs of two registered models joined.
    Splice,
}

impl Edit {
    /// Every kind, in report order.
    pub const ALL: [Self; 9] = [
        Self::Whitespace,
        Self::Unicode,
        Self::Case,
        Self::TruncateHalf,
        Self::SentenceDropped,
        Self::SentenceReplaced,
        Self::PrefixSuffix,
        Self::Words10,
        Self::Splice,
    ];

    /// The kind's label.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Whitespace => "whitespace",
            Self::Unicode => "unicode",
            Self::Case => "case",
            Self::TruncateHalf => "truncate-half",
            Self::SentenceDropped => "sentence-dropped",
            Self::SentenceReplaced => "sentence-replaced",
            Self::PrefixSuffix => "prefix-suffix",
            Self::Words10 => "words-10%",
            Self::Splice => "splice",
        }
    }

    /// True for the variants exact fingerprints must catch.
    #[must_use]
    pub fn is_variant(self) -> bool {
        matches!(self, Self::Whitespace | Self::Unicode | Self::Case)
    }
}

/// splitmix64: a small seeded generator, the same on every machine.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        // z_{i+1} = z_i + 0x9E3779B97F4A7C15, then two xor-shift-multiply rounds.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        // Lemire's multiply-shift: floor(x * n / 2^64).
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A response and the prompt it answers (empty for texts that answer none).
#[derive(Debug, Clone)]
pub struct Text {
    /// The response.
    pub text: String,
    /// The prompt side: instruction and input.
    pub prompt: String,
}

/// The corpus, split into registered and kept-back texts.
pub struct Corpus {
    /// Registered texts by source id (see [`SOURCES`]).
    pub registered: Vec<Vec<Text>>,
    /// Kept-back human texts.
    pub human_held_out: Vec<Text>,
    /// Kept-back models' texts, by name.
    pub unregistered: Vec<(String, Vec<Text>)>,
    /// Words to put in for replaced ones, from the kept-back human texts.
    pub vocabulary: Vec<String>,
    /// Sentences to put in for replaced ones, from the kept-back human texts.
    pub sentences: Vec<String>,
}

fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read `{}` ({e}); the accuracy experiment needs ../shared/data beside the \
             repository",
            path.display()
        )
    });
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("the shared corpus is JSON Lines"))
        .collect()
}

/// The non-blank texts at `pointer`, with the prompt the other pointers give (joined by a
/// blank line).
fn texts(values: &[serde_json::Value], pointer: &str, prompt: &[&str]) -> Vec<Text> {
    let string = |v: &serde_json::Value, p: &str| v.pointer(p)?.as_str().map(str::to_owned);
    values
        .iter()
        .filter_map(|v| {
            let text = string(v, pointer)?;
            let prompt: Vec<String> = prompt.iter().filter_map(|p| string(v, p)).collect();
            Some(Text {
                text,
                prompt: prompt.join("\n\n"),
            })
        })
        .filter(|t| !t.text.trim().is_empty())
        .collect()
}

/// Distinct texts by normalised form, in first-seen order.
fn distinct(texts: Vec<Text>) -> Vec<Text> {
    let mut seen = HashSet::new();
    texts
        .into_iter()
        .filter(|t| seen.insert(normalise(&t.text).text.into_owned()))
        .collect()
}

fn halves(texts: Vec<Text>) -> (Vec<Text>, Vec<Text>) {
    let mut even = Vec::new();
    let mut odd = Vec::new();
    for (i, t) in texts.into_iter().enumerate() {
        if i % 2 == 0 { &mut even } else { &mut odd }.push(t);
    }
    (even, odd)
}

impl Corpus {
    /// Reads the corpus from `dir` (the shared `data` folder).
    ///
    /// # Panics
    ///
    /// When a file of the corpus cannot be read.
    #[must_use]
    pub fn load(dir: &Path) -> Self {
        let model = |name: &str| {
            distinct(texts(
                &read_jsonl(&dir.join(format!("models/{name}.jsonl"))),
                "/output",
                &["/instruction"],
            ))
        };
        let experts = distinct(texts(
            &read_jsonl(&dir.join("human/self_instruct_user_oriented.jsonl")),
            "/instances/0/output",
            &["/instruction", "/instances/0/input"],
        ));
        // A paraphrase pair's `src` is the text a person wrote, not an answer to a prompt.
        let coedit = distinct(texts(
            &read_jsonl(&dir.join("human/coedit_paraphrase.jsonl")),
            "/src",
            &[],
        ));
        let (experts_in, experts_out) = halves(experts);
        let (coedit_in, coedit_out) = halves(coedit);

        let mut human = experts_in;
        human.extend(coedit_in);
        let mut registered = vec![human];
        registered.extend(SOURCES[1..].iter().map(|m| model(m)));

        let mut human_held_out = experts_out;
        human_held_out.extend(coedit_out);
        let unregistered = UNREGISTERED
            .iter()
            .map(|m| ((*m).to_owned(), model(m)))
            .collect();

        let mut vocabulary: Vec<String> = human_held_out
            .iter()
            .flat_map(|t| t.text.split_whitespace())
            .filter(|w| w.len() > 2 && w.chars().all(char::is_alphabetic))
            .map(str::to_lowercase)
            .collect();
        vocabulary.sort_unstable();
        vocabulary.dedup();
        let sentences = human_held_out
            .iter()
            .flat_map(|t| sentences(&t.text))
            .filter(|s| s.split_whitespace().count() >= 5)
            .map(|s| s.trim().to_owned())
            .collect();

        Self {
            registered,
            human_held_out,
            unregistered,
            vocabulary,
            sentences,
        }
    }
}

impl Corpus {
    /// The same corpus with only the kept-back texts the targets apply to (at least
    /// [`TARGET_MIN_TOKENS`] tokens), for quicker runs.
    #[must_use]
    pub fn targets_only(self) -> Self {
        let long = |texts: Vec<Text>| -> Vec<Text> {
            texts
                .into_iter()
                .filter(|t| Bucket::of(&t.text).is_target())
                .collect()
        };
        Self {
            human_held_out: long(self.human_held_out),
            unregistered: self
                .unregistered
                .into_iter()
                .map(|(name, texts)| (name, long(texts)))
                .collect(),
            ..self
        }
    }
}

/// The exact evidence and the near index of the registered texts.
pub struct Registry {
    /// Fingerprints to the sources that registered them.
    pub exact: ExactEvidence,
    /// One Bloom filter per source.
    pub index: NearIndex,
}

/// Exact fingerprints of the registered texts.
#[derive(Clone)]
pub struct ExactEvidence(HashMap<Fingerprint, Vec<SourceId>>);

impl Evidence for ExactEvidence {
    fn sources_of(&self, fingerprint: &Fingerprint) -> &[SourceId] {
        self.0.get(fingerprint).map_or(&[], Vec::as_slice)
    }
}

impl Registry {
    /// Registers every registered text of `corpus` with shingles of `shingler`.
    ///
    /// # Panics
    ///
    /// Never: the filters are made with the index's own shingler.
    #[must_use]
    pub fn build(corpus: &Corpus, shingler: &Shingler, config: NearConfig) -> Self {
        let mut exact: HashMap<Fingerprint, Vec<SourceId>> = HashMap::new();
        let mut index = NearIndex::new(shingler.clone(), config);
        for (id, texts) in corpus.registered.iter().enumerate() {
            let id = id as SourceId;
            let mut all = Vec::new();
            for text in texts {
                let sources = exact.entry(Fingerprint::of_text(&text.text).0).or_default();
                if !sources.contains(&id) {
                    sources.push(id);
                }
                all.extend(shingler.shingles(&text.text));
            }
            let filter = SourceFilter::from_shingles(shingler, &all, DEFAULT_FALSE_POSITIVE_RATE)
                .expect("the default rate is valid");
            index.add(id, filter).expect("same shingler");
        }
        Self {
            exact: ExactEvidence(exact),
            index,
        }
    }
}

/// One edited text and the sources it came from.
pub struct Item {
    /// The edit applied.
    pub edit: Edit,
    /// The edited text.
    pub text: String,
    /// The prompt of the text (of both, for a splice).
    pub prompt: String,
    /// The sources of the text, sorted.
    pub truth: Vec<SourceId>,
}

const PREFIXES: [&str; 5] = [
    "Sure! ",
    "Sure! Here is my answer:\n\n",
    "Certainly! Here's what you asked for.\n",
    "Of course. ",
    "Great question! ",
];

const SUFFIXES: [&str; 4] = [
    "\n\nI hope this helps!",
    "\n\nLet me know if you have any other questions.",
    " Hope that helps, and good luck!",
    "\n\nIs there anything else I can help you with?",
];

/// The sources of every registered text, by normalised text.
fn owners(corpus: &Corpus) -> HashMap<String, Vec<SourceId>> {
    let mut owners: HashMap<String, Vec<SourceId>> = HashMap::new();
    for (id, texts) in corpus.registered.iter().enumerate() {
        for text in texts {
            let sources = owners
                .entry(normalise(&text.text).text.into_owned())
                .or_default();
            if !sources.contains(&(id as SourceId)) {
                sources.push(id as SourceId);
            }
        }
    }
    owners
}

/// Draws `per_kind` edited texts of every kind, the same for a given seed.
///
/// A text is drawn by picking a registered source uniformly, then one of its texts; a
/// splice joins the texts of two different registered models, each of at least
/// [`TARGET_MIN_TOKENS`] tokens (a shorter part cannot be attributed by its shingles). A
/// text's sources are every
/// source that registered it (a short answer such as "Positive" may have several).
#[must_use]
pub fn draw(corpus: &Corpus, seed: u64, per_kind: usize) -> Vec<Item> {
    let owners = owners(corpus);
    let truth_of = |texts: &[&Text]| {
        let mut truth: Vec<SourceId> = texts
            .iter()
            .flat_map(|t| owners[normalise(&t.text).text.as_ref()].iter().copied())
            .collect();
        truth.sort_unstable();
        truth.dedup();
        truth
    };
    let mut rng = Rng::new(seed);
    let mut items = Vec::new();
    for edit in Edit::ALL {
        let mut made = 0;
        while made < per_kind {
            if edit == Edit::Splice {
                let a = 1 + rng.below(3);
                let b = 1 + (a + rng.below(2)) % 3;
                let head = rng.pick(&corpus.registered[a]);
                let tail = rng.pick(&corpus.registered[b]);
                if !Bucket::of(&head.text).is_target() || !Bucket::of(&tail.text).is_target() {
                    continue;
                }
                items.push(Item {
                    edit,
                    text: format!("{}\n\n{}", head.text, tail.text),
                    prompt: format!("{}\n\n{}", head.prompt, tail.prompt),
                    truth: truth_of(&[head, tail]),
                });
                made += 1;
                continue;
            }
            let source = rng.below(corpus.registered.len());
            let text = rng.pick(&corpus.registered[source]);
            if let Some(edited) = edited(edit, &text.text, corpus, &mut rng) {
                items.push(Item {
                    edit,
                    text: edited,
                    prompt: text.prompt.clone(),
                    truth: truth_of(&[text]),
                });
                made += 1;
            }
        }
    }
    items
}

/// Counts of one edit kind and bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Edited texts.
    pub total: usize,
    /// Attributed to exactly their sources.
    pub correct: usize,
    /// Attributed to anything.
    pub attributed: usize,
    /// Attributed to sources all among their sources.
    pub precise: usize,
    /// Attributed by shingles (near or spliced).
    pub near: usize,
}

impl Tally {
    /// `correct / total`.
    #[must_use]
    pub fn recall(&self) -> f64 {
        ratio(self.correct, self.total)
    }

    /// `precise / attributed`; 1 when nothing was attributed.
    #[must_use]
    pub fn precision(&self) -> f64 {
        if self.attributed == 0 {
            1.0
        } else {
            ratio(self.precise, self.attributed)
        }
    }

    fn add(&mut self, other: &Self) {
        self.total += other.total;
        self.correct += other.correct;
        self.attributed += other.attributed;
        self.precise += other.precise;
        self.near += other.near;
    }
}

/// Counts of kept-back texts of one group and bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FalseTally {
    /// Texts looked up.
    pub total: usize,
    /// Attributed to a registered model (any of the candidates).
    pub to_model: usize,
    /// Attributed to the registered human corpus only.
    pub to_human: usize,
    /// The same words in the same order as a registered text: not counted in `total`.
    pub identical: usize,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Every figure of one run.
#[derive(Debug, Default)]
pub struct Results {
    /// Edited texts by kind and bucket.
    pub edits: BTreeMap<(Edit, Bucket), Tally>,
    /// Kept-back texts by group (`human` or a model's name) and bucket.
    pub held_out: BTreeMap<(String, Bucket), FalseTally>,
}

impl Results {
    /// The tally of an edit kind over the target buckets (at least [`TARGET_MIN_TOKENS`]).
    #[must_use]
    pub fn target(&self, edit: Edit) -> Tally {
        let mut t = Tally::default();
        for ((e, b), tally) in &self.edits {
            if *e == edit && b.is_target() {
                t.add(tally);
            }
        }
        t
    }

    /// The tally of a kept-back group over the target buckets.
    #[must_use]
    pub fn held_out_target(&self, group: &str) -> FalseTally {
        let mut t = FalseTally::default();
        for ((g, b), tally) in &self.held_out {
            if g == group && b.is_target() {
                t.total += tally.total;
                t.to_model += tally.to_model;
                t.to_human += tally.to_human;
                t.identical += tally.identical;
            }
        }
        t
    }
}

/// Looks a text up exact-first, with its prompt as context.
fn look_up(text: &str, prompt: &str, registry: &Registry) -> RecordMatch {
    let context: &[&str] = if prompt.is_empty() { &[] } else { &[prompt] };
    attribute_texts(&[text], context, &registry.exact, &registry.index)
}

/// A text as the shingler sees it: its tokens, joined by spaces.
fn token_sequence(text: &str) -> String {
    tokens(&normalise(text).text).join(" ")
}

/// The token sequences of every registered text.
fn token_sequences(corpus: &Corpus) -> HashSet<String> {
    corpus
        .registered
        .iter()
        .flatten()
        .map(|t| token_sequence(&t.text))
        .collect()
}

/// The kept-back groups: `human`, then the unregistered models.
fn held_out(corpus: &Corpus) -> impl Iterator<Item = (String, &Vec<Text>)> {
    std::iter::once(("human".to_owned(), &corpus.human_held_out)).chain(
        corpus
            .unregistered
            .iter()
            .map(|(name, texts)| (name.clone(), texts)),
    )
}

/// Looks every item and kept-back text up in `registry`.
#[must_use]
pub fn evaluate(corpus: &Corpus, items: &[Item], registry: &Registry) -> Results {
    let mut results = Results::default();
    for item in items {
        let m = look_up(&item.text, &item.prompt, registry);
        let tally = results
            .edits
            .entry((item.edit, Bucket::of(&item.text)))
            .or_default();
        tally.total += 1;
        let candidates = match &m.attribution.lineage {
            Lineage::Unknown => continue,
            Lineage::Source(s) => vec![*s],
            Lineage::Ambiguous(c) => c.clone(),
        };
        tally.attributed += 1;
        tally.correct += usize::from(candidates == item.truth);
        tally.precise += usize::from(candidates.iter().all(|c| item.truth.contains(c)));
        tally.near += usize::from(matches!(m.kind, MatchKind::Near | MatchKind::Spliced));
    }

    let registered = token_sequences(corpus);
    for (group, texts) in held_out(corpus) {
        for text in texts {
            let tally = results
                .held_out
                .entry((group.clone(), Bucket::of(&text.text)))
                .or_default();
            if registered.contains(&token_sequence(&text.text)) {
                tally.identical += 1;
                continue;
            }
            tally.total += 1;
            let m = look_up(&text.text, &text.prompt, registry);
            match m.attribution.lineage {
                Lineage::Unknown => {}
                Lineage::Source(HUMAN) => tally.to_human += 1,
                Lineage::Source(_) => tally.to_model += 1,
                Lineage::Ambiguous(c) => {
                    if c.iter().any(|&s| s != HUMAN) {
                        tally.to_model += 1;
                    } else {
                        tally.to_human += 1;
                    }
                }
            }
        }
    }
    results
}

fn percent(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// The results as a table, one row per edit kind and bucket and per kept-back group and
/// bucket, with the target rows (at least [`TARGET_MIN_TOKENS`] tokens) summed.
#[must_use]
pub fn table(results: &Results) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<18} {:>6} {:>6} {:>7} {:>6} {:>10} {:>8}",
        "edit", "tokens", "texts", "correct", "near", "precision", "recall"
    );
    for edit in Edit::ALL {
        let mut rows: Vec<(String, Tally)> = [Bucket::Short, Bucket::Medium, Bucket::Long]
            .into_iter()
            .filter_map(|b| {
                let t = results.edits.get(&(edit, b))?;
                Some((b.label().to_owned(), t.clone()))
            })
            .collect();
        rows.push((">=20".to_owned(), results.target(edit)));
        for (label, t) in rows {
            let _ = writeln!(
                out,
                "{:<18} {:>6} {:>6} {:>7} {:>6} {:>10} {:>8}",
                edit.label(),
                label,
                t.total,
                t.correct,
                t.near,
                percent(t.precision()),
                percent(t.recall())
            );
        }
    }

    let _ = writeln!(
        out,
        "\n{:<28} {:>6} {:>6} {:>9} {:>8} {:>9} {:>9}",
        "kept back", "tokens", "texts", "identical", "to model", "to human", "to model%"
    );
    let groups: Vec<String> = std::iter::once("human".to_owned())
        .chain(UNREGISTERED.iter().map(|m| (*m).to_owned()))
        .collect();
    for group in groups {
        let mut rows: Vec<(String, FalseTally)> = [Bucket::Short, Bucket::Medium, Bucket::Long]
            .into_iter()
            .filter_map(|b| {
                let t = results.held_out.get(&(group.clone(), b))?;
                Some((b.label().to_owned(), t.clone()))
            })
            .collect();
        rows.push((">=20".to_owned(), results.held_out_target(&group)));
        for (label, t) in rows {
            let _ = writeln!(
                out,
                "{:<28} {:>6} {:>6} {:>9} {:>8} {:>9} {:>9}",
                group,
                label,
                t.total,
                t.identical,
                t.to_model,
                t.to_human,
                percent(ratio(t.to_model, t.total))
            );
        }
    }
    out
}

/// The edited texts that were not attributed to exactly their sources, and the kept-back
/// texts of at least [`TARGET_MIN_TOKENS`] tokens taken for a model's, at most `limit` of each
/// kind, with how they matched: for reading, not for figures.
#[must_use]
pub fn misses(corpus: &Corpus, items: &[Item], registry: &Registry, limit: usize) -> String {
    let mut out = String::new();
    let mut shown: HashMap<String, usize> = HashMap::new();
    let mut show = |out: &mut String, label: &str, text: &Text, truth: &[SourceId]| {
        let m = look_up(&text.text, &text.prompt, registry);
        let count = shown.entry(label.to_owned()).or_default();
        *count += 1;
        if *count > limit {
            return;
        }
        let containments: Vec<String> = m
            .near
            .iter()
            .flat_map(|n| &n.containments)
            .map(|c| format!("{}:{:.2}", c.source, c.value))
            .collect();
        let excerpt: String = text.text.chars().take(300).collect();
        let _ = writeln!(
            out,
            "--- {label}: truth {truth:?}, got {:?} ({}, confidence {:.2}; {})\n{excerpt:?}",
            m.attribution.lineage,
            m.kind.as_str(),
            m.confidence,
            containments.join(" ")
        );
    };
    for item in items {
        let m = look_up(&item.text, &item.prompt, registry);
        let candidates = match &m.attribution.lineage {
            Lineage::Unknown => Vec::new(),
            Lineage::Source(s) => vec![*s],
            Lineage::Ambiguous(c) => c.clone(),
        };
        if candidates != item.truth {
            let label = format!("{} {}", item.edit.label(), Bucket::of(&item.text).label());
            let text = Text {
                text: item.text.clone(),
                prompt: item.prompt.clone(),
            };
            show(&mut out, &label, &text, &item.truth);
        }
    }
    let registered = token_sequences(corpus);
    for (group, texts) in held_out(corpus) {
        for text in texts {
            if !Bucket::of(&text.text).is_target()
                || registered.contains(&token_sequence(&text.text))
            {
                continue;
            }
            let m = look_up(&text.text, &text.prompt, registry);
            let to_model = match &m.attribution.lineage {
                Lineage::Unknown => false,
                Lineage::Source(s) => *s != HUMAN,
                Lineage::Ambiguous(c) => c.iter().any(|&s| s != HUMAN),
            };
            if to_model {
                show(&mut out, &format!("kept back {group}"), text, &[]);
            }
        }
    }
    out
}
