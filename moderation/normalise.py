"""How a prompt (and a rule's text) is read before matching: one canonical form for both.

The same function reads a prompt and a rule, so a rule written "naked" and a prompt written
"N.A.K.K.E.D", "n@ked" or "naked" with a zero-width space inside all meet on the same tokens.

Steps:
1. Zero-width and formatting characters are removed; NFKD, then combining marks are dropped
   (accents, diacritics, the "zalgo" stacks); casefold; a few Cyrillic and Greek look-alikes
   become Latin letters; apostrophes go ("girl's" reads "girls").
2. Whitespace splits the text into chunks, punctuation splits a chunk into pieces. A piece
   keeps letters, digits and the leetspeak symbols (@ $ ! | + €) found inside a word.
3. A piece that mixes letters with digits or symbols is decoded (0→o, 1→i or l, 3→e, 4→a,
   5→s, 7→t, @→a, $→s, ...); a piece of digits alone stays a number ("15 year old").
4. Runs of three or more single characters ("n u d e", "n.u.d.e", "n-u-d-e") are glued into
   one word. Only runs of single characters: normal words are never glued together.
5. Some positions keep other readings: both readings of an ambiguous symbol, a chunk cut by
   punctuation glued back ("nu-de"), a glued run without a leading "a" or "i".

Repeated letters are compared by their runs, not dropped: see `letters_key` and `runs_cover`.
Plurals are not undone here: rules are indexed under their plural spellings instead.
The common case (a plain lower-case word) costs one `str.isalpha()` and a list append.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product

_INVISIBLE = dict.fromkeys(
    [
        0x00AD,  # soft hyphen
        0x034F,  # combining grapheme joiner
        0x061C,
        0x115F,
        0x1160,
        0x17B4,
        0x17B5,
        0x180E,
        *range(0x200B, 0x2010),  # zero-width space, joiners, direction marks
        *range(0x202A, 0x202F),
        *range(0x2060, 0x2070),  # word joiner, invisible operators
        0x3164,
        0xFE0E,
        0xFE0F,  # variation selectors
        0xFEFF,  # zero-width no-break space
        0xFFA0,
    ]
)

# Cyrillic and Greek letters that look like Latin ones (after casefold).
_LOOKALIKES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "с": "c",
        "е": "e",
        "ё": "e",
        "һ": "h",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "ѕ": "s",
        "т": "t",
        "у": "y",
        "х": "x",
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ω": "w",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ħ": "h",
        "ı": "i",
        "æ": "ae",
        "œ": "oe",
        "ß": "ss",
        "µ": "u",
        "’": "'",
        "‘": "'",
        "`": "'",
        "´": "'",
    }
)

# Characters read as letters inside a word. Digits are decoded only next to letters.
LEET_SYMBOLS = "@$!|+€£¢¡"
_LEET = {
    "0": "o",
    "1": "i",
    "2": "z",
    "3": "e",
    "4": "a",
    "5": "s",
    "6": "g",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
    "+": "t",
    "€": "e",
    "£": "l",
    "¢": "c",
    "¡": "i",
}
_LEET_TABLE = str.maketrans(_LEET)
# Symbols with two plausible readings: every combination is tried (up to a few).
_AMBIGUOUS = {"1": "il", "|": "li", "!": "il"}
_MAX_VARIANTS = 8
_LEET_CHARS = frozenset(_LEET)

_PIECE = re.compile(r"(?:[^\W_]|[@$!|+€£¢¡])+")
_LETTER_RUN = re.compile(r"([^\W\d_])\1+")
_LONG_LETTER_RUN = re.compile(r"([^\W\d_])\1{2,}")
# A word with letters hidden by asterisks: "f*ck", "p**n", "*ude".
_MASKED = re.compile(r"[^\W_]+(?:\*+[^\W_]+)+|\*+[^\W_]{2,}|[^\W_]{2,}\*+(?=\W|$)")


def clean(text: str) -> str:
    """Invisible characters, accents and case removed; look-alike letters mapped to Latin."""
    text = text.translate(_INVISIBLE)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in text if not unicodedata.combining(char))
        text = text.translate(_INVISIBLE)  # NFKD can reveal some (e.g. from compatibility forms)
    text = text.casefold()
    if not text.isascii():
        text = text.translate(_LOOKALIKES)
    return text.replace("'", "")


def letters_key(form: str) -> str:
    """A form with each run of a repeated letter reduced to one letter ("nakked" → "naked")."""
    return _LETTER_RUN.sub(r"\1", form)


def letter_runs(form: str) -> tuple[int, ...]:
    """The length of each run of a repeated letter: "nakked" → (1, 1, 2, 1, 1)."""
    runs: list[int] = []
    previous = ""
    for char in form:
        if char == previous and char.isalpha():
            runs[-1] += 1
        else:
            runs.append(1)
            previous = char
    return tuple(runs)


def runs_cover(form: str, form_runs: tuple[int, ...], term_runs: tuple[int, ...]) -> bool:
    """Same letters, each run at least as long as the rule's: "nuuude" and "nakked" read as
    "nude" and "naked", but "as" is not "ass" and "bobs" is not "boobs".

    A letter doubled where the rule has one is a disguise only when the result is not itself
    an English word: "rapping" is not "raping", "hopping" is not "hoping".
    """
    stretched = deliberate = False
    for have, want in zip(form_runs, term_runs, strict=False):
        if have < want:
            return False
        if have > want:
            stretched = True
            deliberate = deliberate or have >= 3  # no English word triples a letter
    return not stretched or deliberate or form not in _doubled_words()


@lru_cache(maxsize=1)
def _doubled_words() -> frozenset[str]:
    """English words with a doubled letter (loaded once per process, on first need)."""
    from english_words import get_english_words_set

    words = get_english_words_set(["web2", "gcide"], lower=True, alpha=True)
    return frozenset(word for word in words if _LETTER_RUN.search(word))


def _decode(core: str) -> list[str]:
    """The readings of a piece that mixes letters with digits or symbols."""
    ambiguous = [char for char in core if char in _AMBIGUOUS]
    if not ambiguous:
        return [core.translate(_LEET_TABLE)]
    readings = []
    positions = [index for index, char in enumerate(core) if char in _AMBIGUOUS]
    for choice in product(*(_AMBIGUOUS[core[index]] for index in positions)):
        chars = list(core)
        for index, letter in zip(positions, choice, strict=True):
            chars[index] = letter
        readings.append("".join(chars).translate(_LEET_TABLE))
        if len(readings) >= _MAX_VARIANTS:
            break
    return readings


def _has_letter(text: str) -> bool:
    return any(char.isalpha() for char in text)


def _readings(text: str) -> list[str]:
    """The first reading is the primary one; a number alone stays a number."""
    if _has_letter(text) and any(char in _LEET_CHARS for char in text):
        return _decode(text)
    return [text]


def plurals(token: str) -> list[str]:
    """The plural spellings of a rule's word (rules are indexed under them too)."""
    forms = [token + "s"]
    if token.endswith(("s", "x", "z", "ch", "sh", "o")):
        forms.append(token + "es")
    if len(token) > 2 and token.endswith("y") and token[-2] not in "aeiou":
        forms.append(token[:-1] + "ies")
    return forms


