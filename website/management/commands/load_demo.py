"""``manage.py load_demo``: fill an empty site with a believable peer support program.

The demo is "Riverside Peer Support": site settings, the standard pages, four
venues, six workshops with full timed outlines, three facilitator accounts,
a Coordinators group with admin access, about fifteen groups and events
over the next eight weeks, and (``website.management.demo_history``) made-up
people signed up for them and a past term with attendance to report on.
Every session is created through the workflow functions in
``events/sessions.py``, so calendar identities are right.

The command is safe to repeat: once the events listing exists below the home
page it says so and changes nothing. Everything is built inside one
transaction, so a failure part-way leaves the database as it was.
"""

import datetime as dt
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from wagtail.models import GroupPagePermission, Page, Site

from core.models import SiteSettings
from events.models import (
    EventIndexPage,
    EventKind,
    EventPage,
    EventSession,
    Registration,
    RegistrationMode,
    SessionStatus,
    Setting,
    Venue,
)
from events.permissions import FACILITATORS_GROUP
from events.sessions import (
    add_session,
    cancel_session,
    generate_weekly_series,
    reschedule_session,
    site_zone,
)
from website.management.demo_history import build_history
from website.models import HomePage, StandardPage
from workshops.models import WorkshopIndexPage, WorkshopPage

ORGANISATION_NAME = "Riverside Peer Support"
COORDINATORS_GROUP = "Coordinators"

MON, TUE, WED, THU, FRI, SAT = range(6)

#: (month, day) of the winter holidays when the demo program takes a break.
CLOSED_DAYS = {(12, 24), (12, 25), (12, 26), (12, 31), (1, 1)}


# Site-wide content -----------------------------------------------------------

SITE_DETAILS = {
    "organisation_name": ORGANISATION_NAME,
    "phone": "(416) 555-0142",
    "email": "hello@riversidepeersupport.example",
    "address": "Riverside Community Centre\n250 Mill Street\nRiverside, ON",
    "crisis_line_text": (
        "<p>In crisis? Call or text <b>988</b> at any time, or go to your "
        "nearest emergency department.</p>"
    ),
}

HOME_TITLE = "Welcome to Riverside Peer Support"
HOME_INTRO = (
    "<p>Free groups, workshops and events led by peer workers: people with "
    "their own experience of mental health or substance use challenges. "
    "Everyone is welcome, and you never have to share more than you want to.</p>"
)
HOME_BODY = [
    ("heading", {"text": "How our groups work", "level": "h2"}),
    (
        "paragraph",
        "<p>Some groups ask you to sign up so we can keep a place for you. "
        "Others are drop-in: just come along. Each listing says which. You "
        "do not need a referral, and you can bring a friend or support person."
        "</p>",
    ),
    (
        "callout",
        {
            "title": "Not sure where to start?",
            "text": (
                "<p>Call or email us and a peer worker will talk it through "
                "with you. There is no pressure to join anything.</p>"
            ),
        },
    ),
]

ABOUT_PAGE = {
    "title": "About us",
    "slug": "about",
    "show_in_menus": True,
    "intro": "Peer support by people who have been there.",
    "body": [
        (
            "paragraph",
            "<p>Riverside Peer Support is a small team of peer workers. Each "
            "of us has lived experience of mental health or substance use "
            "challenges, and we use what we have learned to walk alongside "
            "others. We work on the wards at St. Mary's Hospital and out in "
            "the community.</p>",
        ),
        ("heading", {"text": "What we believe", "level": "h2"}),
        (
            "paragraph",
            "<ul><li>You are the expert on your own life.</li>"
            "<li>Recovery looks different for everyone, and there is no "
            "wrong way to do it.</li>"
            "<li>Hope, connection and choice matter.</li></ul>",
        ),
        ("heading", {"text": "What peer support is not", "level": "h2"}),
        (
            "paragraph",
            "<p>We are not a crisis service and we do not diagnose or give "
            "treatment. We can help you find the services that fit you, and "
            "we can come along with you if you would like that.</p>",
        ),
    ],
}

PRIVACY_PAGE = {
    "title": "Privacy notice",
    "slug": "privacy",
    "show_in_menus": False,
    "intro": "What we keep when you sign up for something, and why.",
    "body": [
        ("heading", {"text": "What we ask for", "level": "h2"}),
        (
            "paragraph",
            "<p>When you sign up we ask for the name you would like to be "
            "called and one way to reach you (email or phone). You can also "
            "tell us about any support or access needs. That part is "
            "optional.</p>",
        ),
        ("heading", {"text": "Who sees it", "level": "h2"}),
        (
            "paragraph",
            "<p>Only the coordinators who plan our program and the "
            "facilitators who run your group. We never sell or share your "
            "details, and we only contact you about the groups and events "
            "you signed up for, unless you tell us you would like to hear "
            "about others.</p>",
        ),
        ("heading", {"text": "How long we keep it", "level": "h2"}),
        (
            "paragraph",
            "<p>We keep your details while your group runs and for a set time "
            "afterwards, so we can write reports for our funders. After that "
            "we remove your name and contact details. The reports only ever "
            "show numbers.</p>",
        ),
        (
            "callout",
            {
                "title": "Changed your mind?",
                "text": (
                    "<p>You can cancel your place at any time from the link in "
                    "your confirmation email, or ask us to remove your details "
                    "by calling or emailing us.</p>"
                ),
            },
        ),
    ],
}

