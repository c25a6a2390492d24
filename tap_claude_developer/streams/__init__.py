"""Stream families: the directory (organization, people, workspaces, keys) and the reports."""
