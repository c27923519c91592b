"""Understanding what members actually type (issue 15).

:mod:`handlers.text.slots` finds dates, durations, 《titles》, numbers, groups and send times
anywhere in a message (it sits with the shared text handling: the features' own parsers use it,
and this package, which reads every feature's parser, sits above them); :mod:`grammar` declares
each intent as data (cue words, vetoes, who may use it, the slots it needs); :mod:`intents`
scores them and builds the value a feature's handler takes. :mod:`routes` puts it in the
dispatcher: questions before any command parser, natural phrasings after all of them, just
before the fallback; :mod:`amend` reads a one-slot correction of a reading that waits for 是/确认.
"""
