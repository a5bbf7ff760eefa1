"""Starter articles for a family practice: services, insurance plans,
scheduling rules, new patient intake, a billing disputes script, the
red-flag symptoms policy and a script for calming an anxious caller.
`seed_articles(practice)` adds those the practice does not have yet (by
slug), so it can run on every start. "{practice}" in a body becomes the
practice's name."""

from __future__ import annotations

from django.db import transaction

from hub.knowledge.models import Article, ArticleVersion, Category
from hub.lib import clock
from hub.models import AgentProfile, Practice, Topic

FENCE = "```"

ARTICLES = [
    {
        "slug": "services-we-offer",
        "title": "Services we offer",
        "category": Category.SERVICES,
        "topics": ["appointment", "new-patient"],
        "body": """{practice} cares for the whole family, newborns to seniors.

## Visits
- **Annual physicals** and well-child checks (with school and sports forms)
- **Sick visits**, same day when booked before 11am
- **Chronic care**: diabetes, high blood pressure, asthma, thyroid
- **Women's health**: Pap smears, contraception, prenatal care to 28 weeks (then referred to OB)
- **Minor procedures**: stitches, skin tag and mole removal, ear wax removal, joint injections

## On site
- Lab draws Monday to Friday 7:30–11am (fasting labs first thing)
- Vaccines for all ages, including flu and COVID-19 in season
- EKG and spirometry

## Not offered here (refer)
- X-rays and imaging: Riverside Imaging Center, (555) 010-0300
- Physical therapy, dermatology, cardiology: ask the nurse line for a referral

""" + FENCE + """snippet Services overview
We offer annual physicals, sick visits, chronic care, women's health, vaccines and minor procedures, with lab draws on site every weekday morning. What can we help you with?
""" + FENCE + "\n",
    },
    {
        "slug": "accepted-insurance-plans",
        "title": "Accepted insurance plans",
        "category": Category.INSURANCE,
        "topics": ["insurance", "bill", "new-patient"],
        "body": """## In network
| Payer | Plans | Notes |
| --- | --- | --- |
| Blue Cross Blue Shield | PPO, HMO, Blue Advantage | HMO patients need us listed as their PCP |
| Aetna | PPO, Open Access | |
| UnitedHealthcare | Choice Plus, Medicare Advantage | |
| Cigna | Open Access Plus | |
| Medicare | Part B | We accept assignment |
| State Medicaid | Riverside Health Plan | New Medicaid patients: waitlist, ask Intake |

## Not in network
Humana commercial plans, Oscar, Ambetter. Patients may still be seen as self-pay (see *Billing disputes* for self-pay rates).

## Checking coverage
Verify the patient's identity first, then check eligibility in the EHR panel. Never confirm coverage from the plan name alone: ask for the member ID on the card.

""" + FENCE + """snippet Insurance we accept
We're in network with Blue Cross Blue Shield, Aetna, UnitedHealthcare, Cigna, Medicare and Riverside Health Plan (Medicaid). If you can share the member ID on your card, I'll confirm your coverage.
""" + FENCE + """

""" + FENCE + """snippet Out of network
We're not in network with that plan, but you're welcome to be seen as a self-pay patient. A standard visit is $140, payable at check-in. Would you like to book?
""" + FENCE + "\n",
    },
    {
        "slug": "scheduling-rules",
        "title": "Scheduling rules",
        "category": Category.SCHEDULING,
        "topics": ["appointment", "reschedule"],
        "body": """## Visit lengths
| Visit | Length | Notes |
| --- | --- | --- |
| Annual physical | 40 min | Not bookable within 12 months of the last one (insurance) |
| Sick visit | 20 min | Same day slots open at 8am |
| Follow-up | 20 min | |
| New patient | 60 min | Intake forms first (see *New patient intake*) |
| Procedure | 30 min | Nurse line confirms before booking |

## Rules
1. **Same-day sick slots** are held until 11am; after that, offer the next morning or urgent care.
2. **Cancellations** need 24 hours' notice. A second late cancellation within 6 months: $50 fee, tell the patient when booking.
3. **Late arrivals**: more than 15 minutes late may have to reschedule.
4. Children under 18 need a parent or guardian at the visit.
5. Never double-book a provider without a supervisor's yes.

""" + FENCE + """snippet Cancellation policy
Just so you know, we ask for 24 hours' notice to cancel or reschedule. That way we can offer the time to another patient.
""" + FENCE + "\n",
    },
    {
        "slug": "new-patient-intake",
        "title": "New patient intake",
        "category": Category.POLICIES,
        "topics": ["new-patient"],
        "body": """New patients are welcome at every age. Before the first visit:

1. Take their name, date of birth, phone number and insurance (payer and member ID).
2. Send the intake forms link by text; forms must be done 48 hours before the visit.
3. Ask them to request records from their previous doctor (we send the release form with the intake link).
4. Book a 60-minute new patient visit once the forms are back.

Medicaid new patients go on the waitlist: tell them honestly that the wait is about 6 weeks.

""" + FENCE + """snippet Welcome new patient
Welcome to {practice}! I'll text you a link to our new patient forms. Once they're done (at least two days before your visit), we'll book your first appointment, which takes about an hour.
""" + FENCE + "\n",
    },
    {
        "slug": "billing-disputes-script",
        "title": "Billing disputes: call script",
        "category": Category.SCRIPTS,
        "topics": ["bill"],
        "body": """For a patient who thinks a bill is wrong or too high. Stay calm and factual; never argue about what the insurer decided.

1. **Listen first.** Let them explain without interrupting. Acknowledge: *"I understand, an unexpected bill is stressful."*
2. **Verify identity** before discussing any charges.
3. **Find the charge** and read the date of service and description back to them.
4. **Explain** what the explanation of benefits (EOB) says: deductible, copay, not covered.
5. If the charge looks wrong (wrong date, duplicate, a visit they did not have), open a billing review: it pauses collections for 30 days.
6. Offer a **payment plan** for balances over $100: up to 12 months, no interest.
7. If they ask for a manager, transfer to the billing supervisor with a note.

Self-pay rates: standard visit $140, physical $220, new patient visit $260.

""" + FENCE + """snippet Acknowledge the bill concern
I understand, an unexpected bill is stressful. Let's look at it together so I can explain each charge and see what we can do.
""" + FENCE + """

""" + FENCE + """snippet Payment plan offer
We can split your balance into monthly payments over up to 12 months, with no interest. Would you like me to set that up?
""" + FENCE + """

""" + FENCE + """snippet Billing review opened
I've opened a billing review for that charge. Collections are paused for 30 days while we look into it, and we'll contact you with the result.
""" + FENCE + "\n",
    },
    {
        "slug": "red-flag-symptoms",
        "title": "Red-flag symptoms policy",
        "category": Category.POLICIES,
        "topics": ["symptoms", "refill"],
        "body": """Non-clinical staff never give medical advice. When a patient mentions any of these, **stop and act now**:

## Call 911 (tell the patient to hang up and call, or call for them)
- Chest pain or pressure, especially with sweating or shortness of breath
- Trouble breathing, blue lips
- Signs of stroke: face drooping, arm weakness, slurred speech
- Severe bleeding, a seizure, fainting
- Thoughts of suicide or harming others (also give the 988 crisis line)

## Transfer to the nurse line now (mark the conversation urgent)
- Fever over 104°F, or any fever in a baby under 3 months
- Severe pain, a head injury, pregnancy with bleeding or pain
- An allergic reaction, a new rash with fever
- Medication reactions or a missed dose of a critical medication

Write a note with what the patient said, in their words.

""" + FENCE + """snippet Emergency: call 911
What you're describing needs emergency care right now. Please call 911 or go to the nearest emergency room. If you can't call, tell me where you are and I'll get help.
""" + FENCE + """

""" + FENCE + """snippet Nurse line transfer
Thank you for telling me. I'm connecting you with one of our nurses right now so they can help you. Please stay on the line.
""" + FENCE + "\n",
    },
    {
        "slug": "calming-an-anxious-caller",
        "title": "Calming an anxious caller",
        "category": Category.SCRIPTS,
        "topics": ["symptoms"],
        "body": """Worried patients and families need to feel heard before they can take in information.

1. **Slow down.** Speak a little slower and lower than usual; in chat, short sentences.
2. **Name the feeling**: *"It sounds like you're really worried about your dad."*
3. **Say what you will do**, then do it: *"I'm going to check the first opening with Dr. Lee."*
4. **One thing at a time.** Ask one question, wait for the answer.
5. **Check red flags** (see *Red-flag symptoms policy*): worry can hide an emergency.
6. **Close with a plan**: what happens next, and when they will hear from us.

Avoid "calm down", "don't worry" and medical reassurance ("I'm sure it's nothing").

""" + FENCE + """snippet Acknowledge and reassure
I can hear how worried you are, and I'm glad you reached out. I'm going to help you with this step by step.
""" + FENCE + """

""" + FENCE + """snippet Close with a plan
Here's what happens next: I've booked your visit and a nurse will call you this afternoon. If anything gets worse before then, call us right away or call 911.
""" + FENCE + "\n",
    },
]


