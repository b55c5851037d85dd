"""Connecting agent clients (Claude Code, Codex CLI, Gemini CLI, Cursor, VS Code) to the bus."""
