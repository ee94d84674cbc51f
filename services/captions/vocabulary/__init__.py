"""A room's vocabulary: the talk's names and jargon, set by the presenter and learned from their corrections."""