CONTACT_PAGE = {
    "title": "Contact",
    "slug": "contact",
    "show_in_menus": True,
    "intro": "Questions about a group, or not sure if it is for you? Get in touch.",
    "body": [
        (
            "paragraph",
            "<p>Phone: <b>(416) 555-0142</b>, Monday to Friday, 9 am to 5 pm. "
            "If nobody answers, leave a message and we will call you back "
            "within two working days.</p>"
            '<p>Email: <a href="mailto:hello@riversidepeersupport.example">'
            "hello@riversidepeersupport.example</a></p>",
        ),
        (
            "paragraph",
            "<p>Our office is at the Riverside Community Centre, 250 Mill "
            "Street. Drop-in visits are welcome on Friday mornings during "
            "Coffee and conversation.</p>",
        ),
        (
            "callout",
            {
                "title": "Need help now?",
                "text": (
                    "<p>This phone line is not staffed around the clock. If "
                    "you are in crisis, call or text <b>988</b> at any time, "
                    "or go to your nearest emergency department.</p>"
                ),
            },
        ),
    ],
}

EVENTS_INDEX_INTRO = (
    "<p>Groups, workshops and events coming up. All of them are free. Use the "
    "filters to find something near you, online, or on a topic you care "
    "about.</p>"
)
WORKSHOPS_INDEX_INTRO = (
    "<p>The programs our groups and workshops follow. Each one shows how a "
    "session runs, so you know what to expect before you come.</p>"
)


# Venues ----------------------------------------------------------------------

VENUES = {
    "hospital": {
        "name": "St. Mary's Hospital",
        "setting": Setting.HOSPITAL,
        "room": "Unit 4 Day Room",
        "address": "120 Riverside Drive\nRiverside, ON",
        "directions": (
            "Take the main elevators to the fourth floor and turn left. The "
            "day room is past the nursing station."
        ),
        "step_free": True,
        "quiet_room": True,
        "accessibility_notes": (
            "Step-free from the main entrance. Accessible washroom on the unit. "
            "Groups here are for people staying on Unit 4."
        ),
        "default_capacity": 10,
    },
    "community": {
        "name": "Riverside Community Centre",
        "setting": Setting.COMMUNITY,
        "room": "Maple Room, ground floor",
        "address": "250 Mill Street\nRiverside, ON",
        "directions": (
            "Bus 12 stops outside. Free parking behind the building. Use the "
            "main doors and the Maple Room is first on the right."
        ),
        "step_free": True,
        "hearing_loop": True,
        "quiet_room": True,
        "accessibility_notes": (
            "Level entrance with automatic doors. Accessible, all-gender "
            "washroom next to the room. The small office next door is kept "
            "free as a quiet space if you need a break."
        ),
        "default_capacity": 20,
    },
    "online": {
        "name": "Online video call",
        "setting": Setting.ONLINE,
        "online_joining_link": "https://meet.example.org/riverside-peer-support",
        "accessibility_notes": (
            "Join from a computer, tablet or phone, or dial in by phone. "
            "Live captions are turned on. Cameras are optional."
        ),
        "default_capacity": 20,
    },
    "library": {
        "name": "Riverside Public Library",
        "setting": Setting.COMMUNITY,
        "room": "Meeting Room B, second floor",
        "address": "15 King Street West\nRiverside, ON",
        "directions": (
            "Take the lift or the stairs to the second floor. Meeting Room B "
            "is next to the quiet study area."
        ),
        "step_free": True,
        "accessibility_notes": (
            "Lift to every floor. Accessible washroom on the ground floor. "
            "The room can be bright: ask us if you would like the blinds down."
        ),
        "default_capacity": 30,
    },
}


# Facilitators ----------------------------------------------------------------

FACILITATORS = {
    "amara": ("amara.okafor", "Amara", "Okafor"),
    "daniel": ("daniel.tremblay", "Daniel", "Tremblay"),
    "priya": ("priya.nair", "Priya", "Nair"),
}


# Workshops -------------------------------------------------------------------


def segment(title, minutes, kind, description, notes="", materials=()):
    """One outline segment, in the shape the workshop outline StreamField takes."""
    return (
        "segment",
        {
            "title": title,
            "minutes": minutes,
            "kind": kind,
            "description": description,
            "facilitator_notes": notes,
            "materials": list(materials),
        },
    )


CLOSING_NOTES = (
    "Remind people of the crisis line and where to find support between "
    "sessions. Stay for a few minutes afterwards for anyone who wants to talk."
)

