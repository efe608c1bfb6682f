"""Seeded synthetic school-support scenarios at any size, with English school-improvement texts and places."""

from __future__ import annotations

import math
import random
from typing import Any

# (town, lat, lon): trust hubs across England; schools scatter around them so travel limits bite.
TOWNS = [
    ("Kendal", 54.33, -2.75),
    ("Carlisle", 54.89, -2.93),
    ("Barrow-in-Furness", 54.11, -3.23),
    ("Lancaster", 54.05, -2.80),
    ("Preston", 53.76, -2.70),
    ("Blackburn", 53.75, -2.48),
    ("Bolton", 53.58, -2.43),
    ("Wigan", 53.54, -2.63),
    ("Liverpool", 53.41, -2.98),
    ("Manchester", 53.48, -2.24),
    ("Stockport", 53.41, -2.16),
    ("Leeds", 53.80, -1.55),
    ("Bradford", 53.80, -1.75),
    ("Sheffield", 53.38, -1.47),
    ("Hull", 53.74, -0.33),
    ("York", 53.96, -1.08),
    ("Middlesbrough", 54.57, -1.23),
    ("Sunderland", 54.91, -1.38),
    ("Newcastle upon Tyne", 54.97, -1.61),
    ("Durham", 54.78, -1.57),
    ("Lincoln", 53.23, -0.54),
    ("Nottingham", 52.95, -1.15),
    ("Derby", 52.92, -1.48),
    ("Leicester", 52.64, -1.13),
    ("Stoke-on-Trent", 53.00, -2.18),
    ("Birmingham", 52.49, -1.89),
    ("Coventry", 52.41, -1.51),
    ("Wolverhampton", 52.59, -2.13),
    ("Worcester", 52.19, -2.22),
    ("Hereford", 52.06, -2.72),
    ("Norwich", 52.63, 1.30),
    ("Ipswich", 52.06, 1.16),
    ("Peterborough", 52.57, -0.24),
    ("Cambridge", 52.21, 0.12),
    ("Northampton", 52.24, -0.90),
    ("Milton Keynes", 52.04, -0.76),
    ("Oxford", 51.75, -1.26),
    ("Reading", 51.45, -0.97),
    ("Swindon", 51.56, -1.78),
    ("Bristol", 51.45, -2.59),
    ("Gloucester", 51.86, -2.24),
    ("Bath", 51.38, -2.36),
    ("Exeter", 50.72, -3.53),
    ("Plymouth", 50.38, -4.14),
    ("Truro", 50.26, -5.05),
    ("Taunton", 51.02, -3.10),
    ("Bournemouth", 50.72, -1.88),
    ("Southampton", 50.90, -1.40),
    ("Portsmouth", 50.80, -1.09),
    ("Brighton", 50.82, -0.14),
    ("Canterbury", 51.28, 1.08),
    ("Maidstone", 51.27, 0.52),
    ("Chelmsford", 51.74, 0.47),
    ("Luton", 51.88, -0.42),
    ("Croydon", 51.37, -0.10),
    ("Hackney", 51.55, -0.06),
    ("Ealing", 51.51, -0.30),
    ("Colchester", 51.89, 0.90),
    ("Guildford", 51.24, -0.57),
    ("Telford", 52.68, -2.45),
]

PLACE_WORDS = [
    "Oakfield",
    "Fellside",
    "Lakeland",
    "Riverside",
    "St Mary's",
    "Beechwood",
    "Hillcrest",
    "Meadowbank",
    "Castle View",
    "Moorside",
    "Westfield",
    "Holy Trinity",
    "Brookfield",
    "Ashgrove",
    "Kingsway",
    "Highfield",
    "Valley",
    "Parkside",
    "St Oswald's",
    "Northgate",
]
FIRST = [
    "Amira",
    "Tom",
    "Jo",
    "Sam",
    "Priya",
    "David",
    "Sarah",
    "Mohammed",
    "Emma",
    "James",
    "Aisha",
    "Rachel",
    "Daniel",
    "Hannah",
    "Olu",
    "Catherine",
    "Liam",
    "Fatima",
    "Gareth",
    "Helen",
    "Kwame",
    "Zoe",
]
LAST = [
    "Khan",
    "Reid",
    "Price",
    "Ellis",
    "Patel",
    "Jones",
    "Smith",
    "Okafor",
    "Taylor",
    "Brown",
    "Ahmed",
    "Wilson",
    "Hughes",
    "Clarke",
    "Murphy",
    "Begum",
    "Walker",
    "Wright",
    "Thompson",
    "Evans",
]

