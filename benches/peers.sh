#!/usr/bin/env bash
# Peer comparison (issue #7): dolma, datatrove and text-dedup against `provguard scan`, on the
# same generated input in the same run, every job on one core.
#
#   bash benches/peers.sh [SIZE_MB]        # default 200; 20 for a quick run
#
# 1. builds `provguard` and `gen_corpus` in release (unless PROVGUARD_BIN and GEN_CORPUS_BIN
#    name prebuilt ones);
# 2. installs each peer in its own virtual environment under PEERS_VENV (default
#    `${TMPDIR:-/tmp}/provguard-peers-venv`), from the exact pins in benches/peers/, and reuses
#    an environment whose pins have not changed;
# 3. generates SIZE_MB megabytes of JSON Lines with `gen_corpus --seed 42` from ../shared/data;
# 4. runs each job under `taskset -c 0` and `/usr/bin/time -v` (wall time, peak RSS);
# 5. prints a Markdown table and writes it, with every raw output, to target/peers/.
#
# Environment: PROVGUARD_BIN, GEN_CORPUS_BIN (prebuilt binaries), PEERS_DATA (the shared
# corpus, default ../shared/data beside the repository), PEERS_VENV, PEERS_PYTHON (a CPython
# 3.10-3.12: dolma 1.2.1 has no wheel for 3.13).
set -euo pipefail

die() {
  echo "peers.sh: error: $*" >&2
  exit 1
}
step() { echo "peers.sh: $*" >&2; }

# Arguments and paths.
size_mb=${1:-200}
[[ $size_mb =~ ^[1-9][0-9]*$ ]] ||
  die "SIZE_MB must be a whole number of megabytes, got \`$size_mb\`"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
peers="$repo/benches/peers"
data=${PEERS_DATA:-$repo/../shared/data}
[[ -d $data/models && -d $data/human ]] ||
  die "the shared corpus is not at \`$data\`; lay ../shared beside the repository or set PEERS_DATA"
data=$(cd "$data" && pwd)
venvs=${PEERS_VENV:-${TMPDIR:-/tmp}/provguard-peers-venv}
out="$repo/target/peers"
raw="$out/raw"

# Tools every job needs: GNU time for wall time and peak RSS, taskset for one core.
if [[ ! -x /usr/bin/time ]]; then
  step "installing GNU time (Debian package \`time\`)"
  [[ $(id -u) == 0 ]] ||
    die "/usr/bin/time is missing; install the Debian package \`time\` (as root)"
  { apt-get update -qq && apt-get install -y -qq time; } >/dev/null ||
    die "apt-get could not install the package \`time\`"
fi
command -v taskset >/dev/null || die "taskset is missing (Debian package \`util-linux\`)"
if [[ -z ${PEERS_PYTHON:-} ]]; then
  for candidate in python3.11 python3.12 python3.10 python3; do
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))'; then
      PEERS_PYTHON=$candidate
      break
    fi
  done
fi
[[ -n ${PEERS_PYTHON:-} ]] || die "no CPython 3.10-3.12 found for the peers; set PEERS_PYTHON"

