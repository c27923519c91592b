"""提案 (proposals): a workflow of their own beside 社情民意.

:mod:`parse` reads the Chinese text, :mod:`workflow` is the state machine (who may move a
proposal where, what is recorded and who is told), :mod:`chat` the router (members, co-
proposers' 附议, the proposer's 满意度, the office's review), :mod:`plan` the three-colour
chasers of each step's deadline.
"""

from handlers.proposals.chat import router

__all__ = ["router"]