# (area, phases it suits or None for any, request sentences, expertise phrases)
TOPICS: list[tuple[str, tuple[str, ...] | None, list[str], list[str]]] = [
    (
        "Curriculum and Teaching",
        ("primary", "nursery", "all-through", "special"),
        [
            "Year 1 phonics screening results fell to {pct}% and pupils cannot blend unfamiliar words.",
            "Early reading is inconsistent: phonics sessions are not systematic, keep-up groups ad hoc.",
            "Pupils in Key Stage 1 struggle with decodable books; staff need phonics training.",
        ],
        [
            "Early reading lead; systematic synthetic phonics trainer; keep-up sessions and decodable books.",
            "Phonics and early reading specialist: blending, segmenting, Year 1 phonics screening check.",
        ],
    ),
    (
        "Achievement",
        ("secondary", "all-through", "post-16"),
        [
            "Students reach GCSE with gaps in algebra; Key Stage 3 maths is poorly sequenced.",
            "GCSE maths outcomes fell to {pct}% at grade 4; non-specialist teachers need support.",
            "Maths department needs help with curriculum sequencing and retrieval practice in Key Stage 3.",
        ],
        [
            "Head of mathematics; Key Stage 3 curriculum sequencing, algebra, supporting non-specialist "
            "maths teachers.",
            "Secondary maths lead practitioner: GCSE preparation, retrieval practice, algebra.",
        ],
    ),
    (
        "Achievement",
        ("primary", "all-through", "special"),
        [
            "Key Stage 2 maths attainment is {pct}%; fluency in multiplication tables is weak.",
            "Year 4 multiplication tables check results are low and mastery maths is new to staff.",
        ],
        [
            "Primary maths mastery specialist; fluency, multiplication tables, concrete pictorial abstract.",
            "Maths hub mastery lead for primary: reasoning, fluency and times tables.",
        ],
    ),
    (
        "Inclusion",
        None,
        [
            "New SENCo needs help with support plans and applications for statutory assessment.",
            "EHC plan reviews are late and the graduated approach is not embedded in classrooms.",
            "Provision mapping for pupils with SEND is weak; assess-plan-do-review cycles are not recorded.",
        ],
        [
            "SENCo: graduated approach, assess-plan-do-review, statutory assessment requests, EHC plans.",
            "SEND specialist: provision mapping, EHC plan reviews, supporting new SENCos.",
        ],
    ),
    (
        "Attendance and Behaviour",
        None,
        [
            "Persistent absence is {pct}% and disadvantaged pupils are missing school most.",
            "Suspensions have risen; the behaviour policy is applied inconsistently at lunchtime.",
            "Attendance procedures need tightening: first-day calling and family support meetings.",
        ],
        [
            "Attendance lead: persistent absence, first-day calling, working with families and the council.",
            "Behaviour specialist: consistent routines, reducing suspensions, restorative approaches.",
        ],
    ),
    (
        "Leadership and Governance",
        None,
        [
            "New headteacher needs coaching on school self-evaluation and the improvement plan.",
            "Governors need training on holding leaders to account and monitoring the improvement plan.",
            "Middle leaders are new to subject leadership and deep dives.",
        ],
        [
            "National leader of education: coaching new headteachers, self-evaluation, improvement planning.",
            "Governance specialist: training governors, accountability, monitoring improvement plans.",
            "Leadership coach for middle leaders: subject leadership, curriculum deep dives.",
        ],
    ),
    (
        "Early Years",
        ("primary", "nursery", "all-through"),
        [
            "Reception children's communication and language is low; the EYFS curriculum needs sequencing.",
            "Good level of development fell to {pct}%; early years provision and interactions need work.",
        ],
        [
            "Early years specialist: EYFS curriculum, communication and language, good level of development.",
            "Reception and nursery lead: continuous provision, adult interactions, early language.",
        ],
    ),
    (
        "Personal Development and Well-being",
        None,
        [
            "Pupils' mental health needs have grown; staff want training on well-being and pastoral support.",
            "Relationships and sex education and PSHE curriculum need review.",
        ],
        [
            "Mental health lead: pupil well-being, pastoral support, staff training.",
            "PSHE and RSE specialist: personal development curriculum, well-being.",
        ],
    ),
    (
        "Curriculum and Teaching",
        ("secondary", "all-through", "post-16"),
        [
            "English department: GCSE English language reading responses are weak; disciplinary literacy is "
            "missing.",
            "Reading age gaps in Year 7; whole-school literacy strategy needed.",
        ],
        [
            "Secondary English lead: GCSE English language, disciplinary literacy, reading age support.",
            "Literacy specialist: whole-school reading strategy, Year 7 catch-up.",
        ],
    ),
    (
        "Curriculum and Teaching",
        ("secondary", "all-through", "post-16"),
        [
            "Science practical work and GCSE combined science outcomes are weak.",
            "Non-specialists teach physics in Key Stage 3 and need subject knowledge support.",
        ],
        [
            "Science lead practitioner: GCSE combined science, required practicals, physics knowledge.",
            "Physics specialist supporting non-specialist science teachers.",
        ],
    ),
    (
        "Inclusion",
        None,
        [
            "Pupils with English as an additional language are not making progress in reading.",
            "Disadvantaged pupils' outcomes lag their peers; pupil premium strategy needs review.",
        ],
        [
            "EAL specialist: language acquisition, reading for new arrivals.",
            "Pupil premium lead: disadvantaged pupils, strategy review, tutoring.",
        ],
    ),
    (
        "Leadership and Governance",
        None,
        [
            "Safeguarding was judged not met: the single central record and referrals need checking.",
            "Designated safeguarding lead is new and needs support with record keeping and referrals.",
        ],
        [
            "Safeguarding specialist: designated safeguarding lead training, central record, referrals.",
            "Safeguarding auditor: safer recruitment, record keeping.",
        ],
    ),
]

