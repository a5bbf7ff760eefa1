"""Every shipped scenario played to its end through the REST API, along its
main branch and its mistake branches, with the clock frozen."""

import pytest

from hub.training.scenarios import load_scenarios

SLUGS = {"anxious-back-pain", "billing-dispute", "new-patient-insurance", "chest-pain-red-flag",
         "confused-elderly-caller"}


def scorecard(run):
    assert run["status"] == "finished" and run["complete"], run["status"]
    return run["scorecard"]


def test_the_five_scenarios_ship(db):
    assert {s.slug for s in load_scenarios()} == SLUGS


# --- chest pain: a red flag ------------------------------------------------------------

def test_chest_pain_main_branch_advises_911_fast(world, player):
    p = player(world.alice)
    p.start("chest-pain-red-flag")
    assert "left arm" in p.last_patient()
    p.reply("I'm so sorry. This could be serious: please hang up and call 911 right now.")
    assert p.last_patient() == "Should I really call 911 for this?"
    run = p.reply("Yes. Chest pressure with arm pain needs emergency care: call 911 now.")
    assert "calling 911 now" in p.last_patient()
    card = scorecard(run)
    assert run["outcome"] == "escalated"
    assert card["routing"]["ok"] and card["resolution"]["ok"] and card["compliance"]["ok"]
    assert not card["compliance"]["applies"]
    assert card["score"] == 100


def test_chest_pain_transferred_to_scheduling_goes_down_the_wrong_routing_branch(world, player):
    p = player(world.alice)
    p.start("chest-pain-red-flag")
    run = p.transfer("scheduling")
    card = scorecard(run)
    assert run["outcome"] == "transferred"
    assert "hold for them" in p.last_patient()
    assert not card["routing"]["ok"] and "Transfer to Scheduling" in card["routing"]["detail"]
    assert not card["resolution"]["ok"]
    assert any("red flag" in f["feedback"] for f in card["feedback"])


def test_chest_pain_verified_first_escalates_too_late(world, player):
    p = player(world.alice)
    p.start("chest-pain-red-flag")
    p.reply("Before anything else, can I have your date of birth?")
    assert "April 11th" in p.last_patient()
    p.escalate("911", think=60)
    run = p.reply("Yes, call 911 now.")
    card = scorecard(run)
    assert card["resolution"]["ok"]
    assert not card["routing"]["ok"] and card["routing"]["took_seconds"] > 60
    assert "after" in card["routing"]["detail"]


def test_chest_pain_urgent_nurse_escalation_is_acceptable(world, player):
    p = player(world.alice)
    p.start("chest-pain-red-flag")
    run = p.escalate("nurse")
    card = scorecard(run)
    assert run["outcome"] == "escalated" and card["routing"]["ok"] and card["resolution"]["ok"]


# --- anxious patient in pain ----------------------------------------------------------

def test_anxious_patient_main_branch(world, player):
    p = player(world.alice)
    p.start("anxious-back-pain")
    p.reply("Hi Maya, I'm so sorry you're in pain, that sounds really worrying.")
    assert p.last_patient() == "can I get in today or tomorrow?"
    run = p.reply("Of course. Could you confirm your full name and date of birth?")
    assert any(e["label"] == "Identity verified" for e in run["entries"])
    p.reply("Thank you. I have an opening tomorrow at 9:20, would that work?")
    assert "9:20" in p.last_patient()
    p.reply("You're booked. Is there anything else I can help with? Take care!")
    run = p.resolve()
    card = scorecard(run)
    assert run["outcome"] == "resolved"
    assert card["compliance"]["ok"] and card["compliance"]["verified"]
    assert card["routing"]["ok"] and card["resolution"]["ok"]
    assert card["score"] == 100 and card["feedback"] == []


def test_anxious_patient_dismissed_then_recovered(world, player):
    p = player(world.alice)
    p.start("anxious-back-pain")
    p.reply("Please calm down, it's probably nothing.")
    assert p.last_patient() == "maybe I should just go somewhere else"
    p.reply("I'm sorry, that must be really hard.")
    p.reply("Could you confirm your date of birth?")
    p.reply("I can book you tomorrow at 9:20.")
    run = p.resolve()
    card = scorecard(run)
    assert card["resolution"]["ok"]
    assert [f["text"] for f in card["feedback"]] == ["Please calm down, it's probably nothing."]


def test_anxious_patient_dismissed_twice_leaves(world, player):
    p = player(world.alice)
    p.start("anxious-back-pain")
    p.reply("Calm down, it's probably nothing.")
    run = p.reply("Like I said, just relax.")
    card = scorecard(run)
    assert run["outcome"] == "unresolved" and not card["resolution"]["ok"]


def test_anxious_patient_told_record_details_before_verifying(world, player):
    p = player(world.alice)
    p.start("anxious-back-pain")
    p.reply("I'm sorry to hear that.")
    p.reply("I see your appointment is on Friday, but let's find something sooner.")
    assert p.last_patient() == "wait, how do you know that? I haven't even told you my name"
    p.reply("Sorry, could you give me your date of birth?")
    p.reply("I have an opening tomorrow at 9:20.")
    run = p.resolve()
    card = scorecard(run)
    assert not card["compliance"]["ok"] and len(card["compliance"]["misses"]) == 1
    assert card["resolution"]["ok"] and card["score"] == 75


def test_anxious_patient_transferred_to_billing(world, player):
    p = player(world.alice)
    p.start("anxious-back-pain")
    run = p.transfer("billing")
    card = scorecard(run)
    assert run["outcome"] == "transferred" and not card["routing"]["ok"] and not card["resolution"]["ok"]


# --- billing dispute -------------------------------------------------------------------

