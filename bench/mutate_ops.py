"""The mutation operators of bench/mutate: mutants of the page-cache model.

Each operator makes one kind of change that recreates the page-cache
invalidation-race bug class (the mutants of docs/model.md, generalised):

  del-lock-pair  delete a lock and its unlocks (same lock, same function)
  move-unlock    move an unlock above the statement before it
  del-flag       delete a flag set or clear (SetFlag, ClearFlag, Mark*, a
                 flags or mapping store, `x = true/false`)
  move-flag      move a flag set or clear below the next statement that is a
                 scheduling point or I/O
  del-recheck    replace a check made just after taking a lock or waiting by
                 true, and by false (two mutants)
  off-by-one     `<` <-> `<=`, `>` <-> `>=`, or drop a `+ 1` / `- 1`
  swap           swap two adjacent statements that both change state
  skip-wait      delete a wait (Wait*()), or skip a loop that waits

The C++ is read by mutate_cpp.py, line- and brace-aware, not fully parsed. A
mutant that does not compile is the runner's "did not compile", not an error
here.

Never mutated, as equivalent by construction: statements that only trace or
check (TracePage, sched::Note/Record/Tracing, PR_CHECK*, CheckFailed,
ModelCheck), bare scheduling points (Observable(), sched::At: moving or
deleting one only takes interleavings away, never adds a behaviour), statements that test the catalogue mutant (config_.mutant,
Mutant::), functions named Trace*, and code that the catalogue mutant's
guards make dead when no catalogue mutant is on (`if (config_.mutant ==
Mutant::kX)`, or a local bool set from such a test).

A mutant's id is `<operator>.<function>.<hash>[.<n>]`: the hash covers the
operator and the touched statements' text (whitespace and comments
ignored), and n counts identical ones in the same function. So an id stays
the same when lines are added elsewhere or a function moves to another file.
Standard library only.
"""

from __future__ import annotations

import difflib
import glob
import hashlib
import os
import re
from dataclasses import dataclass

from mutate_cpp import KEYWORDS, Block, Function, Source, Stmt, collapse, mask  # noqa: F401 (the test uses mask)

OPERATORS = (
    "del-lock-pair",
    "move-unlock",
    "del-flag",
    "move-flag",
    "del-recheck",
    "off-by-one",
    "swap",
    "skip-wait",
)

# Statements that only trace or check, or test the catalogue mutant.
EXCLUDED = re.compile(
    r"\bTracePage\b|\bsched::(?:Note|Record|Tracing)\b|\bPR_CHECK\w*|\bCheckFailed\b|\bModelCheck\b"
    r"|\bconfig_\s*\.\s*mutant\b|\bMutant::"
    r"|\bObservable\s*\(\s*\)\s*;|\bsched::At\b")
EXCLUDED_FUNCTION = re.compile(r"^Trace")

# Lock and unlock: a sched primitive's method, or the folio lock.
_OBJ = r"[A-Za-z_]\w*(?:(?:\.|->)[A-Za-z_]\w*|\[[^\]\n]*\])*"
ACQUIRE = re.compile(r"(?P<obj>" + _OBJ + r")\s*\.\s*Lock(?P<shared>Shared)?\s*\(\s*\)"
                     r"|(?<![\w.>:])Lock\s*\(\s*(?P<arg>[^()]*?)\s*\)")
RELEASE = re.compile(r"(?P<obj>" + _OBJ + r")\s*\.\s*Unlock(?P<shared>Shared)?\s*\(\s*\)"
                     r"|(?<![\w.>:])Unlock\s*\(\s*(?P<arg>[^()]*?)\s*\)")
TRYLOCK = re.compile(r"(?<![\w.>:])TryLock\w*\s*\(|\.\s*TryLock\w*\s*\(")
WAIT = re.compile(r"(?<![\w.>])(?:sched::)?Wait\w*\s*\(")
# A scheduling point or I/O, directly: a sched:: call (not a query or a
# trace), a sync primitive's method, the backend.
POINT = re.compile(r"\bsched::(?!(?:Note|Record|Tracing|Controlled|ThreadRng|PointName)\b)[A-Za-z_]\w*\s*\("
                   r"|\.\s*(?:Lock|Unlock|LockShared|UnlockShared|TryLock\w*)\s*\(\s*\)|\bbackend_\s*(?:\.|->)")
