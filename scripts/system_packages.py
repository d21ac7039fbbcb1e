"""Make sure the Debian packages Gather needs are installed.

Usage: system_packages.py NEED...   where NEED is ``pdf`` (WeasyPrint's
libraries and fonts, for ``make run``) or ``browser`` (Chromium, for the
browser tests of ``make test``).

When something is missing and this user may install packages (root, or
``sudo -n`` works), apt-get installs it; otherwise the one command to run is
printed and the exit status is 1.
"""

import ctypes.util
import os
import shutil
import subprocess
import sys

#: Per need: (how to look, what to look for, Debian package, why).
NEEDS = {
    "pdf": [
        ("library", "pango-1.0", "libpango-1.0-0", "WeasyPrint lays out text"),
        ("library", "pangoft2-1.0", "libpangoft2-1.0-0", "WeasyPrint loads fonts"),
        (
            "library",
            "harfbuzz-subset",
            "libharfbuzz-subset0",
            "WeasyPrint embeds small font subsets fast",
        ),
        (
            "path",
            "/usr/share/fonts/truetype/dejavu",
            "fonts-dejavu-core",
            "the fonts the PDFs use",
        ),
    ],
    "browser": [
        ("program", "chromium", "chromium", "the browser tests drive Chromium"),
    ],
}


def _present(kind: str, name: str) -> bool:
    if kind == "library":
        return ctypes.util.find_library(name) is not None
    if kind == "program":
        return shutil.which(name) is not None
    return os.path.exists(name)


def _installer() -> list[str] | None:
    """The command prefix that may install packages here, or None."""
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return []
    can_sudo = shutil.which("sudo") and (
        subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0
    )
    return ["sudo", "-n"] if can_sudo else None


def main(needs: list[str]) -> int:
    missing = [
        (package, why)
        for need in needs
        for kind, name, package, why in NEEDS[need]
        if not _present(kind, name)
    ]
    if not missing:
        return 0
    for package, why in missing:
        sys.stderr.write(f"Missing Debian package {package}: {why}.\n")
    packages = sorted({package for package, _ in missing})
    prefix = _installer()
    if prefix is None:
        sys.stderr.write(
            "Install them, then run make again:\n"
            f"    sudo apt-get install {' '.join(packages)}\n"
        )
        return 1
    sys.stderr.write(f"Installing {' '.join(packages)} with apt-get.\n")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"]
    subprocess.run([*prefix, "apt-get", "update", "-qq"], env=env, check=True)
    subprocess.run([*prefix, *install, *packages], env=env, check=True)
    return 0


if __name__ == "__main__":
    needs = sys.argv[1:]
    if not needs or set(needs) - set(NEEDS):
        sys.exit(f"usage: system_packages.py {{{'|'.join(NEEDS)}}}...")
    sys.exit(main(needs))
