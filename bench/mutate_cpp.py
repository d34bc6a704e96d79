"""A line- and brace-aware reader of C++ sources, for bench/mutate.

Not a C++ parser: comments, string and char literals and preprocessor lines
are masked out (same length, so offsets and lines stay), namespaces are
entered, type bodies skipped, and each function body is split into blocks
and statements: simple ones (up to their `;`, lambda bodies as blocks),
blocks, if/else, for, while, do, switch and labels. Enough for the model's
code, which clang-format keeps regular. Standard library only.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

KEYWORDS = {"if", "for", "while", "switch", "do", "return", "case", "default", "else", "sizeof", "try", "catch",
            "new", "delete", "static_cast", "reinterpret_cast", "const_cast", "dynamic_cast"}


def mask(text: str) -> str:
    """The text with comments, string and char literals' contents and
    preprocessor lines blanked (same length, newlines kept)."""
    out = list(text)
    n = len(text)
    i = 0
    line_start = True

    def blank(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if line_start and c in " \t":
            i += 1
            continue
        if line_start and c == "#":  # a preprocessor line, with its continuations
            j = i
            while True:
                e = text.find("\n", j)
                if e < 0:
                    e = n
                if e > 0 and text[e - 1] == "\\" and e < n:
                    j = e + 1
                    continue
                break
            blank(i, e)
            i = e
            continue
        line_start = c == "\n"
        if text.startswith("//", i):
            e = text.find("\n", i)
            e = n if e < 0 else e
            blank(i, e)
            i = e
        elif text.startswith("/*", i):
            e = text.find("*/", i + 2)
            e = n if e < 0 else e + 2
            blank(i, e)
            i = e
        elif c == 'R' and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            p = text.find("(", i + 2)
            delim = text[i + 2:p]
            e = text.find(")" + delim + '"', p)
            e = n if e < 0 else e + len(delim) + 2
            blank(i + 2, e - 1)
            i = e
        elif c == '"' or (c == "'" and not _digit_separator(text, i)):
            j = i + 1
            while j < n and text[j] != c:
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n":
                    break
                j += 1
            blank(i + 1, min(j, n))
            i = j + 1
        else:
            i += 1
    return "".join(out)


def _digit_separator(text: str, i: int) -> bool:
    """True if the ' at i separates digits (1'000'000)."""
    j = i
    while j > 0 and (text[j - 1].isalnum() or text[j - 1] in "_'."):
        j -= 1
    return j < i and text[j].isdigit()


def collapse(s: str) -> str:
    return " ".join(s.split())


@dataclass(eq=False)
class Block:
    open: int  # offset of '{' (unbraced: of the statement)
    close: int  # offset of '}' (unbraced: end of the statement)
    braced: bool
    owner: "Stmt | None" = None
    func: "Function | None" = None
    stmts: list = field(default_factory=list)


@dataclass(eq=False)
class Stmt:
    kind: str  # simple, block, if, for, while, do, switch, label
    start: int
    end: int  # past the last character
    parent: Block
    head: tuple = None  # (start, end) of the header of a compound statement
    cond: tuple = None  # (start, end) of the condition (if, while, for's middle, do's)
    children: list = field(default_factory=list)  # blocks: then[, else] / body / lambda bodies
    dead: bool = False


@dataclass(eq=False)
class Function:
    name: str  # as written: PageCache::ReadFolio
    short: str  # ReadFolio
    body: Block
    start: int
    end: int


