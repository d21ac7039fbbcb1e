"""Audit-log entries that workflows write themselves, and who is acting.

A workflow that changes something staff must be able to trace (a
registration, a session) writes its own Wagtail log entry inside its
transaction, so the change is logged once whichever way it is made: an
admin screen, a person's own link, an import, a task or a management
command. Workflows take who did it as keywords (``user``, ``by``); a caller
that cannot pass them down, such as the spreadsheet engine calling a
resource that calls the workflows, says once who is acting::

    with acting(by=IMPORT, user=coordinator):
        ...

``by`` says how a change was made and is kept in the entry's
``data["by"]``:

* ``staff``: someone signed in to the admin made it; the entry's user is
  them.
* ``participant``: the person themselves, through the public sign-up form
  or their manage link; the entry has no user.
* ``import``: a spreadsheet or calendar import made it; the user is whoever
  ran the import.
* ``system``: nobody chose this change in particular: a freed place going to
  the next person waiting, a task, a management command; no user.

Entries are built unsaved (``entry``) and inserted together (``write``):
one INSERT, however many objects one change touches, and no validation
queries (``ModelLogEntry.save`` checks the user and content type exist
with a query each; the action is checked here, in memory, instead).
"""

import contextlib
import dataclasses
from contextvars import ContextVar

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from wagtail.log_actions import registry as log_action_registry
from wagtail.models import PageLogEntry

from core.prepared import insert

STAFF = "staff"
PARTICIPANT = "participant"
IMPORT = "import"
SYSTEM = "system"
#: Every value of ``data["by"]``.
BY = (STAFF, PARTICIPANT, IMPORT, SYSTEM)


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who made a change (``None`` for the person themselves or the system)
    and how (one of ``BY``)."""

    user: object | None
    by: str

    def __post_init__(self):
        if self.by not in BY:
            raise ValueError(f"Unknown audit 'by' {self.by!r}; use one of {BY}.")


_acting: ContextVar[Actor | None] = ContextVar("gather_audit_acting", default=None)


@contextlib.contextmanager
def acting(*, by: str, user=None):
    """Changes made inside are logged as made ``by`` ``user``, unless the
    workflow is told otherwise."""
    token = _acting.set(Actor(user=user, by=by))
    try:
        yield
    finally:
        _acting.reset(token)


def actor(*, user=None, by: str | None = None) -> Actor:
    """Who is acting: as given; else, when neither is given, the
    surrounding ``acting``; else staff when there is a user and the system
    when there is not."""
    if user is None and by is None:
        outer = _acting.get()
        if outer is not None:
            return outer
    if by is None:
        by = STAFF if user is not None else SYSTEM
    return Actor(user=user, by=by)


def entry(instance, action: str, *, actor: Actor, title: str, data: dict | None = None):
    """An unsaved log entry of ``action`` on ``instance``: a ``ModelLogEntry``,
    or a ``PageLogEntry`` for a page (the log model Wagtail keeps for it).

    ``title`` is the label history screens show; pass a neutral one for an
    object whose ``__str__`` names a person. ``data`` must hold ids and
    codes, never personal details. No uuid: Wagtail's history screens keep
    only the latest entry of each uuid and action across all objects, so
    entries on many objects sharing one would hide each other.
    """
    if not log_action_registry.action_exists(action):
        raise ValueError(f"The log action {action!r} is not registered.")
    model = log_action_registry.get_log_model_for_instance(instance)
    if issubclass(model, PageLogEntry):
        target = {"page_id": instance.pk}
    else:
        target = {"object_id": str(instance.pk)}
    return model(
        content_type=ContentType.objects.get_for_model(
            instance, for_concrete_model=False
        ),
        label=title,
        action=action,
        timestamp=timezone.now(),
        data={"by": actor.by, **(data or {})},
        user_id=getattr(actor.user, "pk", None),
        **target,
    )


def write(entries) -> None:
    """Insert log entries built by ``entry``: one INSERT per log model
    (``core.prepared.insert``, as ``bulk_create`` but compiled once)."""
    by_model = {}
    for built in entries:
        by_model.setdefault(type(built), []).append(built)
    for built in by_model.values():
        insert(built)


def log_access(instance, action: str, *, user, title: str, count: int, **data):
    """Write that ``user`` saw, printed or downloaded the details of
    ``count`` people through ``instance`` (a session, a listing's type):
    one entry, its user the viewer, ``data["count"]`` how many people.

    ``title`` and ``data`` follow ``entry``'s rule: ids, codes and numbers,
    never a name.
    """
    write(
        [
            entry(
                instance,
                action,
                actor=Actor(user=user, by=STAFF),
                title=title,
                data={"count": count, **data},
            )
        ]
    )
