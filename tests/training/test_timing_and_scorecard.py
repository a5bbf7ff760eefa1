"""What the page sees when, and the scorecard's figures: messages are
visible only after their delays, response times are measured from the
moment a message became visible, and the four checks score the run."""

import shutil
from datetime import timedelta

import yaml

from hub.training.engine import act, begin
from hub.training.scenarios import DEFAULT_DIR, Action, get_scenario, parse_scenario
from hub.training.scorecard import build, response_times
from tests.training.samples import VALID


def test_patient_messages_appear_after_their_delays(world, player, frozen_clock):
    p = player(world.alice)
    p.run = run = p.post("/runs", {"scenario": "chest-pain-red-flag"}).json()
    assert run["entries"] == [] and run["typing"] and run["next_message_in"] == 2.0
    assert run["waiting_since"] is None
    frozen_clock.advance(seconds=2)
    run = p.state()
    assert [e["kind"] for e in run["entries"]] == ["patient"] and run["next_message_in"] == 3.0
    assert run["waiting_since"] == run["entries"][0]["at"]
    frozen_clock.advance(seconds=3)
    run = p.state()
    assert len(run["entries"]) == 2 and not run["typing"] and run["next_message_in"] is None


def test_response_times_are_counted_from_the_visible_message(world, player, frozen_clock):
    p = player(world.alice)
    p.start("chest-pain-red-flag")  # messages visible at +2 s and +5 s; now +5 s
    p.reply("Please call 911 now.", think=4)  # 7 s after the first unanswered message
    run = p.reply("Yes, call 911 right away.", think=6)  # advised-911 visible at +11 s, +13 s; now +19 s
    response = run["scorecard"]["response"]
    assert response["first_seconds"] == 7.0
    assert response["slowest_seconds"] == 8.0
    assert response["average_seconds"] == 7.5
    assert response["count"] == 2 and response["within_target"] == 2 and response["ok"]
    assert response["target_seconds"] == 15 and response["points"] == 25


def test_slow_responses_cost_points(world, player):
    p = player(world.alice)
    p.start("chest-pain-red-flag")
    p.reply("Please call 911 now.", think=4)
    run = p.reply("Yes, call 911 right away.", think=20)
    response = run["scorecard"]["response"]
    assert response["slowest_seconds"] == 22.0 and response["within_target"] == 1 and not response["ok"]
    assert response["points"] == 12  # 25 x 1/2, rounded half to even
    assert run["scorecard"]["score"] == 87


def test_acting_while_the_patient_is_still_typing(world, player, frozen_clock):
    """An action between two messages of a turn: the rest of the turn still
    arrives, the next node's messages queue behind it, and the next
    response is timed from the message that arrived after the action."""
    p = player(world.alice)
    p.run = p.post("/runs", {"scenario": "chest-pain-red-flag"}).json()
    frozen_clock.advance(seconds=3)  # the first message has been visible 1 s, the second comes at +5 s
    p.act(think=0, kind="reply", text="Call 911 now, please.")
    texts = p.patient_said()
    assert texts[1].startswith("I'm all sweaty") and texts[2] == "Okay... I really didn't want to make a fuss."
    run = p.reply("Yes, please call now.", think=1)
    times = run["scorecard"]["response"]
    assert times["first_seconds"] == 1.0  # from +2 s to +3 s
    assert times["count"] == 2 and times["slowest_seconds"] == 5.0  # from +5 s: "I'm all sweaty"


def test_the_engine_reads_a_transcript_the_same_way(world, frozen_clock):
    scenario = get_scenario("anxious-back-pain")
    now = frozen_clock.now
    state = begin(scenario, now)
    now += timedelta(seconds=20)
    act(scenario, state, Action(kind="reply", text="Sorry!", intents=("empathy",)), now)
    assert response_times(state.transcript) == [18.0]  # the first message was visible at +2 s


