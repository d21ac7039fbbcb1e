"""How people are named where others can see the list: the self check-in
page, the sign-in sheet and the attendance register.

Those lists show a first name and the initial of the last name ("Sam L."),
never a full surname. When two people would get the same label, more letters
of their last names are shown until the labels differ ("Sam Le." and
"Sam Lo."), as long as that never spells out anyone's whole last name; when
letters cannot tell them apart (the same name twice, or "Sam Lee" and
"Sam Leeds"), the labels are numbered instead ("Sam L. (1)", "Sam L. (2)")
in a stable order.
"""

from collections import defaultdict
from collections.abc import Hashable, Iterable


def _split(name: str) -> tuple[str, str]:
    """(first name, last name); the last name is '' for a one-word name."""
    parts = name.split()
    if len(parts) < 2:
        return name.strip(), ""
    return parts[0], parts[-1]


def _label(first: str, last: str, letters: int) -> str:
    return f"{first} {last[:letters]}." if last else first


def short_names(people: Iterable[tuple[Hashable, str]]) -> dict[Hashable, str]:
    """Each person's label on a shared list, by key.

    ``people`` are (key, full name) pairs, in the order that numbers
    look-alikes (pass them by id so the numbers do not change). Labels are
    computed for the whole list at once because they depend on who else is
    on it: pass everyone who may appear, not only those shown now.
    """
    people = [(key, *_split(name)) for key, name in people]
    groups = defaultdict(list)
    for key, first, last in people:
        groups[_label(first, last, 1).casefold()].append((key, first, last))

    labels = {}
    for group in groups.values():
        labels.update(_distinct(group))
    return labels


def _distinct(group: list[tuple[Hashable, str, str]]) -> dict[Hashable, str]:
    """Labels for people whose first-name-and-initial labels are the same."""
    if len(group) == 1:
        key, first, last = group[0]
        return {key: _label(first, last, 1)}
    # Letters stop one short of the shortest last name, so no one's whole
    # last name is printed.
    most = min((len(last) for _key, _first, last in group), default=0) - 1
    for letters in range(2, most + 1):
        prefixes = {last[:letters].casefold() for _key, _first, last in group}
        if len(prefixes) == len(group):
            return {key: _label(first, last, letters) for key, first, last in group}
    return {
        key: f"{_label(first, last, 1)} ({number})"
        for number, (key, first, last) in enumerate(group, start=1)
    }