# 1. Binaries.
target=${CARGO_TARGET_DIR:-$repo/target}
build=()
[[ -n ${PROVGUARD_BIN:-} ]] || build+=(-p provguard-cli)
[[ -n ${GEN_CORPUS_BIN:-} ]] || build+=(-p provguard-bench)
if ((${#build[@]})); then
  step "building ${build[*]} (release)"
  (cd "$repo" && cargo build --release --locked "${build[@]}") || die "cargo build failed"
fi
provguard=${PROVGUARD_BIN:-$target/release/provguard}
gen_corpus=${GEN_CORPUS_BIN:-$target/release/gen_corpus}
[[ -x $provguard ]] || die "no provguard binary at \`$provguard\`"
[[ -x $gen_corpus ]] || die "no gen_corpus binary at \`$gen_corpus\`"

# Scratch space, removed on exit; the table and raw outputs of the last run in target/peers.
work=$(mktemp -d "${TMPDIR:-/tmp}/provguard-peers.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
rm -rf "$out"
mkdir -p "$raw" "$work/documents" "$work/tmp"

# 2. One virtual environment per peer: dolma pins numpy<2 and an old fsspec that datatrove
# cannot share. Every package is pinned, so pip installs with --no-deps and resolves nothing.
install_env() {
  local name=$1 requirements="$peers/requirements-$1.txt" dir="$venvs/$1"
  if cmp -s "$requirements" "$dir/.requirements.txt"; then
    echo "$name: reused ($dir)" >>"$out/install.txt"
    return
  fi
  step "installing $name into $dir"
  rm -rf "$dir"
  mkdir -p "$venvs"
  local start=$SECONDS
  "$PEERS_PYTHON" -m venv "$dir" || die "cannot create a virtual environment at \`$dir\`"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$dir/bin/pip" install --quiet --no-deps \
    -r "$requirements" >"$raw/install-$name.log" 2>&1 ||
    die "pip could not install $name; see $raw/install-$name.log"
  echo "$name: installed in $((SECONDS - start)) s ($dir)" >>"$out/install.txt"
  cp "$requirements" "$dir/.requirements.txt"
}
: >"$out/install.txt"
install_env dolma
install_env datatrove
install_env text-dedup
"$venvs/dolma/bin/pip" check >/dev/null || die "dolma's environment is inconsistent (pip check)"
"$venvs/datatrove/bin/pip" check >/dev/null ||
  die "datatrove's environment is inconsistent (pip check)"
"$venvs/text-dedup/bin/python" -c 'import text_dedup.bloom_filter, text_dedup.minhash' ||
  die "text-dedup's entry points do not import"

# 3. The input, where dolma wants it (a `documents/` folder); every job reads this file.
step "generating ${size_mb} MB with gen_corpus (seed 42)"
input="$work/documents/input.jsonl"
"$gen_corpus" --size "${size_mb}M" --seed 42 --data "$data" --out "$input" \
  2>"$raw/gen_corpus.log" || die "gen_corpus failed; see $raw/gen_corpus.log"
bytes=$(stat -c %s "$input")
records=$(wc -l <"$input")
words=$(wc -w <"$input")

# 4. The jobs. Each runs on CPU 0 only, its temporary files and caches inside $work.
export TMPDIR="$work/tmp" HF_HOME="$work/hf" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
export COLUMNS=200 # text-dedup logs through rich, which wraps at the terminal width
results="$out/results.tsv"
: >"$results"

# run_job SLUG OK_STATUSES CMD...: runs CMD under `$pin` (one core) and /usr/bin/time, its
# standard output in raw/SLUG.out and error in raw/SLUG.err; sets WALL (s) and RSS (KiB).
pin=(taskset -c 0)
run_job() {
  local slug=$1 ok=$2 status=0
  shift 2
  step "running $slug"
  "${pin[@]}" /usr/bin/time -v -o "$raw/$slug.time" "$@" \
    >"$raw/$slug.out" 2>"$raw/$slug.err" || status=$?
  if [[ " $ok " != *" $status "* ]]; then
    tail -n 20 "$raw/$slug.err" >&2
    die "$slug failed (exit status $status); see $raw/$slug.err"
  fi
  WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {
    n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' \
    "$raw/$slug.time")
  RSS=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$raw/$slug.time")
}
# row TOOL JOB KIND BYTES FLAGGED NOTE: one line of the table, with the last job's figures.
row() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$WALL" "$RSS" "$4" "$5" "$6" \
    >>"$results"
}
# Records of a dolma attribute file with at least one duplicate span.
dolma_flagged() { grep -c '\[\[' "$work/attributes/$1/input.jsonl" || true; }
# Records text-dedup removed: its `Before` less its `After`.
text_dedup_flagged() {
  awk 'match($0, / (Before|After) +: [0-9]+/) {
    split(substr($0, RSTART, RLENGTH), f, / +: /); n[f[1]] = f[2] }
    END { print n[" Before"] - n[" After"] }' "$raw/$1.out" "$raw/$1.err"
}

# provguard: register the shared corpus's five models and two human sets, then scan.
ledger="$work/ledger"
register=(
  "gpt4 synthetic models/gpt4.jsonl"
  "claude-2 synthetic models/claude-2.jsonl"
  "llama-3-70b synthetic models/Meta-Llama-3-70B-Instruct.jsonl"
  "mixtral synthetic models/Mixtral-8x7B-Instruct-v0.1.jsonl"
  "davinci-003 synthetic models/text_davinci_003.jsonl"
  "experts human human/self_instruct_user_oriented.jsonl instances[].output"
  "coedit-src human human/coedit_paraphrase.jsonl src"
)
registered_bytes=0
{
  echo 'set -euo pipefail'
  for source in "${register[@]}"; do
    read -r name origin file field <<<"$source"
    registered_bytes=$((registered_bytes + $(stat -c %s "$data/$file")))
    printf '%q register --ledger %q --source %q --origin %q %s %q\n' \
      "$provguard" "$ledger" "$name" "$origin" "${field:+--field $(printf %q "$field")}" \
      "$data/$file"
  done
} >"$work/register.sh"
cp "$work/register.sh" "$raw/provguard-register.sh"
run_job provguard-register 0 bash "$work/register.sh"
row provguard "register 7 sources (shared corpus)" register "$registered_bytes" - \
  "7 runs, one after another"

# Exit status 1 is a block verdict: the scan did its job.
scan=("$provguard" scan "$input" --home peers-bench --ledger "$ledger" --format json)
scan_flagged() {
  python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))["composition"]["by_match"]
print(m["exact"] + m["near"] + m["spliced"])' "$raw/$1.out"
}
run_job provguard-scan "0 1" "${scan[@]}"
row provguard "scan: exact + near-copy lineage" scan "$bytes" "$(scan_flagged provguard-scan)" \
  "1 thread (taskset: 1 core seen)"

# dolma: exact (whole `text`) and 4-gram paragraph dedupe, Bloom filters sized explicitly.
dolma=("$venvs/dolma/bin/dolma")
run_job dolma-exact 0 "${dolma[@]}" -c "$peers/dolma-exact.yaml" dedupe \
  --documents "$work/documents/*.jsonl" --bloom_filter.file "$work/dolma-exact.bloom" \
  --bloom_filter.estimated_doc_count "$records"
row dolma "exact dedupe, Bloom filter" exact "$bytes" "$(dolma_flagged exact_text)" "processes=1"
run_job dolma-ngram 0 "${dolma[@]}" -c "$peers/dolma-ngram.yaml" dedupe \
  --documents "$work/documents/*.jsonl" --bloom_filter.file "$work/dolma-ngram.bloom" \
  --bloom_filter.estimated_doc_count "$words"
row dolma "4-gram paragraph dedupe, Bloom filter" near "$bytes" "$(dolma_flagged ngram_text)" \
  "processes=1"

# datatrove: exact dedup (three stages) and the single Bloom filter on 4-word shingles.
datatrove=("$venvs/datatrove/bin/python" "$peers/datatrove_jobs.py")
run_job datatrove-exact 0 "${datatrove[@]}" exact --input "$input" --work "$work/datatrove-exact"
row datatrove "exact dedup (3 stages)" exact "$bytes" "$(awk '/^flagged/ { print $2 }' \
  "$raw/datatrove-exact.out")" "tasks=1, workers=1"
run_job datatrove-bloom 0 "${datatrove[@]}" bloom --input "$input" \
  --work "$work/datatrove-bloom" --shingles "$words"
row datatrove "single Bloom filter, 4-word shingles" near "$bytes" "$(awk '/^flagged/ {
  print $2 }' "$raw/datatrove-bloom.out")" "tasks=1, workers=1"