WORKSHOPS = {
    "wrap": {
        "title": "Wellness Recovery Action Plan (WRAP)",
        "slug": "wellness-recovery-action-plan",
        "summary": (
            "Build your own plan for staying well, noticing when things are "
            "getting harder, and what helps. You write the plan, in your own "
            "words, and you keep it."
        ),
        "audience": "Anyone who wants a plan for their own wellbeing",
        "duration_minutes": 120,
        "learning_goals": (
            "<ul><li>Make a list of the everyday things that keep you well"
            "</li><li>Notice your early warning signs and triggers</li>"
            "<li>Decide what you and others can do when things get hard</li>"
            "<li>Leave with a plan that belongs to you</li></ul>"
        ),
        "outline": [
            segment(
                "Welcome and group agreements",
                10,
                "welcome",
                "Hellos, and a reminder of the agreements we made together.",
                "Read the agreements aloud in week one and ask the group to "
                "add their own. After that, just point to the poster.",
                ["Group agreements poster", "Name cards"],
            ),
            segment(
                "Check-in round",
                15,
                "check_in",
                "Each person says how their week has been, or passes.",
                "Passing is always fine. Keep it to a minute or two each.",
            ),
            segment(
                "This week's part of the plan",
                30,
                "discussion",
                "We talk through one part of WRAP together, with examples "
                "from our own lives.",
                "Weeks 1 to 8 follow the plan in order: wellness toolbox, "
                "daily plan, triggers, early warning signs, when things are "
                "breaking down, crisis plan, after a crisis, review.",
                ["Flip chart and markers"],
            ),
            segment(
                "Break",
                10,
                "break",
                "Tea, coffee and a stretch.",
                materials=["Tea, coffee and snacks"],
            ),
            segment(
                "Working on your own plan",
                35,
                "activity",
                "Quiet time to write your own section, with help if you would like it.",
                "Walk around and offer help, but do not read anyone's plan "
                "unless they invite you to.",
                ["WRAP workbooks", "Pens", "Coloured pencils"],
            ),
            segment(
                "Sharing and reflections",
                10,
                "discussion",
                "Anyone who wants to can share something from their plan.",
            ),
            segment(
                "Closing round",
                10,
                "closing",
                "One word or one thing you are taking away this week.",
                CLOSING_NOTES,
            ),
        ],
        "handout": (
            "<h2>Your Wellness Recovery Action Plan</h2>"
            "<p>Your plan is yours. You decide what goes in it and who sees "
            "it.</p><h3>This week</h3><ul><li>Look over what you wrote today."
            "</li><li>Add one thing to your wellness toolbox: something "
            "small that helps you feel a bit better.</li><li>Bring your "
            "workbook next week.</li></ul>"
        ),
        "resources": (
            "<p>WRAP was developed by people with lived experience and is "
            "used by peer support groups around the world.</p>"
            "<ul><li>Ask a facilitator for a spare workbook.</li>"
            "<li>Call us on <b>(416) 555-0142</b> if you miss a week.</li></ul>"
        ),
        "safety_notes": (
            "The crisis plan and post-crisis weeks can bring up painful "
            "memories. Remind people they can step out to the quiet room, and "
            "check in privately with anyone who leaves. If someone says they "
            "are not safe, follow the program's safety procedure and tell the "
            "coordinator the same day."
        ),
    },
    "voices": {
        "title": "Hearing Voices",
        "slug": "hearing-voices",
        "summary": (
            "A safe space to talk about hearing voices, seeing visions or "
            "having other unusual experiences, with people who understand. "
            "All explanations of these experiences are respected."
        ),
        "audience": "Anyone who hears voices or has other unusual experiences",
        "duration_minutes": 90,
        "learning_goals": (
            "<ul><li>Share experiences without being judged</li>"
            "<li>Hear how others live with and make sense of voices</li>"
            "<li>Pick up ideas for coping that others have found useful</li>"
            "</ul>"
        ),
        "outline": [
            segment(
                "Welcome and group agreements",
                10,
                "welcome",
                "Hellos and a reminder that what is said here stays here.",
                "Newcomers may be nervous: a short, warm welcome is enough.",
                ["Group agreements poster"],
            ),
            segment(
                "Check-in",
                20,
                "check_in",
                "How are you, and how are your voices today? Share as much "
                "or as little as you like.",
                "Do not ask people to repeat what their voices say.",
            ),
            segment(
                "Sharing experiences",
                35,
                "discussion",
                "An open conversation led by the group: what has been hard, "
                "what has helped, what we have noticed.",
                "Let the group lead. Gently bring it back if one person's "
                "story is taking over.",
            ),
            segment("Break", 5, "break", "A short pause."),
            segment(
                "Coping ideas exchange",
                15,
                "activity",
                "We add ideas to the group's list of things that help.",
                "Write each idea on the flip chart exactly as it is said.",
                ["Flip chart and markers", "Sticky notes"],
            ),
            segment(
                "Closing",
                5,
                "closing",
                "A quiet moment and one word to close.",
                CLOSING_NOTES,
            ),
        ],
        "handout": (
            "<h2>Hearing Voices group</h2><p>You are not alone: many people "
            "hear voices, and many live well with them.</p><h3>Ideas people "
            "have shared</h3><ul><li>Music or a podcast in headphones</li>"
            "<li>Talking back to the voices, or setting a time to listen to "
            "them</li><li>Writing things down</li><li>Going for a walk</li>"
            "</ul>"
        ),
        "resources": (
            "<ul><li>Ask on the unit for the drop-in times of our community "
            "group after you leave hospital.</li><li>Call us on "
            "<b>(416) 555-0142</b> to talk to a peer worker.</li></ul>"
        ),
        "safety_notes": (
            "Voices can become more distressing when people talk about them. "
            "Let the nurse in charge know the group is running. If someone "
            "becomes very distressed, offer time in the quiet room with one "
            "facilitator and let the nurse in charge know."
        ),
    },
    "naloxone": {
        "title": "Naloxone Training",
        "slug": "naloxone-training",
        "summary": (
            "Learn how to recognise an opioid overdose and how to give "
            "naloxone. Everyone goes home with a free naloxone kit."
        ),
        "audience": (
            "Anyone: people who use drugs, their friends and family, and "
            "community members"
        ),
        "duration_minutes": 90,
        "learning_goals": (
            "<ul><li>Recognise the signs of an opioid overdose</li>"
            "<li>Know the steps to respond, including calling 911</li>"
            "<li>Practise giving naloxone with a training kit</li>"
            "<li>Know what to do while you wait for help</li></ul>"
        ),
        "outline": [
            segment(
                "Welcome and introductions",
                10,
                "welcome",
                "Who we are and how the session will run.",
                "Say up front that nobody has to share why they are here.",
                ["Sign-in sheet", "Name cards"],
            ),
            segment(
                "Recognising an overdose",
                20,
                "discussion",
                "What an opioid overdose can look like, and how it differs "
                "from someone who is just very sleepy.",
                "Use plain, non-judgemental language about drug use.",
                ["Slides or printed signs-of-overdose sheet"],
            ),
            segment(
                "How naloxone works",
                15,
                "discussion",
                "What naloxone does, how long it lasts, and why calling 911 "
                "still matters.",
            ),
            segment(
                "Hands-on practice",
                25,
                "activity",
                "Everyone practises with a training kit, at their own pace.",
                "Have one facilitator per small group. Check that everyone "
                "has handled the nasal spray and the injectable kit.",
                ["Training kits (nasal and injectable)", "Practice mannequin"],
            ),
            segment(
                "What to do after, and your questions",
                10,
                "discussion",
                "Staying with the person, recovery position, and any questions.",
            ),
            segment(
                "Closing and kits",
                10,
                "closing",
                "Everyone who wants one takes home a naloxone kit.",
                "Check kit expiry dates before the session. Log how many kits "
                "were given out.",
                ["Naloxone kits", "Take-home instruction cards"],
            ),
        ],
        "handout": (
            "<h2>Responding to an opioid overdose</h2><ol><li>Check if they "
            "respond: shout their name and rub their breastbone.</li><li>Call "
            "<b>911</b>.</li><li>Give naloxone.</li><li>Start rescue breaths "
            "or chest compressions if you know how.</li><li>If there is no "
            "change after 2 to 3 minutes, give another dose.</li><li>Stay "
            "with them until help arrives.</li></ol>"
        ),
        "resources": (
            "<ul><li>Many pharmacies give out free naloxone kits: ask at the "
            "counter.</li><li>The Good Samaritan Drug Overdose Act offers "
            "some legal protection to people who call 911 during an "
            "overdose.</li></ul>"
        ),
        "safety_notes": (
            "Some people attending may have lost someone to an overdose. "
            "Acknowledge this at the start and let people step out when they "
            "need to. Keep training kits and real kits apart."
        ),
    },
    "peer101": {
        "title": "Peer Support 101",
        "slug": "peer-support-101",
        "summary": (
            "An introduction to peer support: what it is, how it can help, "
            "and how to listen well. For anyone thinking about peer work or "
            "wanting to support the people around them."
        ),
        "audience": "Anyone curious about peer support, including volunteers",
        "duration_minutes": 150,
        "learning_goals": (
            "<ul><li>Understand the values behind peer support</li>"
            "<li>Practise listening without fixing</li>"
            "<li>Think about boundaries and looking after yourself</li></ul>"
        ),
        "outline": [
            segment(
                "Welcome",
                15,
                "welcome",
                "Introductions and what brought each of us here.",
                "On video calls, invite people to use the chat if speaking is hard.",
            ),
            segment(
                "What is peer support?",
                30,
                "discussion",
                "Mutual support, shared experience, hope and choice.",
                "Share a short piece of your own story to show what peer "
                "support can sound like.",
                ["Slides"],
            ),
            segment("Break", 10, "break", "Time to stretch and get a drink."),
            segment(
                "Listening practice",
                40,
                "activity",
                "Practise listening in pairs, taking turns to talk and listen.",
                "Use breakout rooms online. Give a two-minute warning before "
                "switching roles.",
                ["Listening practice prompts"],
            ),
            segment(
                "Boundaries and self-care",
                25,
                "discussion",
                "How to support others without burning out.",
            ),
            segment(
                "Where to go from here",
                20,
                "discussion",
                "Volunteering, training and groups you could join next.",
                materials=["List of local training and volunteer roles"],
            ),
            segment(
                "Closing round",
                10,
                "closing",
                "One thing you will try this week.",
                CLOSING_NOTES,
            ),
        ],
        "handout": (
            "<h2>Peer support: the basics</h2><ul><li>Listen more than you "
            "talk.</li><li>Share your own experience only when it helps the "
            "other person.</li><li>Respect their choices, even when you would "
            "choose differently.</li><li>Look after yourself too.</li></ul>"
        ),
        "resources": (
            "<ul><li>Ask us about volunteering with Riverside Peer Support.</li>"
            "<li>Look out for our next Recovery Stories workshop.</li></ul>"
        ),
        "safety_notes": (
            "Listening practice can bring up personal stories. Remind pairs "
            "they choose what to share. If someone seems upset in a breakout "
            "room, a facilitator joins that room."
        ),
    },
    "stress": {
        "title": "Managing Stress",
        "slug": "managing-stress",
        "summary": (
            "Practical ways to notice stress and ease it, shared by people "
            "who have found what works for them. Try a few ideas and keep "
            "the ones that suit you."
        ),
        "audience": "Anyone feeling stretched or overwhelmed",
        "duration_minutes": 90,
        "learning_goals": (
            "<ul><li>Notice how stress shows up for you</li>"
            "<li>Try two simple grounding exercises</li>"
            "<li>Put together your own stress toolkit</li></ul>"
        ),
        "outline": [
            segment(
                "Welcome",
                10,
                "welcome",
                "Hellos and how the session will run.",
                materials=["Name cards"],
            ),
            segment(
                "Check-in",
                10,
                "check_in",
                "On a scale from calm to frazzled, where are you today?",
            ),
            segment(
                "What stress feels like",
                20,
                "discussion",
                "How stress shows up in our bodies, thoughts and days.",
                "Draw an outline of a person on the flip chart and add what "
                "people say.",
                ["Flip chart and markers"],
            ),
            segment(
                "Grounding practice",
                15,
                "activity",
                "Two short exercises: slow breathing and noticing five things "
                "around you.",
                "Keep eyes-open options for people who do not like closing their eyes.",
            ),
            segment("Break", 5, "break", "A short pause."),
            segment(
                "Building your toolkit",
                20,
                "activity",
                "Everyone fills in a toolkit card with ideas to try.",
                materials=["Toolkit cards", "Pens"],
            ),
            segment(
                "Closing",
                10,
                "closing",
                "One idea each person will try this week.",
                CLOSING_NOTES,
            ),
        ],
        "handout": (
            "<h2>My stress toolkit</h2><p>Some ideas people have shared:</p>"
            "<ul><li>Breathe in for four, out for six, five times.</li>"
            "<li>Name five things you can see.</li><li>Step outside for a few "
            "minutes.</li><li>Text someone you trust.</li></ul>"
        ),
        "resources": (
            "<ul><li>Coffee and conversation, every Friday morning at the "
            "community centre.</li><li>Call us on <b>(416) 555-0142</b> to "
            "talk to a peer worker.</li></ul>"
        ),
        "safety_notes": (
            "Breathing exercises can make some people feel worse. Offer them "
            "as optional and have an alternative ready. Check in with anyone "
            "who seems overwhelmed."
        ),
    },
    "stories": {
        "title": "Recovery Stories",
        "slug": "recovery-stories",
        "summary": (
            "Explore your own story of recovery and, if you want to, share "
            "part of it with others. Every story is different and every story "
            "counts."
        ),
        "audience": "Anyone on their own recovery journey",
        "duration_minutes": 120,
        "learning_goals": (
            "<ul><li>See your own story in a new way</li>"
            "<li>Choose what you share and with whom</li>"
            "<li>Hear how others have found hope</li></ul>"
        ),
        "outline": [
            segment(
                "Welcome and agreements",
                10,
                "welcome",
                "Hellos and how we will look after each other's stories.",
                materials=["Group agreements poster"],
            ),
            segment(
                "Check-in",
                10,
                "check_in",
                "One word for how you are arriving today.",
            ),
            segment(
                "Why stories matter",
                15,
                "discussion",
                "How telling our stories can build hope and connection.",
                "Share a short part of your own story as an example.",
            ),
            segment(
                "Story mapping",
                25,
                "activity",
                "Draw or write the turning points in your own story.",
                "Stress that nobody will be asked to show their map.",
                ["Large paper", "Coloured pens", "Stickers"],
            ),
            segment("Break", 10, "break", "Tea, coffee and a chat."),
            segment(
                "Sharing in small groups",
                30,
                "discussion",
                "In groups of three, share as much or as little as you like.",
                "Move between groups. Remind people they can pass.",
            ),
            segment(
                "Reflections and closing",
                20,
                "closing",
                "What we heard, what we are taking away, and a closing round.",
                CLOSING_NOTES,
            ),
        ],
        "handout": (
            "<h2>Your recovery story</h2><p>Your story belongs to you. You "
            "choose what to share, when, and with whom.</p><h3>Questions to "
            "think about</h3><ul><li>What has helped you keep going?</li>"
            "<li>Who has been there for you?</li><li>What would you tell "
            "someone just starting out?</li></ul>"
        ),
        "resources": (
            "<ul><li>Our WRAP group is a good next step if you would like to "
            "make a plan for staying well.</li></ul>"
        ),
        "safety_notes": (
            "Stories can include trauma. Ask people to share without graphic "
            "detail, and have a second facilitator free to step out with "
            "anyone who needs a break."
        ),
    },
}


