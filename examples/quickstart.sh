#!/usr/bin/env bash
# The main job on the example dataset: register three sources in a fresh ledger, then scan
# a fine-tuning mixture drawn from them and print the verdict.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet -p provguard-cli
provguard=target/debug/provguard
export PROVGUARD_LEDGER=target/quickstart-ledger
rm -rf "$PROVGUARD_LEDGER"

sources=examples/data/sources
"$provguard" register --source text-davinci-003 --origin synthetic --field response \
  "$sources/text-davinci-003.jsonl"
"$provguard" register --source davinci-self-instruct --origin synthetic --field response \
  "$sources/davinci-self-instruct.jsonl"
"$provguard" register --source self-instruct-experts --origin human \
  --field 'instances[].output' "$sources/self-instruct-experts.jsonl"
echo

status=0
"$provguard" scan examples/data/train --home my-assistant \
  --report target/quickstart-report.json || status=$?
echo
echo "exit status $status (0 pass or flag, 1 block, 2 error); JSON report: target/quickstart-report.json"
