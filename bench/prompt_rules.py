"""Prompt guardrails: the time the prompt rules add to one generation.

1,000 rules (the starter set the migration ships, plus generated words, phrases, context
rules and regular expressions made of English words) and 10,000 prompts (everyday prompts of
8 to 60 words, a few long ones, 10 % carrying a rule's word, some of them disguised) are
made deterministically from a seed; nothing is read from the database.

Rows:
- compile: building the matcher from the rule rows (once per process, and after a change).
- screen: matching one prompt against the compiled rules.
- prompt_screen: what generation calls: the same, plus reading the rules' version from the
  configured cache (a file read in the embedded mode, a round trip with Redis).
"""

from __future__ import annotations

import argparse
import importlib
import random
import statistics
import time
from typing import TextIO

from english_words import get_english_words_set

from bench import Row
from moderation import prompts
from moderation.normalise import _doubled_words

SUBJECTS = [
    "me",
    "a portrait of me",
    "my avatar",
    "me and my dog",
    "a photo of me",
    "me as a pilot",
    "me as a chef",
    "me and my family",
    "a close-up of me",
    "me as a knight",
    "me at 40",
    "a young woman",
    "an old man",
    "me in a business suit",
    "me in a swimsuit",
    "me as a kid",
]
ACTIONS = [
    "walking",
    "smiling",
    "reading a book",
    "playing tennis",
    "surfing",
    "cooking dinner",
    "riding a bike",
    "holding a sword",
    "drinking coffee",
    "laughing",
    "dancing",
    "hiking",
    "playing the guitar",
    "painting",
    "skiing",
    "boxing",
    "fencing",
    "running a marathon",
]
PLACES = [
    "in Paris",
    "on a beach at sunset",
    "in a cyberpunk city",
    "in the Alps",
    "at the pool",
    "in a library",
    "on the moon",
    "in a medieval castle",
    "in a forest",
    "in Tokyo at night",
    "at a museum",
    "in the desert",
    "at a wedding",
    "in a cozy kitchen",
    "in a stadium",
]
STYLES = [
    "cinematic lighting",
    "35mm film",
    "in the style of Van Gogh",
    "watercolor",
    "8k, detailed",
    "studio portrait",
    "golden hour",
    "shot on a Leica",
    "oil painting",
    "anime style",
    "soft focus",
    "dramatic shadows",
    "pastel colors",
    "Rembrandt lighting",
    "vintage photo",
]
DISGUISES = [
    lambda w: w,
    lambda w: " ".join(w),
    lambda w: ".".join(w),
    lambda w: w.replace("e", "3").replace("o", "0").replace("a", "@"),
    lambda w: w[:1] + w[1] * 4 + w[2:] if len(w) > 2 else w,
    lambda w: "\u200b".join(w),
    lambda w: w.upper(),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", type=int, default=1000, help="number of rules (1000)")
    parser.add_argument("--prompts", type=int, default=10000, help="number of prompts (10000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")


def starter_rows() -> list[dict]:
    """The rules migration 0002 ships, as rows (the same data, without a database)."""
    starter = importlib.import_module("moderation.migrations.0002_starter_rules")
    rows = [dict(rule) for rule in starter.RULES]
    rows += [
        {
            "kind": "phrase",
            "text": names,
            "category": "public_figure",
            "action": "block",
            "context": "",
            "exceptions": exceptions,
        }
        for names, _, exceptions in starter.PUBLIC_FIGURES
    ]
    return rows


def generated_rows(count: int, words: list[str], rng: random.Random) -> list[dict]:
    categories = ["sexual", "violence", "hate", "self_harm", "other", "public_figure", "minors"]
    rows = []
    for index in range(count):
        category = categories[index % len(categories)]
        kind_roll = rng.random()
        row = {"category": category, "action": rng.choice(["block", "block", "review"])}
        row["context"] = row["exceptions"] = ""
        if kind_roll < 0.55:
            row["kind"], row["text"] = "word", "|".join(rng.sample(words, rng.randint(1, 4)))
        elif kind_roll < 0.8:
            phrases = [" ".join(rng.sample(words, rng.randint(2, 3))) for _ in range(3)]
            row["kind"], row["text"] = "phrase", "|".join(phrases)
        elif kind_roll < 0.95:
            row["kind"], row["text"] = "word", rng.choice(words) + "*"
            row["context"] = "|".join(rng.sample(words, 5))
        else:
            first, second = rng.sample(words, 2)
            row["kind"], row["text"] = "pattern", rf"\b{first}\w* (?:\w+ )?{second}s?\b"
        rows.append(row)
    return rows


def make_prompts(count: int, rule_words: list[str], rng: random.Random) -> list[str]:
    made = []
    for index in range(count):
        parts = [rng.choice(SUBJECTS), rng.choice(ACTIONS), rng.choice(PLACES)]
        parts += rng.sample(STYLES, rng.randint(1, 4))
        if index % 10 == 0:  # one in ten carries a rule's word, often disguised
            word = rng.choice(rule_words)
            parts.insert(rng.randint(0, len(parts)), rng.choice(DISGUISES)(word))
        prompt = ", ".join(parts)
        if index % 50 == 0:  # a few long ones, near the 2,000-character limit
            while len(prompt) < 1800:
                prompt += ", " + ", ".join(rng.sample(STYLES + PLACES + ACTIONS, 6))
        made.append(prompt)
    return made


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(args: argparse.Namespace, out: TextIO) -> list[Row]:
    rng = random.Random(args.seed)
    words = sorted(
        word
        for word in get_english_words_set(["gcide"], lower=True, alpha=True)
        if 5 <= len(word) <= 12
    )
    rows = starter_rows()
    starter_count = len(rows)
    rows += generated_rows(max(0, args.rules - starter_count), words, rng)
    for index, row in enumerate(rows, start=1):
        row["id"] = index
    rule_words = [row["text"].split("|")[0].rstrip("*") for row in rows if row["kind"] == "word"]
    prompt_list = make_prompts(args.prompts, rule_words, rng)

    started = time.perf_counter()
    _doubled_words()  # loaded once per process, on the first doubled-letter match
    dictionary_ms = (time.perf_counter() - started) * 1000

    compile_ms = []
    for _ in range(3):
        compiled = prompts.compile_rules(rows, version="bench")
        compile_ms.append(compiled.compile_seconds * 1000)

    for prompt in prompt_list[:200]:  # warm-up
        compiled.screen(prompt)
    screen_us, flagged = [], 0
    for prompt in prompt_list:
        started = time.perf_counter()
        verdict = compiled.screen(prompt)
        screen_us.append((time.perf_counter() - started) * 1e6)
        flagged += verdict is not None

    # The same through prompt_screen(): the compiled set is installed under the current
    # version, so each call costs the version check in the cache and the match.
    prompts._compiled = prompts.compile_rules(rows, version=prompts.rules_version())
    full_us = []
    for prompt in prompt_list:
        started = time.perf_counter()
        prompts.prompt_screen(prompt)
        full_us.append((time.perf_counter() - started) * 1e6)
    prompts._compiled = None

    print(
        f"Prompt rules: {len(rows)} rules ({starter_count} starter, "
        f"{len(rows) - starter_count} generated), {len(prompt_list)} prompts "
        f"(mean {statistics.mean(len(p) for p in prompt_list):.0f} characters), "
        f"{flagged} flagged",
        file=out,
    )
    print(
        f"compile: {statistics.median(compile_ms):.0f} ms (median of 3); English word list for "
        f"doubled letters: {dictionary_ms:.0f} ms once per process",
        file=out,
    )
    header = f"{'per prompt':<28}{'p50 µs':>9}{'p95 µs':>9}{'p99 µs':>9}{'max µs':>9}"
    print(header, file=out)
    print("-" * len(header), file=out)
    long_ones = [index for index, prompt in enumerate(prompt_list) if len(prompt) >= 1500]
    typical = [index for index, prompt in enumerate(prompt_list) if len(prompt) < 1500]
    result = []
    for label, values in (
        ("screen (matching)", screen_us),
        (f"  {len(typical)} typical prompts", [screen_us[i] for i in typical]),
        (f"  {len(long_ones)} of 1,500+ characters", [screen_us[i] for i in long_ones]),
        ("prompt_screen (+ cache)", full_us),
    ):
        print(
            f"{label:<28}{_percentile(values, 0.5):9.0f}{_percentile(values, 0.95):9.0f}"
            f"{_percentile(values, 0.99):9.0f}{max(values):9.0f}",
            file=out,
        )
        result.append(Row(label=label, per_item_ms=[value / 1000 for value in values]))
    return result
