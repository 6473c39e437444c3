from __future__ import annotations

import re
from pathlib import Path

from instagram_service.settings import Settings, settings_table

README = Path(__file__).parent.parent / "README.md"


def test_readme_configuration_table_matches_the_settings_class() -> None:
    text = README.read_text()
    block = re.search(
        r"<!-- settings-table:start -->\n(.*?)\n<!-- settings-table:end -->", text, re.S
    )
    assert block is not None, "README lost its settings table markers"
    assert block.group(1) == settings_table(), "regenerate the README table from settings_table()"
    for name in Settings.model_fields:
        assert f"`IGS_{name.upper()}`" in block.group(1)


def test_readme_names_the_two_commands_and_the_shutdown() -> None:
    text = README.read_text()
    assert "make demo" in text
    assert "make test" in text
    assert "Basic Display" in text
    assert "4 December 2024" in text
