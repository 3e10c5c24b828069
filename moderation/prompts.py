"""The prompt matcher: active rules compiled once per process, refreshed when they change.

`prompt_screen(prompt)` reads the prompt once (moderation.normalise), looks every word up in
one dictionary of all the rules' words and phrases, runs the regular expressions only when a
combined pre-check says one of them can match (moderation.patterns), then applies the context
and exception conditions of the rules that fired. When several fire, a block wins over a
review, then the most serious category (the order of `Category`).

Rules are compiled from the database when this process has none yet or when the version in
the cache differs from the one it compiled: saving or deleting a rule writes a new version
(moderation.signals), so every process picks the change up at its next screen without a
restart, and no request reads the rules from the database.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.core.cache import cache

from .models import Category, PromptRule, RuleAction
from .normalise import (
    Reading,
    letter_runs,
    letters_key,
    plurals,
    read,
    runs_cover,
    term_tokens,
)
from .patterns import PatternSet, first_chars, top_level_alternatives, word_starts

logger = logging.getLogger(__name__)

VERSION_CACHE_KEY = "moderation:prompt-rules:version"
# Without a working cache, rules are reloaded this often instead (seconds).
UNCACHED_REFRESH_SECONDS = 30

SEVERITY = {category: rank for rank, category in enumerate(Category.values)}

# What a person is told. Names the category, never the rule.
MESSAGES = {
    Category.MINORS: "sexual or revealing content involving minors",
    Category.SEXUAL: "sexual content or nudity",
    Category.VIOLENCE: "graphic violence or gore",
    Category.SELF_HARM: "self-harm or suicide",
    Category.HATE: "hateful content or symbols",
    Category.PUBLIC_FIGURE: "a real public figure (you can only make pictures of yourself)",
    Category.OTHER: "content that is not allowed here",
}


@dataclass(frozen=True)
class Verdict:
    """What the rules decided about a prompt. `rule_id` is for moderators, never for users."""

    category: str
    action: str
    rule_id: int

    @property
    def blocks(self) -> bool:
        return self.action == RuleAction.BLOCK

    @property
    def category_label(self) -> str:
        return Category(self.category).label

    @property
    def message(self) -> str:
        return (
            f"This prompt can't be used: it asks for {MESSAGES[Category(self.category)]}. "
            f"Category: {self.category_label}. Nothing was charged."
        )


# --- Rule syntax ----------------------------------------------------------------------------

_TERM_LIST = re.compile(r"\s*(?:/((?:\\.|[^/\\\n])+)/|([^|\n]+))\s*(?:\||\n|$)")


def split_terms(text: str) -> tuple[list[str], list[str]]:
    """Words and phrases separated by "|" or new lines; /…/ marks a regular expression."""
    terms, regexes = [], []
    for match in _TERM_LIST.finditer(text or ""):
        if match.group(1) is not None:
            regexes.append(match.group(1))
        elif match.group(2) and match.group(2).strip():
            terms.append(match.group(2).strip())
    return terms, regexes


def rule_errors(*, kind: str, text: str, context: str = "", exceptions: str = "") -> dict:
    """Field errors of a rule, empty when it compiles."""
    errors: dict[str, list[str]] = {}

    def check_regex(name, pattern):
        try:
            re.compile(pattern)
        except re.error as error:
            errors.setdefault(name, []).append(f"Not a valid regular expression: {error}.")

    if kind == PromptRule.Kind.PATTERN:
        check_regex("text", text)
    else:
        terms, regexes = split_terms(text)
        if not terms and not regexes:
            errors["text"] = ["Give at least one word or phrase."]
        for term in terms:
            if not term_tokens(term.rstrip("*")):
                errors.setdefault("text", []).append(f'"{term}" has no letters or digits.')
        for pattern in regexes:
            check_regex("text", pattern)
    for name, value in (("context", context), ("exceptions", exceptions)):
        for pattern in split_terms(value)[1]:
            check_regex(name, pattern)
    return errors


# --- Compiled rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    word: str  # the rule's (first) word as written
    runs: tuple[int, ...]
    rest: tuple[tuple[str, tuple[int, ...], str], ...]  # the next words: (key, runs, word)
    prefix: bool  # the last word matches the beginning of a word
    term_id: int
    key: str = ""


@dataclass(eq=False)
class _Rule:
    id: int
    category: str
    action: str
    main_terms: tuple[int, ...] = ()
    main_regexes: tuple[re.Pattern, ...] = ()
    context_terms: tuple[int, ...] = ()
    context_regexes: tuple[re.Pattern, ...] = ()
    exception_terms: tuple[int, ...] = ()
    exception_regexes: tuple[re.Pattern, ...] = ()
    regex_starts: frozenset[str] | None = None  # first characters of the main expressions
    has_context: bool = False
    rank: tuple = ()


@dataclass
class RuleSet:
    version: str
    rules: list[_Rule] = field(default_factory=list)
    index: dict[str, list[_Entry]] = field(default_factory=dict)  # words, by first word
    phrases: dict[str, dict[str, list[_Entry]]] = field(default_factory=dict)  # by 1st, 2nd
    prefixes: dict[str, list[_Entry]] = field(default_factory=dict)
    by_length: dict[int, list[tuple[str, int]]] = field(default_factory=dict)  # masked words
    rules_by_term: dict[int, list[_Rule]] = field(default_factory=dict)
    regex_rules: list[_Rule] = field(default_factory=list)
    regex_precheck: PatternSet | None = None
    compile_seconds: float = 0.0
    _term_ids: dict[tuple, int] = field(default_factory=dict)

    # Building ---------------------------------------------------------------------------

    def term_id(self, term: str) -> int | None:
        prefix = term.endswith("*")
        tokens = term_tokens(term.rstrip("*").strip())
        if not tokens:
            return None
        identity = (tokens, prefix)
        if identity in self._term_ids:
            return self._term_ids[identity]
        term_id = self._term_ids[identity] = len(self._term_ids)
        spellings = [tokens]
        if len(tokens) > 1:  # "blow job" also reads "blowjob", "self harm" "selfharm"
            spellings.append(("".join(tokens),))
        if not prefix:  # and the plurals: "nudes", "blowjobs", "severed heads"
            spellings += [
                (*sp[:-1], plural) for sp in list(spellings) for plural in plurals(sp[-1])
            ]
        for spelling in spellings:
            self._index(spelling, prefix, term_id)
        return term_id

    def _index(self, tokens: tuple[str, ...], prefix: bool, term_id: int) -> None:
        first = tokens[0]
        rest = tuple((letters_key(token), letter_runs(token), token) for token in tokens[1:])
        entry = _Entry(first, letter_runs(first), rest, prefix, term_id, letters_key(first))
        if prefix and len(tokens) == 1 and len(entry.key) >= 3:
            self.prefixes.setdefault(entry.key[:3], []).append(entry)
            return
        if rest:  # a phrase, found by its first two words ("*": the second is a prefix)
            second = "*" if prefix and len(rest) == 1 else rest[0][0]
            self.phrases.setdefault(entry.key, {}).setdefault(second, []).append(entry)
        else:
            self.index.setdefault(entry.key, []).append(entry)
        if len(tokens) == 1 and not prefix:
            self.by_length.setdefault(len(first), []).append((first, term_id))

    def _terms(self, text: str) -> tuple[tuple[int, ...], tuple[re.Pattern, ...]]:
        terms, regexes = split_terms(text)
        ids = tuple(i for i in (self.term_id(term) for term in terms) if i is not None)
        return ids, tuple(re.compile(pattern, re.IGNORECASE) for pattern in regexes)

    def add(self, row: Mapping) -> None:
        rule = _Rule(id=row["id"], category=row["category"], action=row["action"])
        if row["kind"] == PromptRule.Kind.PATTERN:
            rule.main_regexes = (re.compile(row["text"], re.IGNORECASE),)
        else:
            rule.main_terms, rule.main_regexes = self._terms(row["text"])
        rule.context_terms, rule.context_regexes = self._terms(row.get("context") or "")
        rule.exception_terms, rule.exception_regexes = self._terms(row.get("exceptions") or "")
        rule.has_context = bool(rule.context_terms or rule.context_regexes)
        rule.rank = (rule.action != RuleAction.BLOCK, SEVERITY.get(rule.category, 99), rule.id)
        for term_id in rule.main_terms:
            self.rules_by_term.setdefault(term_id, []).append(rule)
        if rule.main_regexes:
            self.regex_rules.append(rule)
            rule.regex_starts = _starts_of(rule.main_regexes)
        self.rules.append(rule)

    def finish(self) -> None:
        patterns = [regex.pattern for rule in self.regex_rules for regex in rule.main_regexes]
        if patterns:
            try:  # one pass says whether any expression can match; inline flags may refuse
                self.regex_precheck = PatternSet(patterns)
            except (re.error, OverflowError, RecursionError):
                self.regex_precheck = None

    # Matching ---------------------------------------------------------------------------

    def screen(self, prompt: str) -> Verdict | None:
        reading = read(prompt or "")
        hits = self._term_hits(reading)
        candidates: dict[_Rule, list[tuple[int, int]]] = {}
        for term_id, spans in hits.items():
            for rule in self.rules_by_term.get(term_id, ()):
                candidates.setdefault(rule, []).extend(spans)
        if self.regex_rules:
            for rule, spans in self._regex_hits(reading):
                candidates.setdefault(rule, []).extend(spans)
        best: _Rule | None = None
        for rule, spans in candidates.items():
            if best is not None and rule.rank > best.rank:
                continue
            if rule.exception_terms or rule.exception_regexes:
                excepted = [span for term in rule.exception_terms for span in hits.get(term, ())]
                for regex in rule.exception_regexes:
                    excepted.extend(_spans(regex, reading))
                spans = [span for span in spans if not _covered(span, excepted)]
                if not spans:
                    continue
            if rule.has_context and not (
                any(term in hits for term in rule.context_terms)
                or any(_search(regex, reading) for regex in rule.context_regexes)
            ):
                continue
            best = rule
        if best is None:
            return None
        return Verdict(category=best.category, action=best.action, rule_id=best.id)

    def _regex_hits(self, reading: Reading):
        """The rules whose expression matches, with where; only the rules that can match."""
        texts = [reading.raw_text]
        if reading.text != reading.raw_text:
            texts.append(reading.text)
        starts = [word_starts(text) for text in texts]
        precheck = self.regex_precheck
        if precheck is not None and not any(
            precheck.search(text, at) for text, at in zip(texts, starts, strict=True)
        ):
            return
        present = {char for at in starts for char in at.values()}
        for rule in self.regex_rules:
            if rule.regex_starts is not None and rule.regex_starts.isdisjoint(present):
                continue
            spans = [span for regex in rule.main_regexes for span in _spans(regex, reading)]
            if spans:
                yield rule, spans

    def _term_hits(self, reading: Reading) -> dict[int, list[tuple[int, int]]]:
        """Every word and phrase of every rule found in the prompt, with where it is."""
        hits: dict[int, list[tuple[int, int]]] = {}
        index, phrases, prefixes = self.index, self.phrases, self.prefixes
        for start, key in enumerate(reading.keys):  # one dictionary look-up per word
            if key in index or key in phrases or (prefixes and key[:3] in prefixes):
                self._hits_at(reading, start, key, reading.tokens[start], hits)
        for start, forms in reading.extras.items():
            for form in forms:
                self._hits_at(reading, start, letters_key(form), form, hits)
        for start, word in reading.masked:  # "f*ck": each star stands for one letter
            pattern = re.compile(".".join(re.escape(part) for part in word.split("*")))
            for term, term_id in self.by_length.get(len(word), ()):
                if pattern.fullmatch(term):
                    hits.setdefault(term_id, []).append((start, start + 1))
        return hits

    def _hits_at(self, reading: Reading, start: int, key: str, form: str, hits: dict) -> None:
        runs = None
        candidates = self.index.get(key, [])
        following = self.phrases.get(key)
        if following and start + 1 < len(reading.keys):
            if start + 1 in reading.extras:  # the next word has other readings: try them all
                candidates = candidates + [e for group in following.values() for e in group]
            else:
                candidates = (
                    candidates + following.get(reading.keys[start + 1], []) + following.get("*", [])
                )
        for entry in candidates:
            if form != entry.word:  # spelt otherwise: compare the runs of repeated letters
                runs = runs or letter_runs(form)
                if not runs_cover(form, runs, entry.runs):
                    continue
            end = _rest_end(reading, start + 1, entry) if entry.rest else start + 1
            if end is not None:
                hits.setdefault(entry.term_id, []).append((start, end))
        for entry in self.prefixes.get(key[:3], ()) if len(key) >= 3 else ():
            if key.startswith(entry.key) and runs_cover(form, letter_runs(form), entry.runs):
                hits.setdefault(entry.term_id, []).append((start, start + 1))


def _forms_at(reading: Reading, position: int) -> list[tuple[str, str]]:
    forms = [(reading.keys[position], reading.tokens[position])]
    forms += [(letters_key(form), form) for form in reading.extras.get(position, ())]
    return forms


def _rest_end(reading: Reading, start: int, entry: _Entry) -> int | None:
    """Where a phrase that begins before `start` ends, or None when the next words differ."""
    if start + len(entry.rest) > len(reading.tokens):
        return None
    last = len(entry.rest) - 1
    tokens = reading.tokens
    for offset, (want, want_runs, word) in enumerate(entry.rest):
        if tokens[start + offset] == word:
            continue  # the common case: the same word, as written
        prefix = entry.prefix and offset == last
        if not any(
            (key == want or (prefix and key.startswith(want)))
            and runs_cover(form, letter_runs(form), want_runs)
            for key, form in _forms_at(reading, start + offset)
        ):
            return None
    return start + len(entry.rest)


def _starts_of(regexes: tuple[re.Pattern, ...]) -> frozenset[str] | None:
    chars: set[str] = set()
    for regex in regexes:
        for part in top_level_alternatives(regex.pattern):
            found = first_chars(part)
            if found is None:
                return None
            chars |= found
    return frozenset(chars)


def _to_positions(starts: list[int], match: re.Match) -> tuple[int, int]:
    first = bisect.bisect_right(starts, match.start()) - 1
    last = bisect.bisect_right(starts, max(match.end() - 1, match.start())) - 1
    return max(first, 0), max(last, 0) + 1


def _spans(regex: re.Pattern, reading: Reading) -> list[tuple[int, int]]:
    spans = []
    texts = (
        [reading.raw_text] if reading.text == reading.raw_text else [reading.raw_text, reading.text]
    )
    for text in texts:
        matches = list(regex.finditer(text))
        if matches:
            starts = reading.starts(text)
            spans.extend(_to_positions(starts, match) for match in matches)
    return spans


def _search(regex: re.Pattern, reading: Reading) -> bool:
    return bool(
        regex.search(reading.raw_text)
        or (reading.text != reading.raw_text and regex.search(reading.text))
    )


def _covered(span: tuple[int, int], excepted: list[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in excepted)


def compile_rules(rows: Iterable[Mapping], *, version: str = "") -> RuleSet:
    """Compile rule rows (dicts with id, kind, text, category, action, context, exceptions).

    A rule that does not compile is skipped and logged: one bad rule never stops the others.
    """
    started = time.perf_counter()
    rules = RuleSet(version=version)
    for row in rows:
        try:
            rules.add(row)
        except (re.error, OverflowError, RecursionError):
            logger.exception("prompt rule %s does not compile; skipped", row.get("id"))
    rules.finish()
    rules.compile_seconds = time.perf_counter() - started
    return rules


# --- Process-wide rule set, versioned through the cache -------------------------------------

_lock = threading.Lock()
_compiled: RuleSet | None = None


def rules_version() -> str:
    version = cache.get(VERSION_CACHE_KEY)
    if version is None:
        cache.add(VERSION_CACHE_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_CACHE_KEY)
    if version is None:  # a cache that keeps nothing (DummyCache): reload now and then
        version = f"uncached-{int(time.monotonic() // UNCACHED_REFRESH_SECONDS)}"
    return version


def rules_changed() -> None:
    """Tell every process to recompile before its next screen."""
    cache.set(VERSION_CACHE_KEY, uuid.uuid4().hex, timeout=None)


def active_rules() -> RuleSet:
    global _compiled
    version = rules_version()
    current = _compiled
    if current is not None and current.version == version:
        return current
    with _lock:
        if _compiled is None or _compiled.version != version:
            rows = PromptRule.objects.filter(is_active=True).values(
                "id", "kind", "text", "category", "action", "context", "exceptions"
            )
            _compiled = compile_rules(rows, version=version)
            logger.info(
                "compiled %d prompt rules in %.1f ms",
                len(_compiled.rules),
                _compiled.compile_seconds * 1000,
            )
        return _compiled


def prompt_screen(prompt: str) -> Verdict | None:
    """None when the prompt may go ahead; otherwise the category, the action and the rule."""
    return active_rules().screen(prompt)