FLAG_CALL = re.compile(r"^(?:(?:[A-Za-z_]\w*(?:\.|->))*)(?:Set|Clear|Mark)[A-Z]\w*\s*\(")
FLAG_STORE = re.compile(r"(?:\.|->)\s*(?:flags|mapping)\s*\.\s*(?:store|fetch_or|fetch_and|fetch_xor|exchange)\s*\(")
BOOL_ASSIGN = re.compile(r"^(?P<lhs>[A-Za-z_][\w.\->\[\]]*)\s*=\s*(?:true|false)\s*;$")
ATOMIC_WRITE = re.compile(r"\.\s*(?:store|fetch_\w+|exchange|compare_exchange_\w+)\s*\(")
ASSIGN = re.compile(r"^(?P<lhs>[^=;(){}]*?)\s*(?:[-+*/|&^]|<<|>>)?=(?!=)")
# Reads of state other threads change (the model's folios, slots, PTEs).
SHARED_READ = re.compile(r"\.\s*load\s*\(|(?<![\w.>])Has\s*\(|(?:\.|->)\s*(?:mapping|flags|folio|refcount|mapcount|writable)\b"
                         r"|\b(?:pages|ptes)\s*\[")
RELOP = re.compile(r"(?<=\s)(<=|>=|<|>)(?=\s)")
PLUS_MINUS_ONE = re.compile(r"\s([+-])\s1(?![\w.'])")
JUMP = re.compile(r"^(?:return|continue|break|goto|throw)\b")
DECL = re.compile(r"^(?:(?:const|constexpr|static|auto|unsigned|signed|struct)\s+)*"
                  r"(?:[A-Za-z_][\w:]*(?:\s*<[^;=]*>)?)(?:\s*[*&]+\s*|\s+)(?P<name>[A-Za-z_]\w*)\s*(?:=|;|\(|\{|\[)")
BOOL_DECL = re.compile(r"^(?:const\s+)?bool\s+(?P<name>[A-Za-z_]\w*)\s*=\s*(?P<init>.*);$", re.S)
RAII = re.compile(r"^(?:std::)?(?:lock_guard|unique_lock|scoped_lock|shared_lock)\b")


def parse(path: str, text: str) -> Source:
    src = Source(path, text)
    for fn in src.functions:
        _mark_dead(src, fn)
    return src


# ---- the catalogue mutant's dead code ----

def _eval_guard(expr: str, env: dict):
    """The value of a condition when no catalogue mutant is on: True, False
    or None (unknown)."""
    e = expr.strip()
    while e.startswith("(") and e.endswith(")") and _balanced(e[1:-1]):
        e = e[1:-1].strip()
    for op, absorbing in (("||", True), ("&&", False)):
        parts = _split_top(e, op)
        if len(parts) > 1:
            vals = [_eval_guard(p, env) for p in parts]
            if absorbing in vals:
                return absorbing
            if all(v == (not absorbing) for v in vals):
                return not absorbing
            return None
    if e.startswith("!") and not e.startswith("!="):
        v = _eval_guard(e[1:], env)
        return None if v is None else not v
    mo = re.fullmatch(r"config_\s*\.\s*mutant\s*(==|!=)\s*Mutant::(\w+)", e) or \
        re.fullmatch(r"Mutant::(\w+)\s*(==|!=)\s*config_\s*\.\s*mutant", e)
    if mo:
        op = mo.group(1) if mo.group(1) in ("==", "!=") else mo.group(2)
        name = mo.group(2) if mo.group(1) in ("==", "!=") else mo.group(1)
        if name == "kNone":
            return op == "=="
        return op == "!="
    if re.fullmatch(r"[A-Za-z_]\w*", e) and e in env:
        return env[e]
    return None


def _balanced(s: str) -> bool:
    depth = 0
    for c in s:
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0


def _split_top(e: str, op: str) -> list:
    parts, depth, s, k = [], 0, 0, 0
    while k < len(e):
        c = e[k]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and e.startswith(op, k):
            parts.append(e[s:k])
            k += len(op)
            s = k
            continue
        k += 1
    parts.append(e[s:])
    return [p.strip() for p in parts]


