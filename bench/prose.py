"""Generated prose for the workloads where NER must run: business text, and text dense with
contact data (names, street addresses, phone numbers, e-mail addresses).

Sentences are built from templates whose slots are drawn at random (teams, tools, figures,
dates; invented people, streets, numbers and mailboxes), so that prompts rarely repeat a
sentence: a per-sentence cache would not be flattered by them. Business text carries
what real business text carries: product and company names, acronyms, weekdays, months,
quarters and figures, but no person, place or contact. Every name, street and number is
invented; phone numbers use the 555-01xx range.
"""

from __future__ import annotations

import random
from collections.abc import Callable

TEAMS = [
    "finance", "procurement", "the support team", "the platform group", "legal",
    "marketing", "the data team", "operations", "sales", "the Finance team",
    "the Customer Success team", "IT", "the product group", "facilities", "payroll",
]  # fmt: skip
TOOLS = [
    "Salesforce", "Jira", "Confluence", "Excel", "SAP", "Workday", "Slack", "Tableau",
    "Zendesk", "ServiceNow", "HubSpot", "Power BI", "Snowflake", "NetSuite", "SharePoint",
    "Google Sheets", "Looker", "Asana",
]  # fmt: skip
ACRONYMS = ["KPI", "SLA", "ERP", "CRM", "OKR", "EMEA", "APAC", "ROI", "NPS", "FAQ", "RFP", "SOW"]
METRICS = [
    "revenue", "churn", "gross margin", "the ticket backlog", "on-time delivery",
    "inventory turns", "average handling time", "customer satisfaction", "headcount",
    "cloud spend", "the conversion rate", "days sales outstanding", "first-contact resolution",
]  # fmt: skip
THINGS = [
    "the migration plan", "the renewal proposal", "the onboarding checklist", "the budget",
    "the pricing page", "the release notes", "the vendor contract", "the quarterly forecast",
    "the training material", "the incident report", "the hiring plan", "the roadmap",
    "the travel policy", "the product brief", "the audit findings", "the capacity plan",
]  # fmt: skip
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip
VERBS_UP = ["grew", "rose", "improved", "recovered", "climbed"]
VERBS_DOWN = ["fell", "slipped", "dropped", "declined", "softened"]
ASKS = [
    "Please summarize", "Draft a short note about", "Can you review", "Rewrite",
    "List the open questions in", "Compare the two versions of", "Check the numbers in",
    "Suggest three improvements to", "Explain in plain words",
]  # fmt: skip

BUSINESS_TEMPLATES = [
    "{metric_cap} {up} {pct} percent in {quarter} while {metric} stayed flat.",
    "{ask} {thing} before the review on {day}.",
    "{team_cap} moved {thing} into {tool} last week.",
    "The {acronym} dashboard in {tool} now refreshes every {n} minutes.",
    "We expect {metric} to reach its target by the end of {month}.",
    "{ask} {thing} for a general audience, in at most {n} sentences.",
    "Our {acronym} for {quarter} is {pct} percent, up from {pct2} percent a year ago.",
    "{team_cap} asked for a second quote before signing {thing}.",
    "The steering meeting moved from {day} to {day2} afternoon.",
    "Costs in {acronym2} {down} by {pct} percent after the {tool} rollout.",
    "Keep the answer short and cite the page of {thing} you used.",
    "{ask} the comments from {team} and group them by theme.",
    "The {tool} licence renewal is due in {month} and costs about {money}.",
    "Please turn these notes into an agenda for {day}'s planning session.",
    "{metric_cap} {down} slightly in {month}, mostly because of seasonal demand.",
    "We will freeze changes to {thing} from {month} {date} until the audit closes.",
    "Can you estimate how many hours {team} spends on manual reporting each week?",
    "The {acronym} review found {n} gaps, and {team} owns most of them.",
    "Export the figures from {tool} and attach them to {thing}.",
    "Budget holders should submit their {quarter} requests by {day}.",
    "Our goal for {year} is to cut {metric} by a tenth without adding staff.",
    "Translate {thing} into a one-page summary for the board.",
    "The pilot with {tool} covered {n} teams and ran for six weeks.",
    "{team_cap} will present the {acronym} results at the {month} offsite.",
    "Write a polite reminder that {thing} is still waiting for approval.",
    "After the upgrade, {tool} reports {metric} per region instead of per country.",
    "Average deal size {up} to {money} in {quarter} {year}.",
    "Which of these risks should we escalate before {day}?",
    "The new {acronym} template replaces the spreadsheet we used until {month}.",
    "Shipping delays {down} after {team} renegotiated the carrier terms.",
    "Give me three options for reducing {metric}, with rough costs for each.",
    "The vendor confirmed the {acronym} terms and will send the {acronym2} draft by {day}.",
    "{team_cap} closed {n} tickets in {tool} this sprint.",
    "Prepare talking points on {thing} for the all-hands in {month}.",
    "Forecast accuracy in {tool} {up} once {team} cleaned up the pipeline stages.",
    "Outline the steps to retire the old reporting jobs by {quarter}.",
]  # fmt: skip

