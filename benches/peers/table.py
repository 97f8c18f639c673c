"""Prints the peer comparison table of `benches/peers.sh` in Markdown (standard library only).

    python3 table.py RESULTS.tsv HEADER.txt

RESULTS.tsv has one line per job: tool, job, kind, wall seconds, peak RSS in KiB, input
bytes, records flagged, note. `kind` is `exact` or `near` for a peer's job, `register`,
`scan` (provguard on one core: the reference of every ratio) or `scan-all` (provguard on every
core). HEADER.txt is printed above the table as it is.
"""

import sys

MB = 1_000_000
MIB = 1024 * 1024
TARGET = 5.0


def main() -> None:
    results, header = sys.argv[1], sys.argv[2]
    rows = []
    with open(results, encoding="utf-8") as f:
        for line in f:
            tool, job, kind, wall, rss_kb, size, flagged, note = line.rstrip("\n").split("\t")
            rows.append(
                {
                    "tool": tool,
                    "job": job,
                    "kind": kind,
                    "wall": float(wall),
                    "rss": int(rss_kb) * 1024,
                    "bytes": int(size),
                    "flagged": flagged,
                    "note": note,
                }
            )
    scans = [r for r in rows if r["kind"] == "scan"]
    if len(scans) != 1:
        sys.exit("table.py: error: expected exactly one provguard scan row")
    scan = scans[0]

    def speed(r):
        # A wall time under /usr/bin/time's 10 ms resolution counts as 10 ms.
        return r["bytes"] / MB / max(r["wall"], 0.01)

    out = [open(header, encoding="utf-8").read().rstrip("\n"), ""]
    out.append(
        "| tool | job | setting | wall s | MB/s | peak MiB | records flagged "
        "| provguard scan speed ÷ this |"
    )
    out.append("|---|---|---|--:|--:|--:|--:|--:|")
    for r in rows:
        ratio = "–" if r["kind"] == "register" else f"{speed(scan) / speed(r):.2f}"
        out.append(
            f"| {r['tool']} | {r['job']} | {r['note']} | {r['wall']:.2f} | {speed(r):.2f} | "
            f"{r['rss'] / MIB:.0f} | {r['flagged']} | {ratio} |"
        )

    # The target: the whole scan against the fastest peer job, near-copy jobs (what the
    # scan's near-copy lineage is comparable to) and every peer job (the strictest reading).
    out.append("")
    for label, kinds in (
        ("near-duplicate peer job", {"near"}),
        ("peer job of any kind", {"near", "exact"}),
    ):
        peers = [r for r in rows if r["kind"] in kinds]
        if not peers:
            continue
        best = max(peers, key=speed)
        ratio = speed(scan) / speed(best)
        verdict = "met" if ratio >= TARGET else "NOT met"
        out.append(
            f"- provguard scan vs the fastest {label} ({best['tool']} {best['job']}): "
            f"{ratio:.2f}x; target {TARGET:.0f}x {verdict}"
        )
    print("\n".join(out))


if __name__ == "__main__":
    main()
