"""The demo practice's staff and their printed logins. Plain data, so the
launcher can print them without loading Django."""

AGENT, SUPERVISOR, ADMIN, INTEGRATION = "agent", "supervisor", "admin", "integration"
ROLE_LABELS = {AGENT: "Agent", SUPERVISOR: "Supervisor", ADMIN: "Practice admin", INTEGRATION: "Integration (API)"}

STAFF = [
    # username, first, last, role, departments, password
    ("admin", "Ada", "Admin", ADMIN, [], "hub-admin-demo"),
    ("sam", "Sam", "Supervisor", SUPERVISOR, [], "hub-sam-demo"),
    ("alice", "Alice", "Agent", AGENT, ["scheduling", "intake"], "hub-alice-demo"),
    ("bob", "Bob", "Agent", AGENT, ["billing"], "hub-bob-demo"),
    ("nina", "Nina", "Nurse", AGENT, ["nurse"], "hub-nina-demo"),
    ("integration", "API", "Integration", INTEGRATION, [], None),
]


def logins() -> list[tuple[str, str, str]]:
    return [(u, p, ROLE_LABELS[r]) for u, _, _, r, _, p in STAFF if p]
