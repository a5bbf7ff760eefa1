"""The documented keyword and phrase rules that read an agent's reply."""

import pytest

from hub.training.intents import INTENTS, classify


@pytest.mark.parametrize("text,intents", [
    ("Hi Maya, I'm so sorry to hear that. Could you confirm your date of birth?",
     ["greeting", "empathy", "asks_identity"]),
    ("Good morning, thanks for calling Riverside.", ["greeting"]),
    ("That sounds really frustrating.", ["empathy"]),
    ("Take your time, there's no rush.", ["empathy"]),
    ("Please calm down, it's probably nothing.", ["dismissive"]),
    ("Like I said, the office opens at eight.", ["dismissive"]),
    ("Can I have your full name?", ["asks_identity"]),
    ("What\u2019s your DOB?", ["asks_identity"]),
    ("Your balance is $85.", ["discloses"]),
    ("I see your results came back normal.", ["discloses"]),
    ("Your appointment is on Thursday at 10:30.", ["discloses"]),
    ("You're booked for Tuesday with Dr. Lee.", ["discloses"]),
    ("I have an opening tomorrow at 9:20, would that work?", ["offers_appointment"]),
    ("Would Thursday morning work for you?", ["offers_appointment"]),
    ("We accept Blue Cross and we're in network.", ["insurance_info"]),
    ("We can set up a payment plan.", ["payment_plan"]),
    ("Let me review the charge with our coding team.", ["reviews_charge"]),
    ("Don't worry, it's free.", ["promises_coverage"]),
    ("Please hang up and call 911.", ["emergency_advice"]),
    ("Go to the emergency room now.", ["emergency_advice"]),
    ("Is there anything else? Have a great day!", ["closes"]),
    ("One moment please.", []),
    ("", []),
])
def test_classify(text, intents):
    assert classify(text) == intents


def test_a_question_about_the_balance_is_not_a_disclosure():
    assert "discloses" not in classify("Before we talk about the balance, can I have your date of birth?")


def test_rules_report_in_a_fixed_order():
    found = classify("Bye! Hi!")
    assert found == ["greeting", "closes"]
    assert INTENTS.index("greeting") < INTENTS.index("closes")
