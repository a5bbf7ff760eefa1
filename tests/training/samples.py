"""A minimal valid scenario, for tests that change or play it."""

VALID = {
    "slug": "tiny",
    "title": "Tiny",
    "summary": "A test scenario.",
    "channel": "sms",
    "department": "billing",
    "topics": ["bill"],
    "skills": ["testing"],
    "persona": {"name": "Test Person", "about": "Made up."},
    "routing": {"expected": ["resolve"]},
    "start": "hello",
    "nodes": {
        "hello": {"patient": [{"text": "Hi", "delay": 1}],
                  "then": [{"if": "reply:greeting", "to": "done"}, {"if": "resolve", "to": "done"}]},
        "done": {"end": {"outcome": "resolved", "need_met": True, "summary": "Done."}},
    },
}
