"""Red-flag phrasings, table-driven: what is flagged, in which category,
and whether a negation keeps the automatic safety reply back."""

import pytest

from hub.lib.redflags import find, most_serious

# text, expected categories, negated?
TABLE = [
    ("I have chest pain", {"cardiac"}, False),
    ("Chest pain since this morning!!", {"cardiac"}, False),
    ("my chest pains are getting worse", {"cardiac"}, False),
    ("there's a crushing pain and pressure", {"cardiac"}, False),
    ("I think I'm having a heart attack", {"cardiac"}, False),
    ("it feels like a tight chest when I walk", {"cardiac"}, False),
    ("CHEST PRESSURE and sweating", {"cardiac"}, False),
    ("I can't breathe", {"breathing"}, False),
    ("I cant breathe properly", {"breathing"}, False),
    ("having trouble breathing since lunch", {"breathing"}, False),
    ("really short of breath today", {"breathing"}, False),
    ("shortness of breath when lying down", {"breathing"}, False),
    ("my son is gasping for air", {"breathing"}, False),
    ("her lips turning blue", {"breathing"}, False),
    ("My dad's face is drooping and his speech is slurred", {"stroke"}, False),
    ("slurred speech and arm weakness", {"stroke"}, False),
    ("I think my mom is having a stroke", {"stroke"}, False),
    ("sudden severe headache, worst headache of my life", {"stroke"}, False),
    ("numb on one side of my body", {"stroke"}, False),
    ("cut my hand and it won't stop bleeding", {"bleeding"}, False),
    ("severe bleeding after the procedure", {"bleeding"}, False),
    ("I'm coughing up blood", {"bleeding"}, False),
    ("he is vomiting blood", {"bleeding"}, False),
    ("I want to kill myself", {"suicide"}, False),
    ("I've been feeling suicidal", {"suicide"}, False),
    ("sometimes I think everyone would be better off dead without me", {"suicide"}, False),
    ("I want to end my life", {"suicide"}, False),
    ("thinking about hurting myself... I might harm myself", {"suicide"}, False),
    ("I took too many pills", {"overdose"}, False),
    ("my friend overdosed", {"overdose"}, False),
    ("possible overdose of tylenol", {"overdose"}, False),
    ("she passed out and is unresponsive", {"unresponsive"}, False),
    ("my daughter is having a seizure", {"seizure"}, False),
    ("my throat is closing after the bee sting", {"allergic"}, False),
    # Negated: still flagged for a human, no automatic reply.
    ("No chest pain, just a cough", {"cardiac"}, True),
    ("I don't have chest pain", {"cardiac"}, True),
    ("denies shortness of breath", {"breathing"}, True),
    ("without any trouble breathing", {"breathing"}, True),
    ("I'm not suicidal, just tired", {"suicide"}, True),
    ("never had a seizure before, asking about the vaccine", {"seizure"}, True),
    # A negation in another clause does not cancel the symptom.
    ("No fever, but chest pain since last night", {"cardiac"}, False),
    ("I'm not sure but I think it's chest pain", {"cardiac"}, False),
    # Nothing to flag.
    ("Can I reschedule my appointment to Thursday?", set(), None),
    ("How much is the copay for a check-up?", set(), None),
    ("I need a refill of lisinopril", set(), None),
    ("The strokes of my paintbrush...", set(), None),  # a word that contains a phrase is not the phrase
    ("my chest x-ray results?", set(), None),
    ("Is the clinic open Saturday?", set(), None),
]


@pytest.mark.parametrize("text,categories,negated", TABLE, ids=[t[0][:40] for t in TABLE])
def test_red_flag_phrasings(text, categories, negated):
    flags = find(text)
    assert {f.category for f in flags} == categories
    if categories:
        assert all(f.negated == negated for f in flags), flags
        assert (most_serious(flags) is None) == negated


def test_the_table_is_large_enough():
    assert len(TABLE) >= 40


def test_suicide_outranks_other_flags_for_the_reply():
    flags = find("chest pain and I want to die")
    assert most_serious(flags).category == "suicide"


def test_an_affirmed_mention_outweighs_a_negated_one():
    [flag] = find("no chest pain yesterday, today chest pain")
    assert flag.negated is False
