"""Where ../shared/fixtures is: beside the repository, here and in CI."""

from __future__ import annotations

import os
from pathlib import Path

SHARED_FIXTURES = Path(
    os.environ.get("IGS_TEST_FIXTURES")
    or Path(__file__).resolve().parents[3] / "shared" / "fixtures"
)
