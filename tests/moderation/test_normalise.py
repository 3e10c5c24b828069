"""How prompts are read: disguised spellings meet the rule, innocent words do not."""

import pytest

from moderation.normalise import clean, read
from moderation.prompts import compile_rules


@pytest.fixture(scope="module")
def rules():
    rows = [
        {
            "id": 1,
            "kind": "word",
            "text": "nude|naked|sex|lolita|boobs|ass|cum",
            "category": "sexual",
            "action": "block",
            "context": "",
            "exceptions": "naked eye",
        },
        {
            "id": 2,
            "kind": "phrase",
            "text": "blow job|self harm|decapitat*|severed head*",
            "category": "violence",
            "action": "block",
            "context": "",
            "exceptions": "",
        },
        {
            "id": 3,
            "kind": "pattern",
            "text": r"\b(?:1[0-7]|[1-9]) ?(?:yo|years? old)\b",
            "category": "minors",
            "action": "block",
            "context": "lingerie|/\\bsexy\\b/",
            "exceptions": "",
        },
        {
            "id": 4,
            "kind": "word",
            "text": "bikini",
            "category": "sexual",
            "action": "review",
            "context": "sexy|seductive",
            "exceptions": "",
        },
    ]
    return compile_rules(rows)


@pytest.mark.parametrize(
    "prompt",
    [
        "NUDE",
        "Nüde",  # accents and other diacritics
        "ǹ̸ú̵d̶e̷",  # stacked combining marks
        "nu\u200bde",  # zero-width space
        "na\u200dked",  # zero-width joiner
        "nu\u00adde",  # soft hyphen
        "n\u2060aked",  # word joiner
        "\ufeffnaked",
        "n u d e",  # spaced letters
        "n.u.d.e",
        "n-u-d-e",
        "n_u_d_e",
        "a n u d e woman",
        "nuuuude",  # stretched letters
        "nakkked",
        "nakked",  # a doubled letter that is not an English word
        "n@ked",  # symbols and digits
        "nak3d",
        "nud3",
        "$ex",
        "s3x!",
        "l0l1ta",  # 1 read as i...
        "b00bs",
        "nu-de",  # a word cut by punctuation
        "na.ked",
        "nudes",  # plurals
        "ＮＵＤＥ",  # full-width letters
        "nudе",  # Cyrillic е
        "f*ck sex",
        "n*de",  # a starred letter
    ],
)
def test_disguised_spellings_are_caught(rules, prompt):
    verdict = rules.screen(prompt)
    assert verdict is not None and verdict.rule_id == 1, prompt


@pytest.mark.parametrize(
    "prompt",
    [
        "Scunthorpe",
        "grapes and a therapist",
        "an assassin in Sussex",
        "a cocktail in Essex and Middlesex",
        "as I walked",  # "as" is not "ass"
        "bobs his head",  # "bobs" is not "boobs"
        "cumulus clouds and cumin",
        "sextant on a ship",
        "visible to the naked eye",
        "a rapping battle",
        "t shirt a b",  # single letters are glued only in runs of three
    ],
)
def test_innocent_words_pass(rules, prompt):
    assert rules.screen(prompt) is None


def test_phrases_read_joined_and_prefixes_match_the_beginning(rules):
    for prompt in (
        "a blowjob",
        "blow-job",
        "blow job",
        "blowjobs",
        "selfharm",
        "self-harm",
        "decapitated",
        "two severed heads",
        "a severed head",
        "s3vered h3ads",
    ):
        assert rules.screen(prompt).rule_id == 2, prompt
    assert rules.screen("a capitated fee") is None


def test_context_must_also_match(rules):
    assert rules.screen("a 15 year old at the museum") is None
    assert rules.screen("a 15-year-old in lingerie").rule_id == 3
    assert rules.screen("15yo, sexy").rule_id == 3
    assert rules.screen("a 35 year old in lingerie") is None
    assert rules.screen("a woman in a bikini at the pool") is None
    assert rules.screen("a sexy woman in a bikini").action == "review"


def test_an_exception_only_covers_its_own_occurrence(rules):
    assert rules.screen("the naked eye") is None
    assert rules.screen("a naked woman seen with the naked eye").rule_id == 1


def test_cleaning_and_the_texts_regular_expressions_see():
    assert clean("Ça\u200b Nüde ＡＢ") == "ca nude ab"
    reading = read("A 15-year-old N.U.D.E girl's p0rn")
    assert reading.raw_text == "a 15 year old nude girls p0rn"
    assert reading.text == "a 15 year old nude girls porn"


def test_regular_expressions_that_defeat_the_shared_pre_check_still_work():
    rows = [
        {"id": 1, "kind": "pattern", "text": r"\b(\w+) and \1\b", "category": "other"},
        {"id": 2, "kind": "pattern", "text": r"(?:x|\bgreeb)\w*", "category": "other"},
        {"id": 3, "kind": "pattern", "text": r"\b[A-Z]lorp\b", "category": "other"},
        {"id": 4, "kind": "pattern", "text": r"\b(?:very )?zonky\b", "category": "other"},
    ]
    rules = compile_rules([{**row, "action": "block"} for row in rows])
    assert rules.screen("cats and cats").rule_id == 1
    assert rules.screen("cats and dogs") is None
    assert rules.screen("a greebling").rule_id == 2
    assert rules.screen("Florp").rule_id == 3
    assert rules.screen("a very zonky hat").rule_id == 4
    assert rules.screen("a zonky hat").rule_id == 4
