"""How people are named on check-in lists and printed sheets."""

from attendance.names import comparable, short_names


def test_first_name_and_initial_when_nobody_else_looks_the_same():
    assert short_names([(1, "Sam Rivera"), (2, "Alex Chen"), (3, "Robin")]) == {
        1: "Sam R.",
        2: "Alex C.",
        3: "Robin",
    }


def test_look_alikes_get_letters_of_the_last_name_until_they_differ():
    labels = short_names([(1, "Sam Lee"), (2, "Sam Lopez"), (3, "Sam Rivera")])
    assert labels == {1: "Sam Le.", 2: "Sam Lo.", 3: "Sam R."}
    labels = short_names([(1, "Sam Lamont"), (2, "sam Larkin")])
    assert labels == {1: "Sam Lam.", 2: "sam Lar."}


def test_at_most_three_letters_of_a_last_name_are_shown():
    labels = short_names([(1, "Sam Johnson"), (2, "Sam Johnston")])
    assert labels == {1: "Sam J. (1)", 2: "Sam J. (2)"}
    labels = short_names([(1, "Sam Johnson"), (2, "Sam Jordan"), (3, "Sam Jones")])
    assert labels == {1: "Sam Joh.", 2: "Sam Jor.", 3: "Sam Jon."}


def test_only_the_people_letters_cannot_tell_apart_share_a_label():
    labels = short_names([(1, "Sam Lee"), (2, "Sam Lopez"), (3, "Sam Lee")])
    assert labels == {1: "Sam Le. (1)", 2: "Sam Lo.", 3: "Sam Le. (2)"}


def test_unnumbered_look_alikes_share_one_label_for_the_check_in_page():
    labels = short_names(
        [(1, "Sam Johnson"), (2, "Sam Johnston"), (3, "Ana Lopez")], numbered=False
    )
    assert labels == {1: "Sam J.", 2: "Sam J.", 3: "Ana L."}


def test_a_whole_last_name_is_never_spelled_out():
    # "Lee" would be all of the first person's last name: numbers instead.
    labels = short_names([(1, "Sam Lee"), (2, "Sam Leeds")])
    assert labels == {1: "Sam L. (1)", 2: "Sam L. (2)"}
    assert "Lee." not in " ".join(labels.values())


def test_the_same_name_twice_is_numbered_in_the_order_given():
    labels = short_names([(7, "Sam Lee"), (3, "Sam Lee"), (9, "Jo")])
    assert labels == {7: "Sam L. (1)", 3: "Sam L. (2)", 9: "Jo"}
    assert short_names([(1, "Jo"), (2, "jo")]) == {1: "Jo (1)", 2: "jo (2)"}


def test_labels_are_all_different():
    names = ["Sam Lee", "Sam Lee", "Sam Lopez", "Sam Li", "Ana Lopez", "Ana"]
    labels = short_names(enumerate(names))
    assert len(set(labels.values())) == len(names)


def test_names_are_compared_without_extra_spaces_or_case():
    assert comparable("  chris   LAVOIE ") == comparable("Chris Lavoie")
    assert comparable("Chris\tLavoie") == "chris lavoie"
    assert comparable("Chris Lavoie") != comparable("Chris Lavoi")