def _mark_dead(src: Source, fn: Function):
    env = {}
    for st in src.walk(fn.body):
        if st.kind == "simple":
            mo = BOOL_DECL.match(collapse(src.own(st)))
            if mo and re.search(r"\bMutant::", mo.group("init")):
                v = _eval_guard(mo.group("init"), env)
                if v is not None:
                    env[mo.group("name")] = v
        if st.kind == "if":
            v = _eval_guard(src.m[st.cond[0]:st.cond[1]], env)
            dead = []
            if v is False:
                dead = st.children[:1]
            elif v is True:
                dead = st.children[1:2]
            for blk in dead:
                for inner in src.walk(blk):
                    inner.dead = True
                for inner in blk.stmts:
                    inner.dead = True


# ---- mutants ----

@dataclass
class Mutant:
    op: str
    path: str
    function: str
    line: int
    description: str
    edits: list  # (start, end, replacement), on the original text
    key: str  # what the id's hash covers
    id: str = ""

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def apply(self, text: str) -> str:
        for a, b, r in sorted(self.edits, key=lambda e: (e[0], e[1]), reverse=True):
            text = text[:a] + r + text[b:]
        return text

    def diff(self, text: str) -> str:
        new = self.apply(text)
        return "".join(difflib.unified_diff(text.splitlines(True), new.splitlines(True),
                                            "a/" + self.path, "b/" + self.path))