# Punctuation that only separates words. Dots, dashes, underscores and asterisks also cut
# words ("na.ked", "nu-de", "f*ck") and are kept to glue the pieces back together.
_SEPARATORS = str.maketrans(dict.fromkeys(',;:?()[]{}<>"/#%&=~^`', " "))


@dataclass
class Reading:
    """A prompt as the matcher sees it.

    `tokens` are the decoded words, one per position; `raw_tokens` the same as written (digits
    and inner symbols kept); `extras` the other readings of some positions (both readings of
    an ambiguous symbol, a chunk cut by punctuation glued back, "a n u d e" without the "a").
    The regular expressions see `raw_text` and `text`, one position per word.
    """

    tokens: list[str]
    raw_tokens: list[str]
    extras: dict[int, set[str]] = field(default_factory=dict)
    masked: list[tuple[int, str]] = field(default_factory=list)  # (position, "f*ck")

    def __post_init__(self):
        self.raw_text = " ".join(self.raw_tokens)  # "15 year old girl" (numbers kept)
        # Leetspeak decoded, letters stretched three times or more reduced to one.
        joined = " ".join(self.tokens)
        self.text = _LONG_LETTER_RUN.sub(r"\1", joined)
        self.keys = letters_key(joined).split(" ") if self.tokens else []
        self._starts: dict[str, list[int]] = {}

    def starts(self, text: str) -> list[int]:
        """Where each position begins in `text` (raw_text or text)."""
        if text not in self._starts:
            offsets, offset = [], 0
            for word in text.split(" "):
                offsets.append(offset)
                offset += len(word) + 1
            self._starts[text] = offsets
        return self._starts[text]


