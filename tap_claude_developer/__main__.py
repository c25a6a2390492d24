"""Allow ``python -m tap_claude_developer``."""

from tap_claude_developer.tap import TapClaudeDeveloper

TapClaudeDeveloper.cli()