# Events ----------------------------------------------------------------------
#
# "weekly" schedules start on the first matching weekday from tomorrow on and
# skip CLOSED_DAYS, unless the event has a "cancel": then the series keeps every
# week and the session on a closed day (or the one numbered, counting from 0)
# is cancelled. "once" schedules add one session on that weekday ``week``
# weeks later, moved a week or two if that is a closed day.

EVENTS = [
    {
        "key": "wrap",
        "title": "Wellness Recovery Action Plan (WRAP) group",
        "slug": "wrap-group",
        "kind": EventKind.GROUP,
        "workshop": "wrap",
        "venue": "community",
        "facilitators": ["amara", "daniel"],
        "summary": (
            "Eight Tuesday evenings to build your own plan for staying well, "
            "with people who understand."
        ),
        "what_to_expect": (
            "<p>A small, friendly group of up to 12 people. Each week we look "
            "at one part of the plan and you write your own. You never have "
            "to share what you write.</p><ul><li>Tea and snacks provided</li>"
            "<li>Workbook provided</li><li>You can join up to the second "
            "week</li></ul>"
        ),
        "registration_mode": RegistrationMode.REQUIRED,
        "capacity": 12,
        "topics": ["recovery", "wellness planning"],
        "weekly": {"weekday": TUE, "start": (18, 0), "end": (20, 0), "weeks": 8},
        "close_after_session": 2,
        "cancel": (3, "Holiday closure: the centre is closed this week."),
    },
    {
        "key": "voices",
        "title": "Hearing Voices group on Unit 4",
        "slug": "hearing-voices-unit-4",
        "kind": EventKind.GROUP,
        "workshop": "voices",
        "venue": "hospital",
        "facilitators": ["priya"],
        "summary": (
            "A weekly drop-in group on the ward for anyone staying on Unit 4 "
            "who hears voices or has other unusual experiences."
        ),
        "what_to_expect": (
            "<p>Come for all of it or part of it. Nobody will ask you to "
            "explain your experiences or prove anything.</p>"
        ),
        "registration_mode": RegistrationMode.NONE,
        "topics": ["hearing voices", "peer support"],
        "weekly": {"weekday": THU, "start": (14, 0), "end": (15, 30), "weeks": 6},
    },
    {
        "key": "naloxone",
        "title": "Naloxone training",
        "slug": "naloxone-training",
        "kind": EventKind.EDUCATION,
        "workshop": "naloxone",
        "venue": "library",
        "facilitators": ["daniel"],
        "summary": (
            "Learn to spot an opioid overdose and give naloxone. Free kit to take home."
        ),
        "what_to_expect": (
            "<p>A relaxed, hands-on session. No experience needed, and no "
            "questions asked about why you are coming.</p>"
        ),
        "registration_mode": RegistrationMode.REQUIRED,
        "capacity": 16,
        "topics": ["harm reduction", "naloxone"],
        "once": [{"weekday": WED, "week": 1, "start": (18, 30), "end": (20, 0)}],
    },
    {
        "key": "awareness",
        "title": "Mental Health Awareness stall",
        "slug": "mental-health-awareness-stall",
        "kind": EventKind.AWARENESS,
        "venue": "library",
        "facilitators": ["amara", "priya"],
        "summary": (
            "Drop by our stall to chat with peer workers, pick up information "
            "and find out what is on locally."
        ),
        "what_to_expect": (
            "<p>Stay for a minute or an hour. Free leaflets, colouring "
            "sheets and a chance to ask anything about our groups.</p>"
        ),
        "registration_mode": RegistrationMode.NONE,
        "topics": ["awareness", "community"],
        "once": [
            {
                "weekday": SAT,
                "week": 2,
                "start": (10, 0),
                "end": (14, 0),
                "note": "Find us in the main foyer, just inside the front doors.",
            }
        ],
    },
    {
        "key": "peer101",
        "title": "Peer Support 101",
        "slug": "peer-support-101",
        "kind": EventKind.WORKSHOP,
        "workshop": "peer101",
        "venue": "online",
        "facilitators": ["priya", "amara"],
        "summary": (
            "An online introduction to peer support: what it is and how to listen well."
        ),
        "what_to_expect": (
            "<p>A video call with breakout rooms for listening practice. "
            "Cameras are optional and you can use the chat instead of "
            "speaking.</p>"
        ),
        "registration_mode": RegistrationMode.REQUIRED,
        "capacity": 20,
        "topics": ["peer support", "volunteering"],
        "once": [{"weekday": SAT, "week": 3, "start": (10, 0), "end": (12, 30)}],
    },
    {
        "key": "stress",
        "title": "Managing Stress workshop",
        "slug": "managing-stress-workshop",
        "kind": EventKind.WORKSHOP,
        "workshop": "stress",
        "venue": "community",
        "facilitators": ["daniel"],
        "summary": (
            "Simple, practical ways to notice stress and ease it. Try a few "
            "and keep what works for you."
        ),
        "what_to_expect": (
            "<p>A mix of talking and short exercises. Everything is optional.</p>"
        ),
        "registration_mode": RegistrationMode.OPEN,
        "capacity": 15,
        "topics": ["stress", "wellbeing"],
        "once": [{"weekday": MON, "week": 1, "start": (13, 0), "end": (14, 30)}],
    },
    {
        "key": "stress_online",
        "title": "Managing Stress workshop (online evening)",
        "slug": "managing-stress-online",
        "kind": EventKind.WORKSHOP,
        "workshop": "stress",
        "venue": "online",
        "facilitators": ["priya"],
        "summary": (
            "The Managing Stress workshop on a video call, for people who "
            "cannot come during the day."
        ),
        "what_to_expect": "<p>Join from home. Cameras are optional.</p>",
        "registration_mode": RegistrationMode.REQUIRED,
        "capacity": 15,
        "topics": ["stress", "wellbeing", "online"],
        "once": [{"weekday": THU, "week": 4, "start": (19, 0), "end": (20, 30)}],
    },
    {
        "key": "stories",
        "title": "Recovery Stories evening",
        "slug": "recovery-stories-evening",
        "kind": EventKind.WORKSHOP,
        "workshop": "stories",
        "venue": "library",
        "facilitators": ["amara"],
        "summary": (
            "Explore your own recovery story and, if you want to, share part "
            "of it in a small group."
        ),
        "what_to_expect": (
            "<p>Drawing, writing and talking in small groups. You choose what "
            "to share.</p>"
        ),
        "registration_mode": RegistrationMode.OPEN,
        "capacity": 20,
        "topics": ["recovery", "creativity"],
        "once": [{"weekday": THU, "week": 5, "start": (18, 0), "end": (20, 0)}],
    },
    {
        "key": "coffee",
        "title": "Coffee and conversation",
        "slug": "coffee-and-conversation",
        "kind": EventKind.SOCIAL,
        "venue": "community",
        "facilitators": ["daniel"],
        "summary": (
            "A relaxed Friday morning drop-in. Coffee, tea, biscuits and good company."
        ),
        "what_to_expect": (
            "<p>No agenda and no need to talk about anything you do not want "
            "to. Come for ten minutes or stay the whole time.</p>"
        ),
        "registration_mode": RegistrationMode.NONE,
        "topics": ["social", "connection"],
        "weekly": {"weekday": FRI, "start": (10, 0), "end": (11, 30), "weeks": 8},
        "move": (
            5,
            "library",
            "This week we meet at the library: the centre's hall is booked.",
        ),
    },
    {
        "key": "online_drop_in",
        "title": "Online peer support drop-in",
        "slug": "online-peer-support-drop-in",
        "kind": EventKind.GROUP,
        "venue": "online",
        "facilitators": ["priya"],
        "summary": ("An hour on Wednesday evenings to connect with peers from home."),
        "what_to_expect": (
            "<p>A check-in round and an open conversation. Sign up once and "
            "come to as many weeks as you like.</p>"
        ),
        "registration_mode": RegistrationMode.OPEN,
        "capacity": 15,
        "topics": ["peer support", "online"],
        "weekly": {"weekday": WED, "start": (19, 0), "end": (20, 0), "weeks": 8},
    },
    {
        "key": "psychosis",
        "title": "Understanding psychosis",
        "slug": "understanding-psychosis",
        "kind": EventKind.EDUCATION,
        "venue": "library",
        "facilitators": ["priya", "daniel"],
        "summary": (
            "An introduction to psychosis from people who have lived through "
            "it, for anyone who wants to understand it better."
        ),
        "what_to_expect": (
            "<p>Two peer workers share their experiences, followed by time "
            "for questions. Family members and friends are very welcome.</p>"
        ),
        "registration_mode": RegistrationMode.REQUIRED,
        "capacity": 25,
        "topics": ["psychosis", "families"],
        "once": [{"weekday": TUE, "week": 3, "start": (13, 30), "end": (15, 30)}],
    },
    {
        "key": "families",
        "title": "Family and friends information evening",
        "slug": "family-and-friends-evening",
        "kind": EventKind.EDUCATION,
        "venue": "community",
        "facilitators": ["amara"],
        "summary": (
            "For people supporting someone they care about: what peer support "
            "offers, and how to look after yourself too."
        ),
        "what_to_expect": (
            "<p>A short talk, time for questions, and a chance to meet other "
            "families.</p>"
        ),
        "registration_mode": RegistrationMode.OPEN,
        "capacity": 30,
        "topics": ["families", "carers"],
        "once": [{"weekday": WED, "week": 4, "start": (18, 0), "end": (19, 30)}],
    },
    {
        "key": "walk",
        "title": "Community walk",
        "slug": "community-walk",
        "kind": EventKind.SOCIAL,
        "venue": "community",
        "facilitators": ["daniel", "amara"],
        "summary": (
            "A gentle walk along the river path, about an hour at an easy pace."
        ),
        "what_to_expect": (
            "<p>Wear comfortable shoes. The path is flat and paved. We stop "
            "for a drink halfway.</p>"
        ),
        "registration_mode": RegistrationMode.OPEN,
        "topics": ["social", "physical activity"],
        "once": [
            {
                "weekday": SAT,
                "week": 1,
                "start": (10, 0),
                "end": (11, 30),
                "note": "We meet outside the main doors of the community centre.",
            }
        ],
    },
    {
        "key": "art",
        "title": "Art and wellbeing afternoon",
        "slug": "art-and-wellbeing",
        "kind": EventKind.SOCIAL,
        "venue": "community",
        "facilitators": ["amara"],
        "summary": (
            "Painting, collage and clay in a calm, friendly room. No art skills needed."
        ),
        "what_to_expect": (
            "<p>All materials provided. Wear clothes you do not mind getting "
            "a little messy.</p>"
        ),
        "registration_mode": RegistrationMode.REQUIRED,
        "capacity": 10,
        "registration_opens_in_days": 7,
        "topics": ["creativity", "wellbeing"],
        "once": [{"weekday": FRI, "week": 6, "start": (13, 30), "end": (15, 30)}],
    },
    {
        "key": "overdose_awareness",
        "title": "Overdose awareness information table",
        "slug": "overdose-awareness-table",
        "kind": EventKind.AWARENESS,
        "venue": "community",
        "facilitators": ["daniel", "priya"],
        "summary": (
            "Information on overdose, harm reduction and local services, with "
            "free naloxone kits."
        ),
        "what_to_expect": (
            "<p>Drop by any time. Talk to a peer worker, take what you need, "
            "and leave when you like.</p>"
        ),
        "registration_mode": RegistrationMode.NONE,
        "topics": ["awareness", "harm reduction"],
        "once": [
            {
                "weekday": MON,
                "week": 5,
                "start": (11, 0),
                "end": (14, 0),
                "note": "In the front lobby.",
            }
        ],
    },
]