def test_intents_and_flags_are_shown_only_once_the_run_is_over(world, player):
    p = player(world.bob)
    p.start("billing-dispute")
    run = p.reply("Your balance is $85.")
    mine = [e for e in run["entries"] if e["kind"] == "agent"]
    assert mine[0]["intents"] == [] and mine[0]["flags"] == [] and run["scorecard"] is None
    assert run["scenario"]["persona_about"] == ""
    run = p.transfer("nurse")
    mine = [e for e in run["entries"] if e["kind"] == "agent"]
    assert mine[0]["intents"] == ["discloses"] and mine[0]["flags"] == ["disclosed_unverified"]
    assert "Robert" in run["scenario"]["persona_about"]
    assert [e["label"] for e in mine] == ["Reply", "Transfer to Nurse Line"]


def test_the_scorecard_waits_for_the_last_message(world, player, frozen_clock):
    p = player(world.alice)
    p.start("chest-pain-red-flag")
    frozen_clock.advance(seconds=3)
    response = p.post(f"/runs/{p.run['id']}/actions", {"kind": "escalate", "to": "nurse"})
    run = response.json()
    assert run["status"] == "finished" and not run["complete"] and run["scorecard"] is None and run["typing"]
    frozen_clock.advance(seconds=run["next_message_in"])
    run = p.state()
    assert run["complete"] and run["scorecard"]["score"] == 100 and run["score"] == 100
    assert run["entries"][-1]["text"] == "The nurse line, okay. I'll hold."


def test_a_changed_scenario_file_keeps_old_scorecards_and_stops_open_runs(world, player, settings, tmp_path):
    for path in DEFAULT_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    settings.TRAINING_SCENARIO_DIR = str(tmp_path)
    p = player(world.alice)
    p.start("chest-pain-red-flag")
    finished = p.escalate("nurse")
    unfinished = player(world.bob)
    unfinished.start("chest-pain-red-flag")
    changed = tmp_path / "chest-pain-red-flag.yaml"
    changed.write_text(changed.read_text().replace("Chest pain: a red-flag caller", "Chest pain (revised)"))

    assert p.get(f"/runs/{finished['id']}").json()["scorecard"] == finished["scorecard"]
    assert p.get("/runs").json()[0]["score"] == finished["scorecard"]["score"]
    response = unfinished.post(f"/runs/{unfinished.run['id']}/actions", {"kind": "resolve"})
    assert response.status_code == 409 and response.json()["code"] == "scenario_changed"
    assert unfinished.start("chest-pain-red-flag")["scenario"]["title"] == "Chest pain (revised)"


def test_an_action_no_rule_expects(frozen_clock):
    """A reply no rule matches leaves the patient silent on the same node; a
    transfer, escalation or resolve no rule matches ends the run there,
    with the patient's need not met."""
    scenario = parse_scenario(yaml.safe_dump(VALID), "tiny.yaml")
    now = frozen_clock.now
    state = begin(scenario, now)
    act(scenario, state, Action(kind="reply", text="One moment."), now + timedelta(seconds=5))
    assert state.node == "hello" and not state.ended
    assert [e["kind"] for e in state.transcript] == ["patient", "agent"]
    act(scenario, state, Action(kind="transfer", department="nurse"), now + timedelta(seconds=9))
    assert state.ended and state.outcome == "transferred" and state.need_met is False
    card = build(scenario, state)
    assert not card["resolution"]["ok"] and not card["routing"]["ok"]
    assert card["response"]["count"] == 1 and card["response"]["first_seconds"] == 4.0


def test_the_patient_is_verified_only_once_the_verifying_message_is_visible(world, player, frozen_clock):
    p = player(world.alice)
    p.start("anxious-back-pain")
    asked = {"kind": "reply", "text": "Could you confirm your date of birth?"}
    p.run = p.post(f"/runs/{p.run['id']}/actions", asked).json()
    assert p.run["typing"] and p.run["next_message_in"] == 4.0
    frozen_clock.advance(seconds=1)  # the date of birth is still being typed
    p.act(think=0, kind="reply", text="Your appointment is on Friday.")
    p.reply("I have an opening tomorrow at 9:20.")
    run = p.resolve()
    compliance = run["scorecard"]["compliance"]
    assert compliance["verified"] and not compliance["ok"]
    assert [m["text"] for m in compliance["misses"]] == ["Your appointment is on Friday."]
