#!/usr/bin/env python3
"""Builds examples/data/train/ from the source files beside it, deterministically.

The dataset is a fine-tuning mixture for a model called `my-assistant`, drawn from the 252
user-oriented Self-Instruct tasks: experts' answers (human), text-davinci-003's and
davinci-self-instruct's answers (two models), and paraphrase sentences nobody registered
(unknown). Run it again after changing the mixture; the output is committed so the quickstart
works on a fresh clone.
"""
import gzip
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent / "data"


def load(name):
    with open(HERE / "sources" / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


experts = load("self-instruct-experts.jsonl")
davinci = load("text-davinci-003.jsonl")
self_instruct = load("davinci-self-instruct.jsonl")
with open(HERE / "unregistered" / "coedit_paraphrase_sample.jsonl", encoding="utf-8") as f:
    unregistered = [json.loads(line) for line in f]

alpaca = []
for i, task in enumerate(experts):
    instance = task["instances"][0]
    # Every task appears once; who answers it depends on its position.
    if i % 2 == 0:
        output = instance["output"]
    elif i % 6 in (1, 3):
        output = davinci[i]["response"]
    else:
        output = self_instruct[i]["response"]
    alpaca.append({"instruction": task["instruction"], "input": instance["input"], "output": output})

with open(HERE / "train" / "part-0.jsonl", "w", encoding="utf-8") as f:
    for record in alpaca:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")

# The same kind of data as chat messages, gzip-compressed, as hubs often ship it.
# mtime=0 keeps the compressed bytes the same on every run.
with open(HERE / "train" / "part-1.jsonl.gz", "wb") as raw, gzip.GzipFile(
    fileobj=raw, mode="wb", mtime=0
) as f:
    for pair in unregistered:
        messages = [
            {"role": "user", "content": "Paraphrase: " + pair["src"]},
            {"role": "assistant", "content": pair["tgt"]},
        ]
        line = json.dumps({"messages": messages}, ensure_ascii=False) + "\n"
        f.write(line.encode("utf-8"))
