"""One base class for the failures a user can cause, and can do something about.

Services raise an :class:`ItaError` (through a subclass: ``OrgError``, ``FileProblem``,
``BackupError``, ``PermissionDenied``...) carrying a ``code`` and ``params``; only the edges (the
command line, ``ui/``) turn it into a message, through :meth:`ItaError.message` (texts.py, Thai or
English). Anything else that reaches an edge is a bug and is shown as one: the edges catch
``ItaError``, never every ``ValueError``.

Raise sites pass a code and its parameters: ``OrgError(code="org_name_taken", name=...)`` reads
``texts.TH["error_org_name_taken"]`` (or ``texts.EN`` with ``ITA_LANG=en``). Every code a class
declares in ``codes`` has a Thai and an English text, and no raise site in the package passes a
Thai sentence (tests/test_errors.py). A sentence given as ``message`` is still shown as it is, for
text that is not ours to translate (a joined list of the password rules' own texts, a library's
message).
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional


class ItaError(Exception):
    """A user-facing failure: ``code`` names the case, ``params`` fill its text.

    ``str(exc)`` is the line the command line prints (the message, unless a subclass keeps an
    English line of the CLI contract, as :class:`ita_dashboard.backup.BackupError` does)."""

    code: str = "error"
    #: every code this class is raised with, each with a text ``<text_prefix><code>`` in texts.py
    codes: ClassVar[tuple[str, ...]] = ()
    text_prefix: ClassVar[str] = "error_"

    def __init__(self, message: Optional[str] = None, *, code: Optional[str] = None, **params: Any) -> None:
        if code is not None:
            self.code = code
        self.params = params
        self.detail = message  # a sentence given when raised (older raise sites), or None
        super().__init__(message if message is not None else self.message())

    @property
    def text_key(self) -> str:
        return f"{self.text_prefix}{self.code}"

    def message(self) -> str:
        """The text for the user in the current language (texts.py): the code's text, else the
        sentence given when raised."""
        from .texts import TH, t

        if self.detail is None or self._coded_text():
            return t(self.text_key, **self.params) if self.text_key in TH else self.code
        return self.detail

    def _coded_text(self) -> bool:
        """Whether the code's text wins over the sentence given (BackupError: the sentence is the
        English CLI line, the screen reads the code)."""
        return False

