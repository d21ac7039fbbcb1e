"""An event's own sign-up questions: the form fields they add, saving the
answers, showing them to the people who see the names, and counting the
demographic ones.

Questions are ``RegistrationQuestion`` rows of the event page, in their
sort order. ``QuestionFieldsMixin`` adds one field per question to a form
after its own fields (named ``question_<id>``), so the sign-up form keeps
its standard fields as they are; ``register(answers=...)`` saves what
``answers_from`` returns, in the same transaction as the place.

Who sees what:

* An ordinary question's answer is shown with the person's other details:
  on the roster (``attendance.records.roster``), the registration's admin
  page and in the registrations export, to the people
  ``events.permissions`` lets see the names, and nowhere else.
* A demographic question's answer is never shown next to a name: only its
  totals, in the reports (``demographic_totals``), with small counts
  suppressed there.

Answers are stored encrypted (``core.encryption``). When a registration is
anonymised (retention or erasure, ``events.privacy``), its answers are
deleted; the demographic ones are first added to ``AnswerTally``, anonymous
counts per question and answer, so the totals do not change (``fold_answers``).
"""

from collections import Counter

from django import forms
from django.db.models import F, Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import (
    ANSWER_MAX,
    CHOICE_MAX,
    AnswerTally,
    QuestionKind,
    RegistrationAnswer,
    RegistrationQuestion,
)

#: The prefix of a question's form field ("question_12").
FIELD_PREFIX = "question_"
#: Stored values of a yes/no question.
YES, NO = "yes", "no"
YES_NO_CHOICES = [(YES, gettext_lazy("Yes")), (NO, gettext_lazy("No"))]
#: The extra answer of an optional question with set answers: a radio
#: button cannot be unticked, so this is how to take an answer back.
NO_ANSWER_LABEL = gettext_lazy("I would rather not say")
REQUIRED_MESSAGE = gettext_lazy("Please answer this question.")
INVALID_CHOICE_MESSAGE = gettext_lazy("Please choose one of the answers listed.")


def questions_of(event) -> list[RegistrationQuestion]:
    """The event's questions, in the order the form asks them."""
    return list(
        RegistrationQuestion.objects.filter(event_id=event.pk).order_by(
            "sort_order", "pk"
        )
    )


def field_name(question: RegistrationQuestion) -> str:
    return f"{FIELD_PREFIX}{question.pk}"


def is_choice_group(question: RegistrationQuestion) -> bool:
    """Whether the field is a group of radio buttons (a fieldset)."""
    return question.kind in (QuestionKind.CHOICE, QuestionKind.YES_NO)


def form_field(question: RegistrationQuestion) -> forms.Field:
    """The field that asks ``question``: a bounded text box, or radio
    buttons with the question's answers (plus "I would rather not say" when
    it is optional). A value not among the answers is refused."""
    errors = {"required": REQUIRED_MESSAGE, "invalid_choice": INVALID_CHOICE_MESSAGE}
    common = {
        "label": question.label,
        "required": question.required,
        "help_text": question.help_text,
        "error_messages": errors,
    }
    if question.kind == QuestionKind.TEXT:
        return forms.CharField(
            max_length=ANSWER_MAX,
            widget=forms.TextInput(attrs={"maxlength": ANSWER_MAX}),
            **common,
        )
    if question.kind == QuestionKind.YES_NO:
        choices = list(YES_NO_CHOICES)
    else:
        choices = [(option, option) for option in question.options]
    if not question.required:
        choices.append(("", NO_ANSWER_LABEL))
    return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)


def display_value(question: RegistrationQuestion, value: str) -> str:
    """An answer as people read it ("Yes" for ``yes``)."""
    if question.kind == QuestionKind.YES_NO:
        return str(dict(YES_NO_CHOICES).get(value, value))
    return value