def seed_articles(practice: Practice) -> list[Article]:
    """Add the starter articles the practice lacks; answers those added."""
    author = (AgentProfile.objects.in_practice(practice)
              .filter(role__in=[AgentProfile.Role.SUPERVISOR, AgentProfile.Role.ADMIN])
              .order_by("pk").values_list("user_id", flat=True).first())
    topics = dict(Topic.objects.in_practice(practice).values_list("slug", "pk"))
    existing = set(Article.objects.in_practice(practice).values_list("slug", flat=True))
    added = []
    with transaction.atomic():
        for spec in ARTICLES:
            if spec["slug"] in existing:
                continue
            added.append(_create(practice, spec, author, topics))
    return added


def _create(practice: Practice, spec: dict, author: int | None, topics: dict[str, int]) -> Article:
    now = clock.now()
    article = Article.objects.create(
        practice=practice, slug=spec["slug"], title=spec["title"], category=spec["category"],
        body=spec["body"].replace("{practice}", practice.name), version=1, created_at=now, updated_at=now,
        updated_by_id=author)
    article.topics.set([topics[slug] for slug in spec["topics"] if slug in topics])
    ArticleVersion.objects.create(practice=practice, article=article, number=1, title=article.title,
                                  category=article.category, body=article.body, change_note="Starter article",
                                  author_id=author, created_at=now)
    return article
