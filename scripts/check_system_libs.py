"""Check the system libraries WeasyPrint needs, and say how to install them.

Usage: check_system_libs.py DEBIAN_PACKAGE...  (the packages to suggest)
Exits 1 with an apt-get command line when a library is missing.
"""

import ctypes.util
import sys

#: Shared library name -> why Gather needs it.
LIBRARIES = {
    "pango-1.0": "WeasyPrint lays out text with Pango",
    "pangoft2-1.0": "WeasyPrint loads fonts through Pango's FreeType backend",
    "harfbuzz-subset": "WeasyPrint embeds small font subsets fast with HarfBuzz",
}


def main(packages: list[str]) -> int:
    missing = [
        (name, why)
        for name, why in LIBRARIES.items()
        if not ctypes.util.find_library(name)
    ]
    if not missing:
        return 0
    lines = [f"Missing system library lib{name}: {why}." for name, why in missing]
    lines.append("Install the Debian packages, then run make again:")
    lines.append(f"    sudo apt-get install {' '.join(packages)}")
    sys.stderr.write("\n".join(lines) + "\n")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