class QuestionFieldsMixin:
    """Adds the event's questions to a form, after its own fields.

    Pass ``questions`` (from ``questions_of``); each becomes the field
    ``question_<id>``. The fields stay apart from the form's own, so other
    additions to the form do not touch them.
    """

    def __init__(self, *args, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[field_name(question)] = form_field(question)

    def question_fields(self) -> list[tuple[RegistrationQuestion, forms.BoundField]]:
        """(question, bound field) pairs, in order, for the template."""
        return [(question, self[field_name(question)]) for question in self.questions]

    def answers_from(self) -> dict[int, str]:
        """Question id -> the answer given ("" when left blank), after
        ``is_valid``."""
        return {
            question.pk: (self.cleaned_data.get(field_name(question)) or "").strip()
            for question in self.questions
        }


def record_answers(registration, answers, *, demographic: bool = True) -> int:
    """Save a new registration's ``answers`` (question id -> value, from
    ``answers_from``); returns how many rows were written.

    Only the registration's event's questions count, and a value is kept
    only if the question would accept it (so a caller other than the form
    cannot store a choice that is not on the list). A blank answer is kept
    for demographic questions only: the reports count who chose not to say.
    ``demographic=False`` leaves those out: a person booking several dates
    of a drop-in at once is counted once, on their first date, while each
    date's roster shows their other answers.
    """
    if not answers:
        return 0
    questions = RegistrationQuestion.objects.filter(
        event_id=registration.event_id, pk__in=list(answers)
    )
    if not demographic:
        questions = questions.filter(demographic=False)
    rows = []
    for question in questions:
        value = (answers.get(question.pk) or "").strip()
        if value and not _acceptable(question, value):
            value = ""
        if value or question.demographic:
            rows.append(
                RegistrationAnswer(
                    registration=registration, question=question, value=value
                )
            )
    RegistrationAnswer.objects.bulk_create(rows)
    return len(rows)


def _acceptable(question, value: str) -> bool:
    if question.kind == QuestionKind.TEXT:
        return len(value) <= ANSWER_MAX
    if question.kind == QuestionKind.YES_NO:
        return value in (YES, NO)
    return value in question.options


def shown_answers_prefetch() -> Prefetch:
    """Prefetch for registrations: the answers that may be shown next to
    the person's name (given, not demographic), in question order, as
    ``registration.shown_answers``. Each answer carries ``question``."""
    return Prefetch(
        "answers",
        queryset=RegistrationAnswer.objects.filter(question__demographic=False)
        .exclude(value="")
        .select_related("question")
        .order_by("question__sort_order", "question_id"),
        to_attr="shown_answers",
    )


def answers_text(registration) -> list[tuple[str, str]]:
    """(question, answer) pairs to show for a registration loaded with
    ``shown_answers_prefetch``."""
    return [
        (answer.question.label, display_value(answer.question, answer.value))
        for answer in getattr(registration, "shown_answers", [])
    ]


# Retention ----------------------------------------------------------------------


def fold_answers(registration_ids) -> int:
    """Delete the answers of ``registration_ids``, first adding their
    demographic answers to the anonymous ``AnswerTally`` counts; returns
    how many answers were deleted. Runs inside the anonymisation's
    transaction, so an answer is counted either here or as an answer,
    never both."""
    answers = RegistrationAnswer.objects.filter(registration_id__in=registration_ids)
    counts = Counter(
        (question_id, value)
        for question_id, value in answers.filter(
            question__demographic=True
        ).values_list("question_id", "value")
    )
    for (question_id, value), count in counts.items():
        updated = AnswerTally.objects.filter(
            question_id=question_id, value=value
        ).update(count=F("count") + count)
        if not updated:
            AnswerTally.objects.create(
                question_id=question_id, value=value[:CHOICE_MAX], count=count
            )
    deleted, _by_model = answers.delete()
    return deleted


# Reports ------------------------------------------------------------------------


def demographic_totals(event_ids) -> dict[int, Counter]:
    """Per demographic question of ``event_ids``: how many people gave each
    answer (``""`` for no answer), counting both the answers held and the
    anonymous tallies of people whose details were removed. Two queries;
    answers are decrypted to be counted, and only counts leave here."""
    totals: dict[int, Counter] = {}
    event_ids = list(event_ids)
    if not event_ids:
        return totals
    held = RegistrationAnswer.objects.filter(
        question__demographic=True, question__event_id__in=event_ids
    ).values_list("question_id", "value")
    for question_id, value in held.iterator():
        totals.setdefault(question_id, Counter())[value] += 1
    tallies = AnswerTally.objects.filter(
        question__demographic=True, question__event_id__in=event_ids
    ).values_list("question_id", "value", "count")
    for question_id, value, count in tallies:
        totals.setdefault(question_id, Counter())[value] += count
    return totals


def demographic_questions(event_ids) -> list[RegistrationQuestion]:
    """The demographic questions of ``event_ids``, by event title and order."""
    return list(
        RegistrationQuestion.objects.filter(demographic=True, event_id__in=event_ids)
        .select_related("event")
        .order_by("event__title", "event_id", "sort_order", "pk")
    )


def no_answer_label() -> str:
    return _("No answer")
