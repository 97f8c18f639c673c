"""datatrove's jobs for `benches/peers.sh`, through datatrove's documented pipeline API.

    python datatrove_jobs.py exact --input FILE --work DIR
    python datatrove_jobs.py bloom --input FILE --work DIR --shingles N

Every pipeline runs on one core: `LocalPipelineExecutor(tasks=1, workers=1)`, which runs the
task in this process (datatrove still starts a `multiprocess` manager process beside it).
Nothing is written but datatrove's own signatures, duplicate lists, logs and stats: the
deduplicated records are counted, not written out, as `provguard scan` writes none either.
The last line printed is `flagged N`, the number of records the job dropped.
"""

import argparse
import json
import math
import sys
from pathlib import Path

from datatrove.data import Document
from datatrove.executor.local import LocalPipelineExecutor
from datatrove.pipeline.dedup.bloom_filter import BloomFilterConfig, SingleBloomFilter
from datatrove.pipeline.dedup.exact_dedup import (
    ExactDedupConfig,
    ExactDedupFilter,
    ExactDedupSignature,
    ExactFindDedups,
)
from datatrove.pipeline.readers import JsonlReader
from datatrove.utils.hashing import HashConfig
from datatrove.utils.typeshelper import Languages

# The shingle length of provguard's near-copy lineage (`DEFAULT_SHINGLE_LEN`).
SHINGLE_WORDS = 4
# provguard's near-copy containment threshold (`near::DEFAULT_THRESHOLD`).
NEAR_THRESHOLD = 0.5
# `SingleBloomFilter` asserts `m_bytes * 8 < 2**31`.
MAX_M_BYTES = 2**28 - 1


def text_of(doc: Document) -> str:
    """The content the exact job hashes: the record's `text` (datatrove reads the return
    annotation to choose the hash function's input type)."""
    return doc.text


def reader(input_file: Path) -> JsonlReader:
    """The generated file, read as it is (`text` and `id` are datatrove's default keys)."""
    return JsonlReader(
        data_folder=str(input_file.parent),
        glob_pattern=input_file.name,
        compression=None,
        recursive=False,
    )


def run(pipeline, logs: Path) -> None:
    """Runs `pipeline` as one task on one worker."""
    LocalPipelineExecutor(
        pipeline=pipeline,
        tasks=1,
        workers=1,
        logging_dir=str(logs),
        skip_completed=False,
    ).run()


def dropped(logs: Path) -> int:
    """The records dropped by the dedup step of the pipeline logged in `logs`: its `total`
    less its `forwarded` (`SingleBloomFilter` counts each drop twice in `dropped`)."""
    stats = json.loads((logs / "stats.json").read_text())
    return sum(
        step["stats"].get("total", 0) - step["stats"].get("forwarded", 0)
        for step in stats
        if "DEDUP" in step.get("name", "") and "stats" in step
    )


def exact(args) -> int:
    """datatrove's three-stage exact dedup on the `text` of each record (64-bit xxhash)."""
    config = ExactDedupConfig(
        content_getter=text_of, hash_config=HashConfig(precision=64, hash_fc="xxhash")
    )
    sigs, dups = args.work / "signatures", args.work / "duplicates"
    run(
        [reader(args.input), ExactDedupSignature(str(sigs), config, finder_workers=1)],
        args.work / "logs-1",
    )
    run([ExactFindDedups(str(sigs), str(dups), config)], args.work / "logs-2")
    run([reader(args.input), ExactDedupFilter(str(dups), config)], args.work / "logs-3")
    return dropped(args.work / "logs-3")


def bloom(args) -> int:
    """datatrove's single Bloom filter over 4-word shingles, every parameter set by hand.

    `SingleBloomFilter` maps a hash to a bit with `hash & m_bytes`, not `hash % m`: unless
    `m_bytes` is one less than a power of two, most bits can never be set and nearly every
    shingle looks seen. So `m_bytes` is `2**j - 1`, and the filter really uses `m_bytes` bits
    (of the `8 * m_bytes` it allocates). For `n` expected shingles and a false-positive rate
    `p = 1e-3`, `m_bytes` is the smallest such size with `m_bytes >= -n ln p / (ln 2)^2`
    (capped where datatrove's own assertion stops it) and `k = ceil(log2(1 / p)) = 10`.
    """
    n = max(args.shingles, 1)
    p = 1e-3
    bits = -n * math.log(p) / math.log(2) ** 2
    m_bytes = min(2 ** max(math.ceil(math.log2(bits + 1)), 10) - 1, MAX_M_BYTES)
    k = math.ceil(math.log2(1 / p))
    config = BloomFilterConfig(
        m_bytes=m_bytes,
        k=k,
        expected_elements=n,
        duplicate_threshold=NEAR_THRESHOLD,
        n_grams=SHINGLE_WORDS,
        seed=0,
        hash_config=HashConfig(precision=32, hash_fc="xxhash"),
    )
    print(f"datatrove bloom: m_bytes={m_bytes} k={k} expected_elements={n}", file=sys.stderr)
    run(
        [
            reader(args.input),
            SingleBloomFilter(str(args.work / "bloom"), config, language=Languages.english),
        ],
        args.work / "logs",
    )
    return dropped(args.work / "logs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job", choices=["exact", "bloom"])
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--shingles", type=int, default=0, help="expected shingles (bloom)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    flagged = exact(args) if args.job == "exact" else bloom(args)
    print(f"flagged {flagged}")


if __name__ == "__main__":
    main()
