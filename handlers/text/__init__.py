"""Shared text handling for the features' parsers: normalization, time phrases and their
grammar, periods, the slot extractors and a check-in body's titles and durations. Pure: no
storage, no I/O; every feature's parser may import it, it imports no feature."""
