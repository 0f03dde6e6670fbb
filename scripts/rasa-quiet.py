"""Run the `rasa` CLI without its dependencies' deprecation chatter.

PYTHONWARNINGS=ignore is not enough: a Rasa dependency (aiogram) turns
DeprecationWarning back on at import. Warnings about our own data still print.
"""
import sys
import warnings

_show = warnings.showwarning


def _show_unless_deprecation(message, category, *args, **kwargs):
    if not issubclass(category, (DeprecationWarning, PendingDeprecationWarning)):
        _show(message, category, *args, **kwargs)


warnings.showwarning = _show_unless_deprecation

from rasa.__main__ import main  # noqa: E402

sys.argv[0] = "rasa"
sys.exit(main())
