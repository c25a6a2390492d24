"""README's settings table is the one `tap-claude-developer --about --format=markdown` prints, so docs cannot drift."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT


def settings_table(markdown: str) -> list[str]:
    """The lines of the first table whose header starts with `| Setting |`."""
    lines = markdown.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("| Setting |")), None)
    assert start is not None, "no settings table"
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line.rstrip())
    return table


def test_readme_settings_table_matches_about() -> None:
    about = subprocess.run(
        [sys.executable, "-m", "tap_claude_developer", "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    ).stdout
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table(readme) == settings_table(about), (
        "README's settings table is out of date: paste the table from "
        "`tap-claude-developer --about --format=markdown` into README.md"
    )


def test_readme_includes_the_user_status_sql_verbatim() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    sql = (REPO_ROOT / "docs" / "user_status.sql").read_text(encoding="utf-8")
    assert f"```sql\n{sql}```" in readme, "README must include docs/user_status.sql verbatim in a ```sql block"