FIRST_NAMES = [
    "Laura", "Marcus", "Priya", "Tomasz", "Aiko", "Daniel", "Fatima", "Oskar", "Mirela",
    "Kwame", "Ingrid", "Rafael", "Chen", "Amara", "Lucas", "Sofia", "Nikolai", "Hannah",
    "Mateo", "Yusuf", "Elena", "Jonas", "Leila", "Samuel", "Noor", "Victor", "Keiko",
    "Bianca", "Emeka", "Greta", "Arjun", "Maya", "Teodor", "Camille", "Omar", "Helga",
]  # fmt: skip
LAST_NAMES = [
    "Bennett", "Whitfield", "Natarajan", "Kowalski", "Tanaka", "Ortiz", "Haddad",
    "Lindqvist", "Kovac", "Mensah", "Solberg", "Quintero", "Wei", "Okafor", "Moreau",
    "Rossi", "Petrov", "Schreiber", "Alvarez", "Demir", "Marin", "Weber", "Rahimi",
    "Osei", "Farouk", "Lindgren", "Sato", "Ferreira", "Eze", "Holm", "Iyer", "Castell",
    "Novak", "Duval", "Hassan", "Brandt",
]  # fmt: skip
STREETS = [
    "Harbor View", "Cedar Hollow", "Maple", "Birchwood", "Old Mill", "Lakeshore",
    "Sycamore", "Quarry", "Ridgeview", "Willow Bend", "Granite", "Orchard", "Foxglove",
    "Juniper", "Stonebridge", "Alder", "Meadowlark", "Copper Creek",
]  # fmt: skip
STREET_TYPES = ["Road", "Lane", "Avenue", "Street", "Drive", "Court", "Way", "Blvd", "St", "Ave"]
CITIES = [
    ("Portland", "OR", "972"), ("Fort Wayne", "IN", "468"), ("Boise", "ID", "837"),
    ("Madison", "WI", "537"), ("Dayton", "OH", "454"), ("Tulsa", "OK", "741"),
    ("Burlington", "VT", "054"), ("Reno", "NV", "895"), ("Springfield", "IL", "627"),
    ("Austin", "TX", "787"), ("Fort Collins", "CO", "805"), ("Raleigh", "NC", "276"),
]  # fmt: skip
DOMAINS = ["northwind-mail.com", "lumenfield.io", "contoso-example.net", "acme-corp.org"]

CONTACT_TEMPLATES = [
    "{name} called from {phone} about the delayed invoice.",
    "Please send the signed contract to {email} before {day}.",
    "{name} asked to be reached at {phone} after five.",
    "Ship the replacement unit to {address}, attention {name}.",
    "{name} wrote from {email} about the renewal and the new price list.",
    "Call {name} on {phone} to confirm the delivery window.",
    "Our contact at the distributor is {name} ({email}, {phone}).",
    "{name} moved to {address} and wants the statements sent there.",
    "I spoke with {name} today; she prefers e-mail, so use {email}.",
    "The courier could not find {address}, so {name} will pick the parcel up.",
    "{name} and {name2} will join the call; dial {phone} if the link fails.",
    "Forward the complaint to {name} at {email} and copy {name2}.",
    "The new billing address for {name} is {address}.",
    "{name} left a voicemail from {phone} asking about the refund.",
    "Book the meeting room for {name} and {name2} on {day}.",
    "Thank {name} for the quick reply and ask whether {address} is still correct.",
    "{name} from procurement needs the quote by {day}; her number is {phone}.",
    "Add {name} ({email}) to the distribution list for the weekly report.",
]  # fmt: skip