class Generator:
    """Generates every operator's mutants of one parsed file."""

    def __init__(self, src: Source, mutating: set = frozenset(), points: set = frozenset(),
                 entered_locked: set = frozenset(), readers: set = frozenset()):
        self.src = src
        self.mutating = mutating  # function names whose call changes state
        self.points = points  # function names whose call is a scheduling point or I/O
        self.readers = readers  # function names whose call reads shared state and changes none (getters)
        # Functions called right after an acquire or a wait: their first
        # statements are rechecks too (truncate_inode_folio's ->mapping test).
        self.entered_locked = entered_locked
        self.out: list[Mutant] = []

    # -- helpers on statements
    def excluded(self, st: Stmt) -> bool:
        return st.dead or bool(EXCLUDED.search(self.src.own(st)))

    def text(self, st: Stmt) -> str:
        return collapse(self.src.text[st.start:st.end])

    def short(self, st: Stmt, limit: int = 60) -> str:
        t = self.text(st)
        if len(t) > limit and st.kind != "simple":
            t = (collapse(self.src.text[st.head[0]:st.head[1]]) if st.head else "{") + " ..."
        return t if len(t) <= limit else t[:limit - 3] + "..."

    def unit(self, st: Stmt) -> Stmt:
        """The statement to delete or move for st: the if that only guards it
        (no else, a condition without calls), else st itself."""
        blk = st.parent
        owner = blk.owner
        if (owner is not None and owner.kind == "if" and len(owner.children) == 1 and blk is owner.children[0]
                and len(blk.stmts) == 1 and "(" not in self.src.m[owner.cond[0]:owner.cond[1]]
                and not self.excluded(owner)):
            return self.unit(owner)
        return st

    def siblings(self, st: Stmt) -> list:
        """The live, non-excluded statements of st's block (st included)."""
        return [s for s in st.parent.stmts if s is st or not self.excluded(s)]

    def declared(self, st: Stmt) -> str:
        if st.kind != "simple":
            return ""
        own = collapse(self.src.own(st))
        if JUMP.match(own) or own.startswith(("delete ", "new ")):
            return ""
        mo = DECL.match(own)
        if mo and mo.group(0).split()[0] not in KEYWORDS and not ASSIGN.match(own[:mo.start("name")] + "x"):
            return mo.group("name")
        return ""

    def subtree(self, st: Stmt):
        yield st
        for blk in st.children:
            yield from self.src.walk(blk)

    def mentions(self, st: Stmt, name: str) -> bool:
        return bool(name) and re.search(r"\b" + re.escape(name) + r"\b", self.src.code(st)) is not None

    def calls(self, code: str, names: set) -> bool:
        return any(re.search(r"(?<![\w])" + re.escape(n) + r"\s*\(", code) for n in names)

    def reads_shared(self, code: str) -> bool:
        return bool(SHARED_READ.search(code)) or self.calls(code, self.readers)

    def is_point(self, st: Stmt) -> bool:
        code = self.src.own(st) if st.kind == "simple" else self.src.code(st)  # a lambda's body runs later
        return bool(POINT.search(code) or WAIT.search(code) or ACQUIRE.search(code) or RELEASE.search(code)
                    or TRYLOCK.search(code) or self.calls(code, self.points))

    def is_flag(self, st: Stmt) -> bool:
        if st.kind != "simple":
            return False
        own = collapse(self.src.own(st))
        if JUMP.match(own):
            return False
        return bool(FLAG_CALL.match(own) or FLAG_STORE.search(own) or BOOL_ASSIGN.match(own))

    def is_shared_flag(self, st: Stmt) -> bool:
        mo = BOOL_ASSIGN.match(collapse(self.src.own(st)))
        return self.is_flag(st) and not (mo and re.fullmatch(r"[A-Za-z_]\w*[^_]", mo.group("lhs")))

    def is_state_change(self, st: Stmt) -> bool:
        if st.kind != "simple" or self.excluded(st):
            return False
        own = collapse(self.src.own(st))
        if JUMP.match(own) or RAII.match(own):
            return False
        if self.is_flag(st) or ATOMIC_WRITE.search(own) or self.is_point(st):
            return True
        mo = ASSIGN.match(own)
        if mo and not self.declared(st) and re.search(r"->|\.|\[|\w_\b", mo.group("lhs")):
            return True
        return self.calls(own, self.mutating)

    def delete(self, st: Stmt) -> list:
        """Edits that delete st: its lines when it has them to itself, '{}'
        when it is the unbraced body of a control statement."""
        if not st.parent.braced:
            return [(st.start, st.end, "{}")]
        lines = self.whole_lines(st)
        if lines:
            return [(lines[0], lines[1], "")]
        b = st.end
        while b < self.src.n and self.src.text[b] in " \t":
            b += 1
        return [(st.start, b, "")]

    def whole_lines(self, st: Stmt):
        """(start, end) of the lines st occupies when nothing else is on them
        (a trailing comment aside), else None."""
        t, m = self.src.text, self.src.m
        ls = t.rfind("\n", 0, st.start) + 1
        le = t.find("\n", st.end)
        le = len(t) if le < 0 else le + 1
        if m[ls:st.start].strip() or m[st.end:le].strip():
            return None
        return ls, le

    def move(self, st: Stmt, anchor: Stmt, below: bool) -> list:
        """Edits that move st above (or below) anchor, both in one block."""
        t = self.src.text
        a, b = self.whole_lines(st), self.whole_lines(anchor)
        if a and b:
            piece = t[a[0]:a[1]]
            at = b[1] if below else b[0]
            return [(a[0], a[1], ""), (at, at, piece)]
        piece = t[st.start:st.end]
        cut = self.delete(st)
        if below:
            return cut + [(anchor.end, anchor.end, " " + piece)]
        return cut + [(anchor.start, anchor.start, piece + " ")]

    def emit(self, op: str, fn: Function, first: Stmt, description: str, edits: list, key_parts: list):
        key = op + "\0" + "\0".join(collapse(p) for p in key_parts)
        self.out.append(Mutant(op=op, path=self.src.path, function=fn.short, line=self.src.line(first.start),
                               description=description, edits=edits, key=key))

    # -- the operators
    def run(self, operators) -> list:
        for fn in self.src.functions:
            if EXCLUDED_FUNCTION.search(fn.short):
                continue
            stmts = [s for s in self.src.walk(fn.body) if not self.excluded(s)]
            for op in operators:
                getattr(self, "op_" + op.replace("-", "_"))(fn, stmts)
        return self.out

    def _lock_key(self, mo) -> tuple:
        if mo.group("obj"):
            return ("m", re.sub(r"\s+", "", mo.group("obj")), bool(mo.group("shared")))
        return ("f", re.sub(r"\s+", "", mo.group("arg")), False)

    def acquires(self, st: Stmt):
        if st.kind != "simple":
            return None
        mo = ACQUIRE.search(self.src.own(st))
        return self._lock_key(mo) if mo else None

    def releases(self, st: Stmt):
        if st.kind != "simple":
            return None
        mo = RELEASE.search(self.src.own(st))
        return self._lock_key(mo) if mo else None

    def op_del_lock_pair(self, fn, stmts):
        order = list(self.src.walk(fn.body))
        for k, st in enumerate(order):
            key = self.acquires(st)
            if key is None or self.excluded(st):
                continue
            rels = []
            for later in order[k + 1:]:
                if self.excluded(later):
                    continue
                if self.acquires(later) == key:
                    break
                if self.releases(later) == key:
                    rels.append(later)
            if not rels:
                continue
            units = [self.unit(st)] + [self.unit(r) for r in rels]
            edits = [e for u in units for e in self.delete(u)]
            desc = f"delete `{self.short(st)}` and its {len(rels)} unlock{'s' if len(rels) > 1 else ''}"
            self.emit("del-lock-pair", fn, st, desc, edits, [self.text(u) for u in units])

    def op_move_unlock(self, fn, stmts):
        for st in stmts:
            key = self.releases(st)
            if key is None:
                continue
            u = self.unit(st)
            sib = self.siblings(u)
            k = sib.index(u)
            if k == 0:
                continue
            prev = sib[k - 1]
            if self.acquires(prev) == key or self.mentions(u, self.declared(prev)) or JUMP.match(collapse(self.src.own(prev))):
                continue
            if any(self.acquires(s) == key for s in self.subtree(prev)):
                continue
            desc = f"move `{self.short(u)}` above `{self.short(prev)}`"
            self.emit("move-unlock", fn, prev, desc, self.move(u, prev, below=False), [self.text(u), self.text(prev)])

    def op_del_flag(self, fn, stmts):
        for st in stmts:
            if self.is_flag(st):
                u = self.unit(st)
                self.emit("del-flag", fn, u, f"delete `{self.short(u)}`", self.delete(u), [self.text(u)])

    def op_move_flag(self, fn, stmts):
        for st in stmts:
            if not self.is_shared_flag(st):
                continue
            u = self.unit(st)
            sib = self.siblings(u)
            k = sib.index(u)
            for nxt in sib[k + 1:]:
                if nxt.kind == "simple" and JUMP.match(collapse(self.src.own(nxt))):
                    break
                if nxt.kind == "label":
                    break
                if self.is_point(nxt):
                    desc = f"move `{self.short(u)}` below `{self.short(nxt)}`"
                    self.emit("move-flag", fn, u, desc, self.move(u, nxt, below=True), [self.text(u), self.text(nxt)])
                    break

    def _window(self, st: Stmt) -> list:
        """The statements that run first after st (an acquire or wait): the
        first three live ones of the branch st's condition guards, and of
        those after it in its block."""
        out = []
        if st.kind in ("if", "while") and st.children:
            out += [s for s in st.children[0].stmts if not self.excluded(s)][:3]
        sib = self.siblings(st)
        out += [s for s in sib[sib.index(st) + 1:]][:3]
        return out

    def _acquire_or_wait(self, st: Stmt) -> bool:
        own = self.src.own(st)
        return bool(ACQUIRE.search(own) or TRYLOCK.search(own) or WAIT.search(own))

    def op_del_recheck(self, fn, stmts):
        seen = set()
        for st in self._recheck_candidates(fn):
            if id(st) in seen:
                continue
            seen.add(id(st))
            if st.kind == "simple":
                mo = BOOL_DECL.match(self.src.m[st.start:st.end])
                if not mo:
                    continue
                a = st.start + mo.start("init")
                b = st.start + mo.end("init")
            else:
                a, b = st.cond
            expr = self.src.m[a:b]
            if not self.reads_shared(expr):
                continue
            lead = len(expr) - len(expr.lstrip())
            a, b = a + lead, a + len(expr.rstrip())
            ops = self._operands(a, b)
            values = ("false",) if st.kind in ("while", "for", "do") else ("true", "false")
            for v in values:
                edits = [(x, y, v) for x, y in ops]
                what = collapse(self.src.text[a:b])
                what = what if len(what) <= 50 else what[:47] + "..."
                desc = f"`{what}` -> {v}" + (" (skip the loop)" if st.kind in ("while", "for", "do") else "")
                self.emit("del-recheck", fn, st, desc, edits, [collapse(self.src.m[a:b]), v])

    def window_callees(self) -> set:
        """Names of the functions called in a statement that runs right after
        an acquire or a wait."""
        out = set()
        for fn in self.src.functions:
            for st in self.src.walk(fn.body):
                if not st.dead and self._acquire_or_wait(st):
                    for w in self._window(st):
                        if w.kind == "simple":
                            out |= {mo.group(1) for mo in re.finditer(r"(?<![\w.>:])([A-Z]\w*)\s*\(", self.src.own(w))}
        return out

    def _recheck_candidates(self, fn):
        windows = []
        if fn.short in self.entered_locked:
            windows.append([s for s in fn.body.stmts if not self.excluded(s)][:3])
        for st in self.src.walk(fn.body):  # an acquire in a statement that is not mutated counts too
            if not st.dead and self._acquire_or_wait(st):
                windows.append(self._window(st))
        for w in (w for window in windows for w in window):
            if w.kind in ("if", "while") or (w.kind == "simple" and BOOL_DECL.match(collapse(self.src.own(w)))):
                arm = w
                while arm is not None:  # every arm of an if-else-if chain
                    yield arm
                    other = arm.children[1] if arm.kind == "if" and len(arm.children) > 1 else None
                    nxt = other.stmts[0] if other and not other.braced and other.stmts[0].kind == "if" else None
                    arm = nxt if nxt is not None and not self.excluded(nxt) else None

    def _operands(self, a: int, b: int) -> list:
        """The spans to replace in condition [a, b): the operands of its
        top-level || or && chain that read shared state (not acquires),
        or the whole condition."""
        m = self.src.m
        for op in ("||", "&&"):
            spans, depth, s, k = [], 0, a, a
            while k < b:
                c = m[k]
                if c in "([{":
                    depth += 1
                elif c in ")]}":
                    depth -= 1
                elif depth == 0 and m.startswith(op, k):
                    spans.append((s, k))
                    k += 2
                    s = k
                    continue
                k += 1
            spans.append((s, b))
            if len(spans) > 1:
                out = []
                for x, y in spans:
                    x += len(m[x:y]) - len(m[x:y].lstrip())
                    y = x + len(m[x:y].strip())
                    part = m[x:y]
                    if self.reads_shared(part) and not (TRYLOCK.search(part) or ACQUIRE.search(part)):
                        out.append((x, y))
                return out
        return [(a, b)]

    def op_off_by_one(self, fn, stmts):
        for st in stmts:
            for a, b in self.src.own_spans(st):
                seg = self.src.m[a:b]
                for k, mo in enumerate(RELOP.finditer(seg)):
                    old = mo.group(1)
                    new = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}[old]
                    x = a + mo.start(1)
                    desc = f"`{old}` -> `{new}` in `{self.short(st)}`"
                    self.emit("off-by-one", fn, st, desc, [(x, x + len(old), new)],
                              [collapse(self.src.m[a:b]), str(k), new])
                for k, mo in enumerate(PLUS_MINUS_ONE.finditer(seg)):
                    x = a + mo.start()
                    desc = f"drop `{mo.group(1)} 1` in `{self.short(st)}`"
                    self.emit("off-by-one", fn, st, desc, [(x, a + mo.end(), "")],
                              [collapse(self.src.m[a:b]), "pm" + str(k)])

    def op_swap(self, fn, stmts):
        done = set()
        for st in stmts:
            if st.kind != "simple" or id(st.parent) in done:
                continue
            done.add(id(st.parent))
            sib = [s for s in self.siblings(st) if not self.excluded(s)]
            for x, y in zip(sib, sib[1:]):
                if not (self.is_state_change(x) and self.is_state_change(y)):
                    continue
                if self.mentions(y, self.declared(x)) or self.mentions(x, self.declared(y)):
                    continue
                desc = f"swap `{self.short(x, 40)}` and `{self.short(y, 40)}`"
                self.emit("swap", fn, x, desc, self.move(y, x, below=False), [self.text(x), self.text(y)])

    def op_skip_wait(self, fn, stmts):
        for st in stmts:
            if st.kind in ("while", "for", "do") and st.cond:
                body = st.children[0].stmts
                waits = [s for s in body if s.kind == "simple" and WAIT.search(self.src.own(s))]
                if not waits:
                    continue
                cond = self.src.m[st.cond[0]:st.cond[1]]
                if not (TRYLOCK.search(cond) or ACQUIRE.search(cond)):
                    a = st.cond[0] + len(cond) - len(cond.lstrip())
                    b = a + len(cond.strip())
                    desc = f"skip the loop `{self.short(st)}`"
                    self.emit("skip-wait", fn, st, desc, [(a, b, "false")], [self.src.own(st), "loop"])
                    continue
                for w in waits:  # the loop's condition acquires: delete the wait, not the acquire
                    self.emit("skip-wait", fn, w, f"delete `{self.short(w)}`", self.delete(w), [self.text(w)])
            elif st.kind == "simple" and WAIT.search(self.src.own(st)):
                owner = st.parent.owner
                if owner is not None and owner.kind in ("while", "for", "do"):
                    continue  # the loop's mutant covers it
                u = self.unit(st)
                self.emit("skip-wait", fn, u, f"delete `{self.short(u)}`", self.delete(u), [self.text(u)])


