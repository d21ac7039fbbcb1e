"""How people are named where others can see the list: the self check-in
page, the sign-in sheet and the attendance register.

Those lists show a first name and the initial of the last name ("Sam L."),
never a full surname. When two people would get the same label, up to
``MOST_LETTERS`` letters of their last names are shown ("Sam Le." and
"Sam Lo."), never a whole last name. When that cannot tell them apart ("Sam
Johnson" and "Sam Johnston", the same name twice, "Sam Lee" and "Sam
Leeds"), they keep one shared label, and each list decides what to do:

- the public check-in page leaves them out of the pick-list and asks them
  to type their full name (``numbered=False``): a number would not help
  anyone choose, and they might check in the other person;
- the sign-in sheet and the register number them in sign-up order ("Sam J.
  (1)", "Sam J. (2)", the same numbers on both). The sheet tells people with
  a numbered name to initial either line and tell the facilitator, who
  knows them and notes which is which; the register is kept by staff.
"""

from collections import defaultdict
from collections.abc import Hashable, Iterable

#: At most this many letters of a last name are shown, however alike two
#: people's names are: "Sam Joh." is the longest label.
MOST_LETTERS = 3


def comparable(name: str) -> str:
    """``name`` as typed names are compared: runs of spaces made one, no
    spaces at either end, and case folded ("  chris   LAVOIE " is "chris
    lavoie")."""
    return " ".join(name.split()).casefold()


def _split(name: str) -> tuple[str, str]:
    """(first name, last name); the last name is '' for a one-word name."""
    parts = name.split()
    if len(parts) < 2:
        return name.strip(), ""
    return parts[0], parts[-1]


def _label(first: str, last: str, letters: int) -> str:
    return f"{first} {last[:letters]}." if last else first


def short_names(
    people: Iterable[tuple[Hashable, str]], *, numbered: bool = True
) -> dict[Hashable, str]:
    """Each person's label on a shared list, by key.

    ``people`` are (key, full name) pairs, in the order that numbers
    look-alikes (pass them by id so the numbers do not change). Labels are
    computed for the whole list at once because they depend on who else is
    on it: pass everyone who may appear, not only those shown now.

    People the letters cannot tell apart get the same label, numbered
    "(1)", "(2)"... unless ``numbered`` is False: then their labels are
    identical (compare them case-insensitively to find them).
    """
    people = [(key, *_split(name)) for key, name in people]
    groups = defaultdict(list)
    for key, first, last in people:
        groups[_label(first, last, 1).casefold()].append((key, first, last))

    labels = {}
    for group in groups.values():
        labels.update(_distinct(group, numbered=numbered))
    return labels


def _distinct(
    group: list[tuple[Hashable, str, str]], *, numbered: bool
) -> dict[Hashable, str]:
    """Labels for people whose first-name-and-initial labels are the same:
    the fewest letters that tell the most of them apart."""
    if len(group) == 1:
        key, first, last = group[0]
        return {key: _label(first, last, 1)}
    # One letter short of the shortest last name, so no one's whole last
    # name is printed.
    shortest = min(len(last) for _key, _first, last in group)
    most = max(1, min(MOST_LETTERS, shortest - 1))
    best, best_apart = 1, 0
    for letters in range(2, most + 1):
        apart = _told_apart(group, letters)
        if apart > best_apart:
            best, best_apart = letters, apart
        if apart == len(group):
            break
    by_prefix = defaultdict(list)
    for key, first, last in group:
        by_prefix[last[:best].casefold()].append((key, first, last))
    labels = {}
    for same in by_prefix.values():
        for number, (key, first, last) in enumerate(same, start=1):
            label = _label(first, last, best)
            if numbered and len(same) > 1:
                label = f"{label} ({number})"
            labels[key] = label
    return labels


def _told_apart(group: list[tuple[Hashable, str, str]], letters: int) -> int:
    """How many people in ``group`` have a last name starting like nobody
    else's in its first ``letters`` letters."""
    counts = defaultdict(int)
    for _key, _first, last in group:
        counts[last[:letters].casefold()] += 1
    return sum(1 for count in counts.values() if count == 1)
