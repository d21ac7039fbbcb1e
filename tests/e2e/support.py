"""Helpers for the browser journeys: accessibility checks with axe-core."""

from axe_playwright_python.sync_playwright import Axe

#: The password of the coordinators the journeys sign in as.
PASSWORD = "a long coordinator passphrase"

#: The axe-core rule tags of WCAG 2.2 levels A and AA.
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_axe = Axe()


def axe_violations(page, *, impacts=None, context=None):
    """axe-core's WCAG 2.2 A and AA violations on ``page``, as readable lines.

    ``impacts`` keeps only violations of those impacts (the admin screens are
    held to serious and critical).
    """
    options = {
        "runOnly": {"type": "tag", "values": WCAG_AA_TAGS},
        "resultTypes": ["violations"],
    }
    results = _axe.run(page, context=context, options=options).response
    lines = []
    for violation in results["violations"]:
        if impacts and violation["impact"] not in impacts:
            continue
        for node in violation["nodes"]:
            lines.append(
                f"{violation['id']} ({violation['impact']}): "
                f"{' '.join(map(str, node['target']))}: {violation['help']}"
            )
    return lines


def assert_accessible(page, *, impacts=None, context=None):
    """Fail with every violation and its selector, if axe finds any."""
    violations = axe_violations(page, impacts=impacts, context=context)
    assert not violations, f"axe on {page.url}:\n" + "\n".join(violations)


def assert_admin_accessible(page):
    """The custom admin screens: no serious or critical violations."""
    assert_accessible(page, impacts={"serious", "critical"})