def _closure(sources: list, direct) -> set:
    """Names of the functions whose body matches direct(src, fn), or calls one
    that does, transitively."""
    bodies = {}
    for src in sources:
        for fn in src.functions:
            code = src.m[fn.body.open:fn.body.close]
            bodies.setdefault(fn.short, []).append((src, fn, code))
    names = {n for n, defs in bodies.items() if any(direct(s, f) for s, f, _ in defs)}
    while True:
        more = {n for n, defs in bodies.items() if n not in names and any(
            re.search(r"(?<![\w])(?:" + "|".join(map(re.escape, names)) + r")\s*\(", c) for _, _, c in defs)} if names else set()
        if not more:
            return names
        names |= more


def _direct_point(src: Source, fn: Function) -> bool:
    code = src.m[fn.body.open:fn.body.close]
    return bool(POINT.search(code))


def _direct_write(src: Source, fn: Function) -> bool:
    g = Generator(src)
    for st in src.walk(fn.body):
        if st.kind != "simple" or g.excluded(st):
            continue
        own = collapse(src.own(st))
        if g.is_flag(st) or ATOMIC_WRITE.search(own) or re.search(r"\bmemcpy\s*\(", own):
            return True
        mo = ASSIGN.match(own)
        if mo and not g.declared(st) and re.search(r"->|\.|\[|\w_\b", mo.group("lhs")):
            return True
    return False


