"""The roster (名册): reading an office's spreadsheet (:mod:`bot.roster.read`) and the columns and
cleaning of what offices type in them (:mod:`bot.roster.columns`)."""
