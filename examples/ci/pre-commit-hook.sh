#!/usr/bin/env bash
# A git pre-commit hook that scans the dataset files staged for commit with provguard and
# refuses the commit when the verdict is block, or when provguard cannot do its job.
#
# Install it in a repository that holds data and a ledger:
#
#   cp examples/ci/pre-commit-hook.sh .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit
#
# The staged content is scanned, not the working tree: the staged files are copied out of
# the index into a temporary folder first, so problems are located in that copy under their
# paths in the repository. Settings, from the environment or `git config`:
#
#   PROVGUARD_HOME    the model the data will train (git config provguard.home; my-model)
#   PROVGUARD_POLICY  the policy file (git config provguard.policy; else
#                     provguard-policy.toml at the top of the repository if there is one,
#                     else provguard's built-in default policy)
#   PROVGUARD_LEDGER  the ledger folder (default .provguard at the top of the repository)
#   PROVGUARD         the provguard command (default: provguard on PATH)
#
# `git commit --no-verify` skips the hook.
set -euo pipefail

top=$(git rev-parse --show-toplevel)
cd "$top"

provguard=${PROVGUARD:-provguard}
home=${PROVGUARD_HOME:-$(git config --get provguard.home || echo my-model)}
policy=${PROVGUARD_POLICY:-$(git config --get provguard.policy || true)}
if [[ -z $policy && -f provguard-policy.toml ]]; then
  policy=provguard-policy.toml
fi
ledger=${PROVGUARD_LEDGER:-.provguard}
# Relative paths are from the top of the repository; provguard runs in the staged copy.
[[ -n $policy && $policy != /* ]] && policy=$top/$policy
[[ $ledger != /* ]] && ledger=$top/$ledger
export PROVGUARD_LEDGER=$ledger

# Data files (compressed or not) that are added, copied, modified or renamed; files inside
# hidden folders (the ledger among them) are not data.
data='\.(jsonl|ndjson|json|parquet|csv|tsv|arrow|feather|arrows|ipc)(\.(gz|zst|bz2|xz|lz4))?$'
files=()
while IFS= read -r -d '' file; do
  if [[ $file =~ $data && ! $file =~ (^|/)\. ]]; then
    files+=("$file")
  fi
done < <(git diff --cached --name-only -z --diff-filter=ACMR)
if ((${#files[@]} == 0)); then
  exit 0
fi

staged=$(mktemp -d)
trap 'rm -rf "$staged"' EXIT
printf '%s\0' "${files[@]}" | git checkout-index -z --stdin --prefix="$staged/"

args=(scan --home "$home")
if [[ -n $policy ]]; then
  args+=(--policy "$policy")
fi
echo "provguard: scanning ${#files[@]} staged data file(s) for home model \`$home\`" >&2
status=0
(cd "$staged" && "$provguard" "${args[@]}" "${files[@]}") || status=$?
case $status in
  0) exit 0 ;;
  1) echo "provguard: the verdict is block; the commit is refused (git commit --no-verify skips this check)" >&2 ;;
  *) echo "provguard: could not scan the staged files (exit status $status); the commit is refused" >&2 ;;
esac
exit "$status"