def _direct_mutation(src: Source, fn: Function) -> bool:
    return _direct_write(src, fn) or _direct_point(src, fn)


def _direct_read(src: Source, fn: Function) -> bool:
    return bool(SHARED_READ.search(src.m[fn.body.open:fn.body.close]))


def generate(sources: list, operators=OPERATORS) -> list:
    """Every mutant of the parsed sources, in file and source order, with
    ids; mutants that give the same text as an earlier one are dropped."""
    for op in operators:
        if op not in OPERATORS:
            raise ValueError(f"unknown operator {op!r}")
    points = _closure(sources, _direct_point)
    mutating = _closure(sources, _direct_mutation)
    # Getters (MappingOf, Slot): read shared state, write none, even through calls.
    readers = _closure(sources, _direct_read) - _closure(sources, _direct_write)
    entered_locked = set()
    for src in sources:
        entered_locked |= Generator(src, mutating, points, readers=readers).window_callees()
    mutants = []
    for src in sources:
        gen = Generator(src, mutating, points, entered_locked, readers)
        found = gen.run([op for op in OPERATORS if op in operators])
        seen = set()
        for mu in sorted(found, key=lambda x: (x.line, OPERATORS.index(x.op))):
            result = hashlib.sha1(mu.apply(src.text).encode()).hexdigest()
            if result in seen or mu.apply(src.text) == src.text:
                continue
            seen.add(result)
            mutants.append(mu)
    counts = {}
    for mu in mutants:
        base = f"{mu.op}.{mu.function}.{hashlib.sha1(mu.key.encode()).hexdigest()[:6]}"
        counts[base] = counts.get(base, 0) + 1
        mu.id = base if counts[base] == 1 else f"{base}.{counts[base]}"
    return mutants


def model_sources(root: str) -> list:
    """The model's sources: harness/cache/*.cc but tests and the catalogue,
    and folio.h, the primitives its paths share."""
    paths = sorted(glob.glob(os.path.join(root, "harness", "cache", "*.cc")))
    paths.append(os.path.join(root, "harness", "cache", "folio.h"))
    return [p for p in paths if not p.endswith("_test.cc") and os.path.basename(p) != "mutant.cc"]


def load(root: str) -> list:
    out = []
    for p in model_sources(root):
        with open(p, encoding="utf-8") as f:
            out.append(parse(os.path.relpath(p, root), f.read()))
    return out


def read_triage(path: str) -> dict:
    """The equivalent-mutant triage file: `<id> <reason>` a line, # comments."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2:
                raise ValueError(f"{path}:{n}: `<id> <reason>` expected")
            out[parts[0]] = parts[1]
    return out
