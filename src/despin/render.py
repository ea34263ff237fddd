"""Stage 5: turn decisions into edits with the right case and article.

Only the span of the spun form is replaced (plus a preceding "a"/"an" when
the restored word needs the other one), so every other character of the
input comes back as it was.
"""

from __future__ import annotations

import regex

from .edits import Edit
from .score import Scored
from .tokenize import Tokens

__all__ = ["transfer_case", "wants_an", "render"]

_AN_EXCEPTIONS = ("uni", "use", "usu", "usa", "uti", "ura", "ure", "uro", "eu", "ewe", "one", "once", "ubiq", "uk")
_SILENT_H = ("hour", "honest", "honor", "honour", "heir")
_VOWEL_LETTER_SOUNDS = set("AEFHILMNORSX")
_FIRST_WORD = regex.compile(r"[\p{L}\p{N}]+")


def wants_an(phrase: str) -> bool:
    """Whether the indefinite article before ``phrase`` is "an"."""
    m = _FIRST_WORD.search(phrase)
    if not m:
        return False
    word = m.group()
    low = word.lower()
    if 1 < len(word) <= 4 and word.isupper() and not _looks_pronounced(word):
        return word[0] in _VOWEL_LETTER_SOUNDS  # spelled out: an FBI, an MP, a UN
    if low[0] in "aeiou":
        return not low.startswith(_AN_EXCEPTIONS) or low.startswith(("unin", "unim", "unu", "usur"))
    if low[0].isdigit():
        return low.startswith(("8", "11", "18"))
    return low.startswith(_SILENT_H)


def _looks_pronounced(acronym: str) -> bool:
    """NATO, NASA, OPEC are said as words; FBI, MP, UN letter by letter."""
    return len(acronym) >= 4 and (acronym[1] in "AEIOU") != (acronym[0] in "AEIOU")


def transfer_case(source: str, target: str) -> str:
    """Give ``target`` the capitalisation pattern of ``source``.

    ALL CAPS stays all caps, Title Case stays title case, a capital first
    letter stays a capital first letter; targets with capitals of their own
    (names like "Eastern Economic Forum") keep them.
    """
    first = source[:1]
    if first.isalpha() and first.islower():  # the usual case; each rule below leaves target as it is
        return target if source.islower() else _word_case(source, target)
    letters = [ch for ch in source if ch.isalpha()]
    if not letters or not target:
        return target
    if len(letters) > 1 and all(ch.isupper() for ch in letters):
        return target.upper()
    if target != target.lower():  # the original is a name: keep its own capitals
        return target[0].upper() + target[1:] if letters[0].isupper() else target
    words = source.split()
    if len(words) > 1 and all(w[0].isupper() for w in words if w[0].isalpha()):
        return " ".join(w[:1].upper() + w[1:] for w in target.split(" "))
    if letters[0].isupper():
        return target[0].upper() + target[1:]
    return target


def _word_case(source: str, target: str) -> str:
    """Capitals inside a lower-case-led form ("the Home" -> "the House"): word by
    word when both have as many words and the target has no capitals of its own."""
    words, new = source.split(), target.split(" ")
    if len(words) != len(new) or target != target.lower():
        return target
    return " ".join(n[:1].upper() + n[1:] if w[:1].isupper() else n for w, n in zip(words, new, strict=True))


def _ends_sentence(text: str, pos: int) -> bool:
    """Whether a sentence ends at ``pos`` (end of text or line, or a capital follows)."""
    rest = text[pos : pos + 3]
    if not rest or rest[0] in "\r\n":
        return True
    return rest[0].isspace() and len(rest) > 1 and (rest[1].isupper() or rest[1] in "\r\n")


def render(tokens: Tokens, chosen: list[Scored]) -> list[Edit]:
    """Edits for the chosen candidates, in text order."""
    text = tokens.text
    edits: list[Edit] = []
    last_end = 0
    for s in chosen:
        c = s.cand
        before = c_text = text[c.start : c.end]
        after = transfer_case(before, s.original) if c.rule != "spintax" else s.original
        if c.entry is not None and c.entry.suffix.endswith(".") and _ends_sentence(text, c.end):
            after += "."  # "gained 5 p.c." -> "gained 5 percent.": the dot also ended the sentence
        start = c.start
        if c.i > 0 and c.rule != "spintax":
            art = tokens.lows[c.i - 1]
            if art in ("a", "an") and tokens.starts[c.i - 1] >= last_end:
                gap = text[tokens.ends[c.i - 1] : c.start]
                if gap.isspace() and "\n\n" not in gap:
                    need_an = wants_an(after)
                    if need_an != (art == "an") and wants_an(before) == (art == "an"):
                        word = tokens.words[c.i - 1]
                        new_art = ("an" if need_an else "a")
                        if word == "A":  # one capital letter: follow the word after it
                            new_art = new_art.upper() if len(c_text) > 1 and c_text.isupper() else new_art.capitalize()
                        else:
                            new_art = transfer_case(word, new_art)
                        start = tokens.starts[c.i - 1]
                        before = text[start : c.end]
                        after = new_art + gap + after
        if "\u2019" in before and "'" in after:  # the text's own apostrophes
            after = after.replace("'", "\u2019")
        evidence = {k: float(v) for k, v in s.evidence.items()}
        rule = c.entry.source if c.entry is not None else c.rule
        edits.append(Edit(start, c.end, before, after, s.confidence, s.reason, rule, evidence))
        last_end = c.end
    return edits