# Builders --------------------------------------------------------------------


def demo_today():
    """Today's date in the site's time zone; the demo schedules from tomorrow."""
    return timezone.localdate()


def first_weekday_from(day, weekday):
    """The first date on or after ``day`` that falls on ``weekday`` (Monday 0)."""
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def is_closed(day):
    """Whether the demo program takes a holiday break on ``day``."""
    return (day.month, day.day) in CLOSED_DAYS


def open_day_near(day, *, after):
    """``day``, or the nearest same weekday after ``after`` that is not closed.

    Tries a week earlier, a week later, then two weeks either way, so a
    one-off event stays within a week or two of where it was planned.
    """
    if not is_closed(day):
        return day
    for weeks in (-1, 1, -2, 2):
        candidate = day + dt.timedelta(weeks=weeks)
        if candidate > after and not is_closed(candidate):
            return candidate
    return day


def local_datetime(day, hour_minute):
    """An aware datetime at ``hour_minute`` on ``day`` in the site's time zone."""
    return dt.datetime.combine(day, dt.time(*hour_minute), tzinfo=site_zone())


def publish_child(parent, page):
    """Add ``page`` below ``parent`` and publish its first revision."""
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def find_home_page():
    """The default site's HomePage, which the website data migration created."""
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        raise CommandError("There is no default site. Run manage.py migrate first.")
    home = site.root_page.specific
    if not isinstance(home, HomePage):
        raise CommandError(
            "The default site's root page is not a home page. Run "
            "manage.py migrate first."
        )
    return site, home