# text-dedup: exact Bloom filter and MinHash LSH over 4-word n-grams.
text_dedup=("$venvs/text-dedup/bin/python" -m)
io=(--path json --data_files "$input" --split train --column text --num_proc 1)
run_job text-dedup-bloom 0 "${text_dedup[@]}" text_dedup.bloom_filter "${io[@]}" \
  --cache_dir "$work/td-cache-bloom" --output "$work/td-out-bloom" \
  --error_rate 1e-6 --initial_capacity "$records" --hash_func xxh3
row text-dedup "exact Bloom filter" exact "$bytes" "$(text_dedup_flagged text-dedup-bloom)" \
  "num_proc=1"
run_job text-dedup-minhash 0 "${text_dedup[@]}" text_dedup.minhash "${io[@]}" \
  --cache_dir "$work/td-cache-minhash" --output "$work/td-out-minhash" \
  --ngram 4 --min_length 0 --num_perm 128 --threshold 0.5 --seed 42 --hash_func xxh3
row text-dedup "MinHash LSH, 4-grams" near "$bytes" "$(text_dedup_flagged text-dedup-minhash)" \
  "num_proc=1"

# For information: the same scan on every core (provguard uses them all by default).
pin=()
run_job provguard-scan-all-cores "0 1" "${scan[@]}"
row provguard "scan: exact + near-copy lineage" scan-all "$bytes" \
  "$(scan_flagged provguard-scan-all-cores)" "all $(nproc) cores"

# 5. The table.
version_of() { "$venvs/$1/bin/python" -c "import importlib.metadata as m; print(m.version('$2'))"; }
{
  echo "## provguard against its peers, $((bytes / 1000000)) MB"
  echo
  echo "- machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
    "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "- input: gen_corpus --seed 42, $bytes bytes, $records records, from the shared corpus"
  echo "- versions: $("$provguard" --version | head -n 1), dolma $(version_of dolma dolma)," \
    "datatrove $(version_of datatrove datatrove), text-dedup $(version_of text-dedup text-dedup)," \
    "$("$venvs/dolma/bin/python" --version)"
  echo "- every job runs on one core (\`taskset -c 0\`) with the tool's own setting at one" \
    "process, except the last row; peak MiB is the largest process's peak RSS"
  echo "- records flagged: provguard, records matched to a registered source (exact, near," \
    "spliced); peers, records found to repeat an earlier record of the same file (dolma" \
    "4-gram: records with at least one duplicate paragraph)"
} >"$work/header.md"
python3 "$peers/table.py" "$results" "$work/header.md" | tee "$out/peers.md"
echo
echo "raw outputs and /usr/bin/time reports: $raw"
echo "environments: $(paste -sd ';' "$out/install.txt")"
