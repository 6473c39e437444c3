"""`make lock`: print the pins of a full (dev) lock that the production lock does not have."""

from __future__ import annotations

import re
import sys
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==")


def names(path: Path) -> set[str]:
    return {
        m[1].lower().replace("_", "-")
        for line in path.read_text().splitlines()
        if (m := PIN.match(line))
    }


def main(full: Path, prod: Path) -> None:
    keep, taken = False, names(prod)
    print("# Development and test tools, on top of requirements.lock (`make` installs both).")
    for line in full.read_text().splitlines():
        if (m := PIN.match(line)) is not None:
            keep = m[1].lower().replace("_", "-") not in taken
        if keep:
            print(line)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