class Source:
    """One parsed file: its functions, blocks and statements."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        self.m = mask(text)
        self.n = len(text)
        self.line_starts = [0] + [k + 1 for k, ch in enumerate(text) if ch == "\n"]
        self.functions: list[Function] = []
        self._func = None
        self._decls(0, self.n)

    # Lines are 1-based.
    def line(self, off: int) -> int:
        return bisect.bisect_right(self.line_starts, off)

    def _skip_ws(self, i: int) -> int:
        while i < self.n and self.m[i].isspace():
            i += 1
        return i

    def _match(self, i: int) -> int:
        """The offset of the bracket closing the one at i (or n)."""
        pairs = {"(": ")", "[": "]", "{": "}"}
        stack = []
        m = self.m
        while i < self.n:
            c = m[i]
            if c in pairs:
                stack.append(pairs[c])
            elif c in ")]}":
                if not stack:
                    return i
                if stack.pop() != c:
                    pass  # unbalanced: carry on
                if not stack:
                    return i
            i += 1
        return self.n

    def _ident(self, i: int) -> str:
        mo = re.compile(r"[A-Za-z_]\w*").match(self.m, i)
        return mo.group(0) if mo else ""

    # -- declaration level: namespaces are entered, types skipped, functions parsed.
    def _decls(self, i: int, end: int) -> int:
        seg = i
        m = self.m
        while i < end:
            c = m[i]
            if c == ";":
                seg = i + 1
            elif c in "([":
                i = self._match(i)
            elif c == "}":
                return i
            elif c == "{":
                header = m[seg:i]
                close = self._match(i)
                if re.match(r"\s*(?:inline\s+)?namespace\b[^(]*$", header) or re.match(r'\s*extern\s+"', header):
                    self._decls(i + 1, close)
                    seg = close + 1
                elif self._is_function(header):
                    self._function(seg, i, header)
                    seg = close + 1
                # else: a type body or an initializer: skipped, up to its ';'
                i = close
            i += 1
        return i

    def _param_paren(self, header: str) -> int:
        for mo in re.finditer(r"\(", header):
            before = header[:mo.start()].rstrip()
            word = re.search(r"(?:operator\s*\S+|~?[A-Za-z_]\w*)$", before)
            if word and word.group(0) not in ("__attribute__", "alignas", "decltype", "__declspec", "noexcept"):
                return mo.start()
        return -1

    def _is_function(self, header: str) -> bool:
        h = header.strip()
        if not h or re.match(r"(?:template\s*<[^>]*>\s*)?(?:struct|class|union|enum)\b", h):
            return False
        p = self._param_paren(h)
        if p < 0 or "=" in re.sub(r"<[^<>]*>", "", h[:p]) or re.search(r"\b(?:struct|class|union|enum)\b", h[:p]):
            return False
        depth = 0
        q = p
        for q in range(p, len(h)):
            depth += {"(": 1, ")": -1}.get(h[q], 0)
            if depth == 0:
                break
        rest = h[q + 1:]
        return re.match(r"\s*(?:(?:const|noexcept|override|final|mutable|&&|&)\s*)*(?:->[^{]*)?(?::.*)?$", rest, re.S) is not None

    def _function(self, seg: int, brace: int, header: str):
        h = header
        p = self._param_paren(h)
        name = re.search(r"((?:[A-Za-z_]\w*\s*::\s*)*(?:operator\s*\S+|~?[A-Za-z_]\w*))\s*$", h[:p]).group(1)
        name = re.sub(r"\s+", "", name)
        short = name.split("::")[-1]
        fn = Function(name=name, short=short, body=None, start=seg + (len(h) - len(h.lstrip())), end=0)
        self._func = fn
        fn.body, after = self._block(brace, None)
        fn.end = after
        self._func = None
        self.functions.append(fn)

    # -- statements
    def _block(self, i: int, owner) -> tuple:
        blk = Block(open=i, close=0, braced=True, owner=owner, func=self._func)
        j = i + 1
        while True:
            j = self._skip_ws(j)
            if j >= self.n:
                blk.close = self.n
                return blk, self.n
            if self.m[j] == "}":
                blk.close = j
                return blk, j + 1
            st, j2 = self._stmt(j, blk)
            if st is not None:
                blk.stmts.append(st)
            j = max(j2, j + 1)

    def _body(self, i: int, owner) -> tuple:
        i = self._skip_ws(i)
        if i < self.n and self.m[i] == "{":
            return self._block(i, owner)
        blk = Block(open=i, close=0, braced=False, owner=owner, func=self._func)
        st, j = self._stmt(i, blk)
        if st is not None:
            blk.stmts.append(st)
        blk.close = j
        return blk, j

    def _stmt(self, i: int, parent: Block) -> tuple:
        m = self.m
        word = self._ident(i)
        if m[i] == "{":
            st = Stmt("block", i, 0, parent)
            blk, j = self._block(i, st)
            st.children = [blk]
            st.end = j
            return st, j
        if m[i] == ";":
            return None, i + 1
        if word == "if":
            st = Stmt("if", i, 0, parent)
            p = self._skip_ws(i + 2)
            if self._ident(p) == "constexpr":
                p = self._skip_ws(p + 9)
            q = self._match(p)
            st.head, st.cond = (i, q + 1), (p + 1, q)
            then, j = self._body(q + 1, st)
            st.children = [then]
            k = self._skip_ws(j)
            if self._ident(k) == "else":
                other, j = self._body(k + 4, st)
                st.children.append(other)
            st.end = j
            return st, j
        if word in ("for", "while", "switch"):
            st = Stmt(word, i, 0, parent)
            p = self._skip_ws(i + len(word))
            q = self._match(p)
            st.head = (i, q + 1)
            st.cond = (p + 1, q)
            if word == "for":
                parts = self._top_split(p + 1, q, ";")
                st.cond = parts[1] if len(parts) == 3 else None
            body, j = self._body(q + 1, st)
            st.children = [body]
            st.end = j
            return st, j
        if word == "do":
            st = Stmt("do", i, 0, parent)
            body, j = self._body(i + 2, st)
            k = self._skip_ws(j)
            if self._ident(k) == "while":
                p = self._skip_ws(k + 5)
                q = self._match(p)
                st.cond = (p + 1, q)
                j = self._skip_ws(q + 1)
                if j < self.n and m[j] == ";":
                    j += 1
            st.head = (k, j)
            st.children = [body]
            st.end = j
            return st, j
        if word in ("case", "default") or re.match(r"[A-Za-z_]\w*\s*:(?!:)", m[i:i + 64]) and word not in KEYWORDS:
            j = i
            while j < self.n:
                if m[j] == ":" and m[j + 1:j + 2] != ":" and m[j - 1] != ":":
                    break
                if m[j] in "([{":
                    j = self._match(j)
                j += 1
            st = Stmt("label", i, j + 1, parent)
            st.head = (i, j + 1)
            return st, j + 1
        # A simple statement, up to its ';'; lambda bodies in it are blocks.
        st = Stmt("simple", i, 0, parent)
        j = i
        while j < self.n:
            c = m[j]
            if c == ";":
                st.end = j + 1
                return st, j + 1
            if c == "}":  # a missing ';' before the block's end
                st.end = j
                return st, j
            if c == "{":
                j = self._brace(j, st)
                continue
            elif c in "([":
                j = self._paren_with_lambdas(j, st)
            j += 1
        st.end = self.n
        return st, self.n

    def _brace(self, j: int, st: Stmt) -> int:
        """At a '{' inside statement `st`: a lambda's body is parsed as a block
        of `st`, anything else (an initializer) skipped. Returns where to go on."""
        prev = self.m[:j].rstrip()
        if prev.endswith("]") or prev.endswith(")") or prev.endswith("mutable"):
            blk, j2 = self._block(j, st)
            st.children.append(blk)
            return j2
        return self._match(j) + 1

    def _paren_with_lambdas(self, i: int, st: Stmt) -> int:
        """Like _match, but parses lambda bodies inside the brackets as blocks."""
        m = self.m
        depth = 0
        j = i
        while j < self.n:
            c = m[j]
            if c in "([":
                depth += 1
            elif c in ")]":
                depth -= 1
                if depth == 0:
                    return j
            elif c == "{":
                j = self._brace(j, st)
                continue
            j += 1
        return self.n

    def _top_split(self, a: int, b: int, sep: str) -> list:
        parts, depth, s = [], 0, a
        for k in range(a, b):
            c = self.m[k]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == sep and depth == 0:
                parts.append((s, k))
                s = k + 1
        parts.append((s, b))
        return parts

    # -- views of a statement
    def own_spans(self, st: Stmt) -> list:
        """The statement's own text, without its sub-blocks: for a compound
        statement its header (and do's tail), for a simple one all of it but
        lambda bodies."""
        if st.kind in ("if", "for", "while", "switch", "label"):
            return [st.head]
        if st.kind == "do":
            return [(st.start, st.start + 2), st.head]
        if st.kind == "block":
            return []
        spans, a = [], st.start
        for blk in st.children:
            spans.append((a, blk.open))
            a = blk.close + 1
        spans.append((a, st.end))
        return spans

    def own(self, st: Stmt) -> str:
        return " ".join(self.m[a:b] for a, b in self.own_spans(st))

    def code(self, st: Stmt) -> str:
        return self.m[st.start:st.end]

    def walk(self, blk: Block):
        """Every statement under blk, outer first, in source order."""
        for st in blk.stmts:
            yield st
            for child in st.children:
                yield from self.walk(child)