def test_billing_dispute_main_branch(world, player):
    p = player(world.bob)
    p.start("billing-dispute")
    p.reply("Hi Robert, I'm sorry about the frustration. Can you confirm your date of birth first?")
    assert p.last_patient() == "DOB 07/02/1973"
    p.reply("Thank you. The $85 is for the knee exam, which is billed as a separate office visit.")
    assert p.last_patient() == "Can I at least pay it over a few months?"
    p.reply("Yes, I can set up a payment plan over three months.")
    p.reply("Anything else I can help with? Have a good day.")
    run = p.resolve()
    card = scorecard(run)
    assert card["compliance"]["ok"] and card["resolution"]["ok"] and card["routing"]["ok"]
    assert card["score"] == 100


def test_billing_dispute_disclosed_before_verifying(world, player):
    p = player(world.bob)
    p.start("billing-dispute")
    p.reply("Your balance is $85 for the knee visit.")
    assert "haven't even checked who I am" in " ".join(p.patient_said())
    p.reply("You're right, sorry. Can you confirm your date of birth?")
    p.reply("The $85 is the separate knee visit.")
    p.reply("We can resubmit the claim to your insurance.")
    run = p.resolve()
    card = scorecard(run)
    assert not card["compliance"]["ok"]
    assert card["compliance"]["misses"][0]["text"] == "Your balance is $85 for the knee visit."
    assert card["resolution"]["ok"]
    flagged = [e for e in run["entries"] if "disclosed_unverified" in e["flags"]]
    assert len(flagged) == 1 and flagged[0]["feedback"]


def test_billing_dispute_transferred_away(world, player):
    p = player(world.bob)
    p.start("billing-dispute")
    run = p.transfer("scheduling")
    card = scorecard(run)
    assert "passed around" in p.last_patient()
    assert not card["routing"]["ok"] and not card["resolution"]["ok"]


def test_billing_dispute_dismissed_twice_files_a_complaint(world, player):
    p = player(world.bob)
    p.start("billing-dispute")
    p.reply("As I said, it's not a big deal.")
    run = p.reply("Like I told you, calm down.")
    assert p.last_patient() == "Forget it. I'm filing a complaint."
    assert run["outcome"] == "unresolved"


# --- new patient with insurance questions ----------------------------------------------

def test_new_patient_main_branch(world, player):
    p = player(world.alice)
    p.start("new-patient-insurance")
    p.reply("Hi! Yes, we're accepting new patients and we're in network with Blue Cross Blue Shield PPO.")
    p.reply("Please bring your insurance card; you'll pay your plan's copay for the visit.")
    p.reply("I can book you Thursday at 10, would that work?")
    assert p.last_patient() == "Thursday at 10 works! Thank you, that was easy."
    run = p.resolve()
    card = scorecard(run)
    assert card["score"] == 100 and not card["compliance"]["applies"]


def test_new_patient_promised_free_care(world, player):
    p = player(world.alice)
    p.start("new-patient-insurance")
    p.reply("Yes, we take that, you're fully covered so it's free!")
    run = p.reply("Let me book you: I have an opening Thursday at 10.")
    card = scorecard(run)
    assert run["outcome"] == "resolved" and not card["resolution"]["ok"]
    assert "surprise bill" in card["resolution"]["summary"]
    assert card["feedback"] and "Never promise" in card["feedback"][0]["feedback"]


def test_new_patient_sent_to_scheduling_or_billing(world, player):
    p = player(world.alice)
    p.start("new-patient-insurance")
    wrong = scorecard(p.transfer("nurse"))
    assert not wrong["routing"]["ok"] and not wrong["resolution"]["ok"]
    p.start("new-patient-insurance")
    right = scorecard(p.transfer("billing"))
    assert right["routing"]["ok"] and right["resolution"]["ok"]


# --- confused elderly caller ----------------------------------------------------------

def test_elderly_caller_main_branch(world, player):
    p = player(world.alice)
    p.start("confused-elderly-caller")
    p.reply("Hello, yes, this is the doctor's office. Take your time.")
    p.reply("Can I have your full name, please?")
    assert "F, I, S, C, H, E, R" in p.last_patient()
    p.reply("Thank you. And your date of birth?")
    p.reply("Your appointment is on Thursday at 10:30 with Dr. Lee.")
    assert p.last_patient() == "Could you say that once more, slowly?"
    p.reply("Of course. Your appointment is on Thursday, at 10:30.")
    run = p.resolve()
    card = scorecard(run)
    assert card["score"] == 100 and card["compliance"]["verified"]


def test_elderly_caller_given_details_on_her_name_alone(world, player):
    p = player(world.alice)
    p.start("confused-elderly-caller")
    p.reply("What is your name?")
    p.reply("Thanks, your appointment is on Thursday.")
    assert "sister-in-law" in p.last_patient()
    run = p.resolve()
    card = scorecard(run)
    assert not card["compliance"]["ok"] and not card["resolution"]["ok"]
    assert "Doris" in card["resolution"]["summary"]


def test_elderly_caller_rushed_then_calmed(world, player):
    p = player(world.alice)
    p.start("confused-elderly-caller")
    p.reply("As I said, this is the office. Hurry up please.")
    assert "wait for my daughter" in p.last_patient()
    p.reply("I'm so sorry, take your time.")
    assert p.last_patient() == "Can you tell me which day I'm coming in?"
    p.reply("Can I have your full name and date of birth?")
    run = p.transfer("nurse")
    card = scorecard(run)
    assert run["outcome"] == "transferred" and not card["routing"]["ok"]


@pytest.mark.parametrize("slug", sorted(SLUGS))
def test_resolving_at_once_always_ends_the_run(world, player, slug):
    p = player(world.alice)
    p.start(slug)
    card = scorecard(p.resolve())
    assert not card["resolution"]["ok"]