def build_home_page(home):
    """Give the existing home page the demo's welcome and publish it."""
    home.title = HOME_TITLE
    home.intro = HOME_INTRO
    home.body = HOME_BODY
    home.save_revision().publish()


def build_standard_pages(home):
    """Create and publish About us, Privacy notice and Contact."""
    return {
        spec["slug"]: publish_child(home, StandardPage(**spec))
        for spec in (ABOUT_PAGE, PRIVACY_PAGE, CONTACT_PAGE)
    }


def build_site_settings(site, privacy_page):
    """Fill in the organisation's details for the default site."""
    site_settings = SiteSettings.for_site(site)
    for field, value in SITE_DETAILS.items():
        setattr(site_settings, field, value)
    site_settings.privacy_notice_page = privacy_page
    site_settings.save()
    site.site_name = ORGANISATION_NAME
    site.save(update_fields=["site_name"])


def build_venues():
    """Create the demo venues, validated as the admin would validate them."""
    venues = {}
    for key, fields in VENUES.items():
        venue = Venue(**fields)
        venue.full_clean()
        venue.save()
        venues[key] = venue
    return venues


def build_groups(home):
    """Create the Facilitators and Coordinators groups and their permissions.

    Coordinators can use the Wagtail admin, manage sessions and venues, see
    and manage registrations (the waitlist, capacity, imports), and add, edit
    and publish pages anywhere below the home page.
    """
    facilitators, _ = Group.objects.get_or_create(name=FACILITATORS_GROUP)
    coordinators, _ = Group.objects.get_or_create(name=COORDINATORS_GROUP)
    coordinators.permissions.add(
        Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
    )
    for model, actions in (
        (EventSession, ("add", "change", "delete")),
        (Venue, ("add", "change", "delete")),
        # Registrations are cancelled, never deleted: the reports count them.
        (Registration, ("add", "change", "view")),
    ):
        content_type = ContentType.objects.get_for_model(model)
        for action in actions:
            coordinators.permissions.add(
                Permission.objects.get(
                    content_type=content_type,
                    codename=f"{action}_{model._meta.model_name}",
                )
            )
    page_type = ContentType.objects.get_for_model(Page)
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.get_or_create(
            group=coordinators,
            page=home,
            permission=Permission.objects.get(
                content_type=page_type, codename=codename
            ),
        )
    return facilitators


