"""The starter rules on a table of prompts: what they must stop and what they must let through.

The rates are printed (pytest -s) and held to a floor; each row is also its own test so a
regression names the prompt.
"""

import pytest

from tests.moderation.prompt_table import CAUGHT, INNOCENT

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("prompt", "category", "action"), CAUGHT)
def test_harmful_prompts_are_caught_with_their_category(starter_rules, prompt, category, action):
    verdict = starter_rules.screen(prompt)
    assert verdict is not None, prompt
    assert (verdict.category, verdict.action) == (category, action), prompt


@pytest.mark.parametrize("prompt", INNOCENT)
def test_innocent_prompts_pass(starter_rules, prompt):
    assert starter_rules.screen(prompt) is None


def test_rates_on_the_table(starter_rules):
    caught = sum(starter_rules.screen(prompt) is not None for prompt, _, _ in CAUGHT)
    blocked_when_harmful = sum(
        (v := starter_rules.screen(prompt)) is not None and v.blocks for prompt, _, _ in CAUGHT
    )
    verdicts = [starter_rules.screen(prompt) for prompt in INNOCENT]
    wrongly_blocked = sum(v is not None and v.blocks for v in verdicts)
    wrongly_reviewed = sum(v is not None and not v.blocks for v in verdicts)
    print(
        f"\ncaught {caught}/{len(CAUGHT)} ({caught / len(CAUGHT):.1%}), "
        f"blocked {blocked_when_harmful}; innocent wrongly blocked {wrongly_blocked}/"
        f"{len(INNOCENT)} ({wrongly_blocked / len(INNOCENT):.1%}), reviewed {wrongly_reviewed}"
    )
    assert len(CAUGHT) >= 60 and len(INNOCENT) >= 60
    assert caught / len(CAUGHT) >= 0.95
    assert wrongly_blocked / len(INNOCENT) <= 0.02


def test_the_most_serious_block_wins(starter_rules):
    """A prompt that several rules match gets the block, then the most serious category."""
    assert starter_rules.screen("Taylor Swift nude").category == "sexual"
    assert starter_rules.screen("a nude 16 year old").category == "minors"
    # lingerie alone is a review, a public figure a block: the block wins
    verdict = starter_rules.screen("Kim Kardashian in lingerie")
    assert (verdict.category, verdict.action) == ("public_figure", "block")


def test_every_category_has_starter_rules(starter_rules):
    from moderation.models import Category

    assert {rule.category for rule in starter_rules.rules} == set(Category.values)
    assert sum(rule.category == "public_figure" for rule in starter_rules.rules) >= 80