def _chunk_pieces(chunk: str) -> tuple[list[str], list[str]]:
    """A chunk with punctuation or symbols inside: its pieces (cores) and their whole forms."""
    cores, wholes = [], []
    for whole in _PIECE.findall(chunk):
        core = whole.strip(LEET_SYMBOLS)
        if core:
            cores.append(core)
            wholes.append(whole)
    return cores, wholes


def read(text: str) -> Reading:
    chunks = clean(text).translate(_SEPARATORS).split()
    pieces: list[str] = []
    alternatives: dict[int, set[str]] = {}  # piece index -> other readings
    masked: list[tuple[int, str]] = []  # (piece index, word)
    singles = longest_singles = 0  # single characters in a row ("n u d e")
    for chunk in chunks:
        if chunk.isalpha():  # the common case: a plain word
            if len(chunk) == 1:
                singles += 1
                longest_singles = max(longest_singles, singles)
            else:
                singles = 0
            pieces.append(chunk)
            continue
        cores, wholes = _chunk_pieces(chunk)
        if not cores:
            continue
        first = len(pieces)
        if "*" in chunk and (word := _MASKED.search(chunk)):
            masked.append((first, word.group()))
        for core, whole in zip(cores, wholes, strict=True):
            singles = singles + 1 if len(core) == 1 else 0
            longest_singles = max(longest_singles, singles)
            if whole != core and _has_letter(whole):
                alternatives.setdefault(len(pieces), set()).update(_decode(whole))  # "$ex"
            pieces.append(core)
        if len(cores) > 1 and any(len(core) > 1 for core in cores):
            alternatives.setdefault(first, set()).update(_readings("".join(cores)))  # "nu-de"
    if longest_singles >= 3:
        pieces, alternatives, masked = _glue_singles(pieces, alternatives, masked)
    tokens = list(pieces)
    for index, piece in enumerate(pieces):
        if not piece.isalpha():
            readings = _readings(piece)
            tokens[index] = readings[0]
            if len(readings) > 1:
                alternatives.setdefault(index, set()).update(readings[1:])
    for index, forms in list(alternatives.items()):
        forms.discard(tokens[index])
        if not forms:
            del alternatives[index]
    return Reading(tokens=tokens, raw_tokens=pieces, extras=alternatives, masked=masked)


def _glue_singles(pieces, alternatives, masked):
    """Runs of three or more single characters ("n u d e", "n.u.d.e") become one word."""
    glued: list[str] = []
    moved: dict[int, int] = {}  # old piece index -> new position
    new_alternatives: dict[int, set[str]] = {}
    index = 0
    while index < len(pieces):
        end = index
        while end < len(pieces) and len(pieces[end]) == 1:
            end += 1
        if end - index >= 3:
            word = "".join(pieces[index:end])
            for old in range(index, end):
                moved[old] = len(glued)
            if word[0] in "ai":  # "a n u d e woman"
                new_alternatives[len(glued)] = set(_readings(word[1:]))
            glued.append(word)
            index = end
            continue
        moved[index] = len(glued)
        if index in alternatives:
            new_alternatives.setdefault(len(glued), set()).update(alternatives[index])
        glued.append(pieces[index])
        index += 1
    return glued, new_alternatives, [(moved[old], word) for old, word in masked]


_PLAIN_TERM = re.compile(r"[a-z]{2,}(?: [a-z]{2,})*")


@lru_cache(maxsize=8192)
def term_tokens(term: str) -> tuple[str, ...]:
    """A rule's word or phrase read the way a prompt is: its primary forms, in order."""
    if _PLAIN_TERM.fullmatch(term):  # most terms: what `read` would give, without the work
        return tuple(term.split(" "))
    return tuple(read(term).tokens)