def build_facilitators(group):
    """Create the facilitator accounts with random passwords, in ``group``."""
    users = get_user_model()
    people = {}
    for key, (username, first_name, last_name) in FACILITATORS.items():
        user, created = users.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@riversidepeersupport.example",
            },
        )
        if created:
            user.set_password(secrets.token_urlsafe(24))
            user.save(update_fields=["password"])
        user.groups.add(group)
        people[key] = user
    return people


def build_workshops(index):
    """Create and publish the workshop library's programs."""
    return {
        key: publish_child(index, WorkshopPage(**fields))
        for key, fields in WORKSHOPS.items()
    }


def schedule_sessions(event, spec, *, today, venues):
    """Create an event's sessions from its spec, then cancel or move any."""
    tomorrow = today + dt.timedelta(days=1)
    if weekly := spec.get("weekly"):
        first = first_weekday_from(tomorrow, weekly["weekday"])
        days = [first + dt.timedelta(weeks=week) for week in range(weekly["weeks"])]
        generate_weekly_series(
            event=event,
            first_date=first,
            start_time=dt.time(*weekly["start"]),
            end_time=dt.time(*weekly["end"]),
            weeks=weekly["weeks"],
            skip_dates=[] if "cancel" in spec else [d for d in days if is_closed(d)],
        )
    for once in spec.get("once", []):
        day = first_weekday_from(tomorrow, once["weekday"]) + dt.timedelta(
            weeks=once["week"]
        )
        day = open_day_near(day, after=today)
        add_session(
            event=event,
            start=local_datetime(day, once["start"]),
            end=local_datetime(day, once["end"]),
            public_note=once.get("note", ""),
        )
    sessions = list(event.sessions.order_by("start"))
    if cancel := spec.get("cancel"):
        number, note = cancel
        closed = [session for session in sessions if is_closed(session.local_date)]
        session = closed[0] if closed else sessions[number]
        cancel_session(session=session, public_note=note, notify=False)
    if move := spec.get("move"):
        number, venue_key, note = move
        session = sessions[min(number, len(sessions) - 1)]
        reschedule_session(
            session=session,
            start=session.start,
            end=session.end,
            venue=venues[venue_key],
            public_note=note,
            notify=False,
        )


