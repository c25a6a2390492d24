"""Singer tap for Anthropic's Admin API (Claude Developer Platform)."""