PHASE_MIX = [
    ("primary", 0.64),
    ("secondary", 0.2),
    ("special", 0.05),
    ("all-through", 0.05),
    ("nursery", 0.03),
    ("post-16", 0.03),
]
KIND_MIX = [
    ("sle", 0.40),
    ("lead_practitioner", 0.18),
    ("specialist", 0.10),
    ("headteacher", 0.08),
    ("nle", 0.04),
    ("trust_central", 0.08),
    ("external", 0.12),
]


def _pick(rng: random.Random, mix):
    x, acc = rng.random(), 0.0
    for value, p in mix:
        acc += p
        if x < acc:
            return value
    return mix[-1][0]


def _suits(topic, phase: str | None) -> bool:
    return topic[1] is None or phase is None or phase in topic[1]


def synthesise(
    *,
    schools: int = 50,
    supporters: int = 500,
    requests: int = 300,
    seed: int = 1,
    school_spread_km: float = 30.0,
) -> dict[str, Any]:
    """A school-support-scenario/1 document; the same arguments always give the same document."""
    rng = random.Random(seed)
    hubs = max(1, round(schools / 50))
    start = rng.randrange(len(TOWNS))
    hub_of = [(start + h * 7) % len(TOWNS) for h in range(hubs)]
    school_docs = []
    for i in range(schools):
        town, lat0, lon0 = TOWNS[hub_of[i % hubs]]
        # Repeated hubs get jittered so that a national run is not 400 schools on one spot.
        lap = (i % hubs) // len(TOWNS)
        lat0 += 0.35 * lap * math.sin(lap)
        lon0 += 0.5 * lap * math.cos(lap)
        r = abs(rng.gauss(0, school_spread_km))
        ang = rng.random() * 2 * math.pi
        lat = lat0 + r * math.cos(ang) / 111.0
        lon = lon0 + r * math.sin(ang) / (111.0 * math.cos(math.radians(lat0)))
        phase = _pick(rng, PHASE_MIX)
        kind = {
            "primary": "Primary",
            "secondary": "Academy",
            "special": "School",
            "all-through": "Academy",
            "nursery": "Nursery School",
            "post-16": "Sixth Form College",
        }[phase]
        need = _pick(rng, [(1, 0.3), (2, 0.35), (3, 0.23), (4, 0.12)])
        budget = None if rng.random() < 0.2 else float(rng.randrange(2, 17) * 500)
        school_docs.append(
            {
                "id": f"S{i + 1}",
                "name": f"{rng.choice(PLACE_WORDS)} {kind}, {town}",
                "phase": phase,
                "need": need,
                "budget": budget,
                "lat": round(lat, 4),
                "lon": round(lon, 4),
            }
        )

    sup_docs = []
    for j in range(supporters):
        kind = _pick(rng, KIND_MIX)
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if kind in ("trust_central", "external"):
            school_id = None
            phases = sorted(rng.sample(["primary", "secondary", "special", "nursery"], rng.randint(1, 3)))
        else:
            home = school_docs[rng.randrange(schools)]
            school_id, phases = home["id"], [home["phase"]]
        suited = [t for t in TOPICS if any(_suits(t, p) for p in phases)] or TOPICS
        chosen = rng.sample(suited, min(len(suited), rng.choice([1, 1, 2, 2, 3])))
        expertise = " ".join(rng.choice(t[3]) for t in chosen)
        if kind == "external":
            capacity, rate = rng.randrange(10, 41), float(rng.randrange(9, 19) * 50)
            expertise = "Independent consultant. " + expertise
        elif kind == "trust_central":
            capacity, rate = rng.randrange(10, 31), 0.0
            expertise = "Trust central team. " + expertise
        else:
            capacity = rng.randrange(3, 16)
            rate = 0.0 if rng.random() < 0.2 else float(rng.randrange(3, 8) * 50)
        sup_docs.append(
            {
                "id": f"P{j + 1}",
                "name": name,
                "school_id": school_id,
                "kind": kind,
                "expertise": expertise,
                "phases": phases,
                "capacity_days": capacity,
                "day_rate": rate,
            }
        )

    weights = [s["need"] for s in school_docs]
    req_docs = []
    for k in range(requests):
        school = rng.choices(school_docs, weights=weights)[0]
        suited = [t for t in TOPICS if _suits(t, school["phase"])]
        topic = rng.choice(suited)
        text = rng.choice(topic[2]).format(pct=rng.randrange(35, 75))
        if rng.random() < 0.3:
            text += " " + rng.choice(
                [
                    "Ofsted visit expected this year.",
                    "Staff turnover has been high.",
                    "The trust review graded this area Needs Attention.",
                    "Graded Urgent Improvement in the trust's risk assessment.",
                ]
            )
        req_docs.append(
            {
                "id": f"R{k + 1}",
                "school_id": school["id"],
                "text": text,
                "phase": school["phase"],
                "area": topic[0],
                "days": rng.choice([1, 2, 2, 3, 3, 4, 5, 6]),
            }
        )
    return {
        "format": "school-support-scenario/1",
        "schools": school_docs,
        "supporters": sup_docs,
        "requests": req_docs,
        "pins": [],
        "bans": [],
        "rules": {
            "max_travel_km": 60,
            "min_score": 0.1,
            "need_weights": {"1": 1, "2": 2, "3": 4, "4": 8},
            "internal_first": True,
            "time_limit_s": 60,
        },
    }
