"""What an agent's free-text reply does, by documented keyword and phrase
rules (docs/training.md lists them).

A reply can carry several intents at once ("Hi, I'm sorry to hear that.
Could you give me your date of birth?" is a greeting, empathy and an
identity check); scenario transitions pick the one they branch on. The
rules are deliberately plain regular expressions on the lower-cased text:
an agent who reads the documentation can predict them, and a scenario
writer can test a phrase against them with `classify`.
"""

from __future__ import annotations

import re

_DAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow|this|next)"

# (intent, patterns), in the order intents are reported.
RULES: list[tuple[str, list[str]]] = [
    ("greeting", [
        r"\b(?:hi|hello|hey|good (?:morning|afternoon|evening)|welcome)\b",
        r"\bthanks? (?:you )?for (?:calling|contacting|reaching out|writing|your message)\b",
        r"\b(?:this is|my name is|you'?re (?:speaking|chatting|talking) (?:with|to))\b",
    ]),
    ("empathy", [
        r"\b(?:i'?m|i am|so|really|very) sorry\b",
        r"\bsorry (?:to hear|about|for|you)\b",
        r"\bi (?:completely |totally |really )?understand\b",
        r"\bi can (?:imagine|understand|hear|see why)\b",
        r"\bthat (?:sounds|must be)\b",
        r"\b(?:must|can) be (?:hard|difficult|frustrating|worrying|stressful|scary|confusing|upsetting)\b",
        r"\bi'?m here to help\b",
        r"\btake (?:all )?your time\b",
        r"\bno (?:need to )?(?:rush|hurry)\b",
    ]),
    ("dismissive", [
        r"\bcalm down\b",
        r"\b(?:it'?s|that'?s|it is|that is) (?:probably |likely )?(?:nothing|not a big deal|no big deal)\b",
        r"\bnothing to worry about\b",
        r"\b(?:as|like) i (?:already )?(?:said|told you|mentioned)\b",
        r"\bi (?:already|just) (?:said|told you)\b",
        r"\bjust relax\b",
        r"\bhurry up\b",
        r"\bi don'?t have (?:all day|time for)\b",
    ]),
    ("asks_identity", [
        r"\b(?:date of birth|birth ?date|birthday|dob|d\.o\.b)\b",
        r"\bfull name\b",
        r"\b(?:verify|confirm) (?:your|the patient'?s|who you are)(?: identity| name| details)?\b",
        r"\b(?:spell|confirm) your (?:first |last )?name\b",
        r"\bwhat(?:'s| is) your (?:full |first |last )?name\b",
    ]),
    ("discloses", [
        r"\$\s?\d",
        r"\b\d+ dollars\b",
        r"\bbalance (?:is|of|shows|comes to)\b",
        r"\byou (?:still )?owe\b",
        r"\b(?:test |lab |blood )?(?:results?|labs?) (?:are|is|came back|show|were|look)\b",
        r"\byour (?:next |upcoming )?(?:appointment|visit) (?:is|was) (?:on|at|for|scheduled|booked)\b",
        r"\b(?:you'?re|you are) (?:scheduled|booked) (?:for|on|at|with)\b",
        r"\b(?:your|the) (?:account|record|chart|file) (?:shows|says|has|lists)\b",
        r"\bi (?:can )?see (?:that )?(?:you have|you owe|you'?re|your (?:balance|appointment|visit|results?|account"
        r"|bill|statement|claim|chart|record))\b",
        r"\b(?:insurance|claim) (?:was )?(?:denied|paid|processed)\b",
        r"\byour (?:diagnosis|prescription|medication) (?:is|was)\b",
    ]),
    ("offers_appointment", [
        r"\b(?:opening|openings|slot|slots|availability)\b",
        r"\b(?:i|we) (?:can|could) (?:book|schedule|fit) you\b",
        r"\b(?:get|fit|squeeze) you in\b",
        r"\b(?:book|schedule) (?:you|an appointment|a visit|a time)\b",
        rf"\bwould {_DAYS}\b[^.?!]* work\b",
        rf"\b(?:come in|be seen) (?:{_DAYS}|on|at)\b",
        r"\bsame[- ]day (?:appointment|visit)\b",
    ]),
    ("insurance_info", [
        r"\b(?:accept|take)s? (?:most |your |that |all |many )?(?:insurance|plans?|medicare|medicaid|aetna"
        r"|blue cross|bcbs|cigna|united)\b",
        r"\b(?:in|out of)[- ]network\b",
        r"\b(?:copay|co-pay|deductible|coinsurance)\b",
        r"\binsurance card\b",
    ]),
    ("payment_plan", [
        r"\bpayment plan\b",
        r"\b(?:monthly|installment) payments?\b",
        r"\bpay (?:it )?(?:over time|in installments|in parts)\b",
        r"\bspread (?:it|the cost|the payments?) (?:out|over)\b",
    ]),
    ("reviews_charge", [
        r"\b(?:review|look into|check|resubmit|re-submit|appeal|correct|fix) (?:the|your|this|that) (?:charge|bill"
        r"|statement|claim|invoice)\b",
    ]),
    ("promises_coverage", [
        r"\b(?:you'?re|you are|it'?s|it is|that'?s|that is|it will be|it'?ll be) "
        r"(?:fully |completely |100% )?covered\b",
        r"\bwon'?t (?:cost|pay) (?:you )?(?:anything|a thing|a cent)\b",
        r"\b(?:it'?s|it is|it will be|it'?ll be|that'?s|that is) (?:totally |completely )?free\b",
    ]),
    ("emergency_advice", [
        r"\b911\b",
        r"\b(?:emergency room|emergency department|the er)\b",
        r"\bambulance\b",
        r"\bemergency services\b",
    ]),
    ("closes", [
        r"\banything else\b",
        r"\bhave a (?:good|great|nice|lovely|wonderful) (?:day|evening|afternoon|weekend|night|one)\b",
        r"\btake care\b",
        r"\b(?:good)?bye\b",
        r"\bglad (?:i|we) could help\b",
        r"\byou'?re (?:very |most )?welcome\b",
    ]),
]

INTENTS: tuple[str, ...] = tuple(intent for intent, _ in RULES)

_COMPILED = [(intent, [re.compile(p) for p in patterns]) for intent, patterns in RULES]


def normalize(text: str) -> str:
    """Lower case, straight apostrophes, single spaces."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split())


def classify(text: str) -> list[str]:
    """The intents of a reply, in the order of INTENTS; [] when none."""
    normal = normalize(text)
    return [intent for intent, patterns in _COMPILED if any(p.search(normal) for p in patterns)]
