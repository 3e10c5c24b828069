r"""Running many regular expressions over a prompt quickly.

Python's engine tries each alternative of a big alternation at every character. Almost every
rule expression starts with \b and a letter, so we look at the characters that begin a word in
the prompt once, and run only the alternatives that can start with one of them, only where a
word begins. An expression whose first character cannot be worked out is always run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

try:  # the parser of the standard library's engine; without it we are only slower
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover
    sre_parse = sre_constants = None

WORD_START = re.compile(r"\b\w")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")
_FLAGS = re.IGNORECASE


def top_level_alternatives(pattern: str) -> list[str]:
    """A regular expression split on its top-level "|" (not inside groups or classes)."""
    parts, depth, in_class, escaped, begin = [], 0, False, False, 0
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[begin:index])
            begin = index + 1
    parts.append(pattern[begin:])
    return parts


def first_chars(pattern: str) -> frozenset[str] | None:
    """The characters a match can begin with (lower case), or None when unknown or any."""
    if sre_parse is None:
        return None
    try:
        parsed = sre_parse.parse(pattern, _FLAGS)
    except (re.error, RecursionError):
        return None
    found = _first(list(parsed))
    return None if found is None or found is _EMPTY else frozenset(found)


_EMPTY = object()  # the items can match the empty string


def _first(items: list) -> set[str] | object | None:
    chars: set[str] = set()
    for op, av in items:
        if op is sre_constants.AT:
            continue  # \b, ^: zero width
        if op is sre_constants.LITERAL:
            return chars | {chr(av).lower()}
        if op is sre_constants.IN:
            inside = _class_chars(av)
            return None if inside is None else chars | inside
        if op is sre_constants.SUBPATTERN:
            found = _first(list(av[-1]))
        elif op is sre_constants.BRANCH:
            found = _union(_first(list(branch)) for branch in av[1])
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, _, sub = av
            found = _first(list(sub))
            if found is not None and found is not _EMPTY and low == 0:
                chars |= found
                continue  # optional: what follows can begin the match too
        else:
            return None
        if found is None:
            return None
        if found is _EMPTY:
            continue
        return chars | found
    return _EMPTY if not chars else None  # an optional prefix followed by nothing


def _union(results: Iterable) -> set[str] | object | None:
    chars: set[str] = set()
    for found in results:
        if found is None or found is _EMPTY:
            return None
        chars |= found
    return chars


def _class_chars(items: list) -> set[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is sre_constants.LITERAL:
            chars.add(chr(av).lower())
        elif op is sre_constants.RANGE and av[1] - av[0] <= 64:
            chars.update(chr(code).lower() for code in range(av[0], av[1] + 1))
        else:
            return None
    return chars


class PatternSet:
    """Expressions that can be asked, together, whether any of them matches a text."""

    def __init__(self, patterns: list[str]):
        buckets: dict[str, list[str]] = {}
        anywhere: list[str] = []
        # Group numbers change when expressions are joined: one with a back-reference runs alone.
        self.alone = [re.compile(p, _FLAGS) for p in patterns if _BACKREFERENCE.search(p)]
        for pattern in patterns:
            if _BACKREFERENCE.search(pattern):
                continue
            for part in top_level_alternatives(pattern):
                starts = first_chars(part) if part.startswith("\\b") else None
                if not starts or not all(char.isalnum() for char in starts):
                    anywhere.append(part)
                    continue
                for char in starts:
                    buckets.setdefault(char, []).append(part)
        self.at_word = {char: _join(parts) for char, parts in buckets.items()}
        self.anywhere = _join(anywhere) if anywhere else None

    def search(self, text: str, word_starts: dict[int, str]) -> bool:
        if self.anywhere is not None and self.anywhere.search(text):
            return True
        if any(regex.search(text) for regex in self.alone):
            return True
        at_word = self.at_word
        for position, char in word_starts.items():
            regex = at_word.get(char)
            if regex is not None and regex.match(text, position):
                return True
        return False


def _join(parts: list[str]) -> re.Pattern:
    return re.compile("|".join(f"(?:{part})" for part in parts), _FLAGS)


def word_starts(text: str) -> dict[int, str]:
    """Where words begin in `text`, and with which character."""
    return {match.start(): match.group() for match in WORD_START.finditer(text)}