def registration_window(spec, *, today):
    """The sign-up opening and closing times an event spec asks for, if any."""
    opens = closes = None
    if days := spec.get("registration_opens_in_days"):
        opens = local_datetime(today + dt.timedelta(days=days), (9, 0))
    if (after := spec.get("close_after_session")) and (weekly := spec.get("weekly")):
        first = first_weekday_from(today + dt.timedelta(days=1), weekly["weekday"])
        day = first + dt.timedelta(weeks=after - 1)
        closes = local_datetime(day, weekly["start"])
    return opens, closes


def build_events(index, *, today, venues, workshops, facilitators):
    """Create, publish and schedule every demo event."""
    events = []
    for spec in EVENTS:
        venue = venues[spec["venue"]]
        opens, closes = registration_window(spec, today=today)
        mode = spec["registration_mode"]
        event = EventPage(
            title=spec["title"],
            slug=spec["slug"],
            kind=spec["kind"],
            workshop=workshops.get(spec.get("workshop")),
            summary=spec["summary"],
            what_to_expect=spec["what_to_expect"],
            venue=venue,
            capacity=spec.get("capacity"),
            registration_mode=mode,
            registration_opens_at=opens,
            registration_closes_at=closes,
            waitlist_enabled=mode != RegistrationMode.NONE,
        )
        event.topics.add(*spec["topics"])
        event.facilitators.set([facilitators[key] for key in spec["facilitators"]])
        publish_child(index, event)
        schedule_sessions(event, spec, today=today, venues=venues)
        events.append(event)
    return events


class Command(BaseCommand):
    """Load the Riverside Peer Support demo program into an empty site."""

    help = (
        "Load a demo peer support program: pages, venues, workshops, "
        "facilitators and eight weeks of groups and events. Safe to repeat."
    )

    def handle(self, *args, **options):
        site, home = find_home_page()
        if EventIndexPage.objects.child_of(home).filter(slug="events").exists():
            self.stdout.write("Demo content already loaded.")
            return
        today = demo_today()
        with transaction.atomic():
            build_home_page(home)
            event_index = publish_child(
                home,
                EventIndexPage(
                    title="Groups and events",
                    slug="events",
                    show_in_menus=True,
                    intro=EVENTS_INDEX_INTRO,
                ),
            )
            workshop_index = publish_child(
                home,
                WorkshopIndexPage(
                    title="Workshop library",
                    slug="workshops",
                    show_in_menus=True,
                    intro=WORKSHOPS_INDEX_INTRO,
                ),
            )
            pages = build_standard_pages(home)
            build_site_settings(site, pages["privacy"])
            venues = build_venues()
            facilitators = build_facilitators(build_groups(home))
            workshops = build_workshops(workshop_index)
            events = build_events(
                event_index,
                today=today,
                venues=venues,
                workshops=workshops,
                facilitators=facilitators,
            )
            registrations, past_events = build_history(
                event_index,
                today=today,
                venues=venues,
                facilitators=facilitators,
                is_closed=is_closed,
                publish=publish_child,
            )
        sessions = EventSession.objects.filter(event__in=events)
        cancelled = sessions.filter(status=SessionStatus.CANCELLED).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded the {ORGANISATION_NAME} demo: {len(venues)} venues, "
                f"{len(workshops)} workshops, {len(events)} events with "
                f"{sessions.count()} sessions ({cancelled} cancelled), and "
                f"{len(facilitators)} facilitator accounts; "
                f"{len(registrations)} registrations, and a past term of "
                f"{len(past_events)} events with attendance for the reports."
            )
        )
        self.stdout.write(
            "Facilitator accounts have random passwords; set one with "
            "manage.py changepassword <username>."
        )
