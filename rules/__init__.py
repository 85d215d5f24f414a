"""The rule engine: load and validate rule files, compile them into one index, match items.

Pure. Imports nothing from `monitor` or `storage`; reads rule files and nothing else.
"""

from rules.errors import Problem, RuleError, RuleFileError
from rules.load import load
from rules.match import Evidence, Match, RuleSet
from rules.model import Rule, RuleBook, RuleHead

__all__ = [
    "Evidence",
    "Match",
    "Problem",
    "Rule",
    "RuleHead",
    "RuleBook",
    "RuleError",
    "RuleFileError",
    "RuleSet",
    "load",
]