def _phone(rng: random.Random) -> str:
    area = rng.randint(201, 989)
    line = f"01{rng.randint(0, 99):02d}"
    shape = rng.randrange(4)
    if shape == 0:
        return f"({area}) 555-{line}"
    if shape == 1:
        return f"{area}-555-{line}"
    if shape == 2:
        return f"+1 {area} 555 {line}"
    return f"{area}.555.{line}"


def _address(rng: random.Random) -> str:
    city, state, zip3 = rng.choice(CITIES)
    street = f"{rng.randint(2, 9899)} {rng.choice(STREETS)} {rng.choice(STREET_TYPES)}"
    if rng.random() < 0.3:
        street += f", Apt {rng.randint(1, 40)}"
    return f"{street}, {city}, {state} {zip3}{rng.randint(0, 99):02d}"


def _fill(template: str, rng: random.Random) -> str:
    first, second = rng.sample(FIRST_NAMES, 2)
    last, last2 = rng.sample(LAST_NAMES, 2)
    team = rng.choice(TEAMS)
    metric = rng.choice(METRICS)
    day, day2 = rng.sample(DAYS, 2)
    acronym, acronym2 = rng.sample(ACRONYMS, 2)
    slots = {
        "metric": metric,
        "metric_cap": metric[0].upper() + metric[1:],
        "up": rng.choice(VERBS_UP),
        "down": rng.choice(VERBS_DOWN),
        "pct": rng.randint(2, 19),
        "pct2": rng.randint(2, 19),
        "quarter": f"Q{rng.randint(1, 4)}",
        "ask": rng.choice(ASKS),
        "thing": rng.choice(THINGS),
        "day": day,
        "day2": day2,
        "team": team,
        "team_cap": team[0].upper() + team[1:],
        "tool": rng.choice(TOOLS),
        "acronym": acronym,
        "acronym2": acronym2,
        "n": rng.randint(3, 40),
        "month": rng.choice(MONTHS),
        "date": rng.randint(1, 28),
        "year": rng.randint(2025, 2027),
        "money": f"${rng.randint(12, 480)},{rng.randint(0, 999):03d}",
        "name": f"{first} {last}",
        "name2": f"{second} {last2}" if rng.random() < 0.6 else second,
        "phone": _phone(rng),
        "email": f"{first.lower()}.{last.lower()}@{rng.choice(DOMAINS)}",
        "address": _address(rng),
    }
    return template.format(**slots)


def _text(size: int, rng: random.Random, contact_share: float) -> str:
    parts: list[str] = []
    length = 0
    while length < size:
        pool = CONTACT_TEMPLATES if rng.random() < contact_share else BUSINESS_TEMPLATES
        sentence = _fill(rng.choice(pool), rng)
        parts.append(sentence)
        length += len(sentence) + 1
    return " ".join(parts)[:size].rstrip()


def business_prose(size: int, rng: random.Random) -> str:
    """About ``size`` characters of business text: no person, place or contact in it."""
    return _text(size, rng, contact_share=0.0)


def contact_dense_prose(size: int, rng: random.Random) -> str:
    """About ``size`` characters in which about 70 % of the sentences carry a name, a street
    address, a phone number or an e-mail address (most of them a name)."""
    return _text(size, rng, contact_share=0.7)


def mixed_prose(size: int, rng: random.Random) -> str:
    """Business text with contact data in about a fifth of its sentences (chat messages)."""
    return _text(size, rng, contact_share=0.2)


#: Workload name → generator of one text of a given size.
GENERATORS: dict[str, Callable[[int, random.Random], str]] = {
    "business": business_prose,
    "contact-dense": contact_dense_prose,
}
