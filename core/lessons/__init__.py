"""Lessons: the explorer's settings as a shareable link (with controls a teacher hides or locks) and self-checking challenges."""
