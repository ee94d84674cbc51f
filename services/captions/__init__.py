"""Live captions: streaming speech recognition fanned out to rooms of viewers."""
