#!/usr/bin/python3
"""Tests of bench/mutate's operators (bench/mutate_ops.py), run by ctest.

Each operator runs on small C++ snippets and must give exactly the expected
mutated texts; ids must not change when lines are added above or another
function changes; statements that only trace or check, or test the
catalogue mutant, must never be touched; and every operator must have
mutants on the real model (harness/cache/*.cc), whose ids are unique.
"""

import os
import re
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mutate_ops as ops  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def src(text):
    return textwrap.dedent(text).lstrip("\n")


def mutants(text, op):
    return ops.generate([ops.parse("x.cc", src(text))], [op])


def results(text, op):
    """The mutated texts an operator gives for a snippet, sorted."""
    t = src(text)
    return sorted(m.apply(t) for m in mutants(text, op))


GET = """
    void Cache::Get(Inode& ino, Folio* f) {
      ino.lock.LockShared();
      Touch(f);
      if (f->mapping.load() != &ino) {
        ino.lock.UnlockShared();
        return;
      }
      Use(f);
      ino.lock.UnlockShared();
    }
    """

FILL = """
    void Fill(Folio* f) {
      SetFlag(f, kBusy);
      backend_.Read(f);
      ClearFlag(f, kBusy);
      done = true;
    }
    """


class Operators(unittest.TestCase):
    def test_del_lock_pair(self):
        self.assertEqual(results(GET, "del-lock-pair"), [src("""
            void Cache::Get(Inode& ino, Folio* f) {
              Touch(f);
              if (f->mapping.load() != &ino) {
                return;
              }
              Use(f);
            }
            """)])

    def test_del_lock_pair_guarded_and_folio_lock(self):
        # A lock taken under `if (lock)` goes with its if; Lock(f) pairs with Unlock(f).
        self.assertEqual(results("""
            void Read(Inode& ino, Folio* f, bool lock) {
              if (lock) ino.invalidate_lock.LockShared();
              Lock(f);
              Fill(f);
              Unlock(f);
              if (lock) ino.invalidate_lock.UnlockShared();
            }
            """, "del-lock-pair"), sorted([src("""
            void Read(Inode& ino, Folio* f, bool lock) {
              Lock(f);
              Fill(f);
              Unlock(f);
            }
            """), src("""
            void Read(Inode& ino, Folio* f, bool lock) {
              if (lock) ino.invalidate_lock.LockShared();
              Fill(f);
              if (lock) ino.invalidate_lock.UnlockShared();
            }
            """)]))

    def test_move_unlock(self):
        # The unlock that is first in its block has nothing to move above.
        self.assertEqual(results(GET, "move-unlock"), [src("""
            void Cache::Get(Inode& ino, Folio* f) {
              ino.lock.LockShared();
              Touch(f);
              if (f->mapping.load() != &ino) {
                ino.lock.UnlockShared();
                return;
              }
              ino.lock.UnlockShared();
              Use(f);
            }
            """)])

    def test_move_unlock_not_above_its_lock(self):
        self.assertEqual(results("""
            void Tick(Inode& ino) {
              ino.ptl.Lock();
              ino.ptl.Unlock();
            }
            """, "move-unlock"), [])

    def test_del_recheck(self):
        # The check after the lock: as true and as false.
        t = src(GET)
        self.assertEqual(results(GET, "del-recheck"), sorted([
            t.replace("if (f->mapping.load() != &ino)", "if (true)"),
            t.replace("if (f->mapping.load() != &ino)", "if (false)")]))

    def test_del_recheck_operands_and_bool_and_callee(self):
        # Only the operands that read shared state; a bool test; the first
        # statements of a function called right after a lock.
        text = """
            void Map(Inode& ino, Folio* f, bool write) {
              Lock(f);
              if (write && f->mapping.load() == &ino) Install(f);
              Unlock(f);
              ino.ptl.Lock();
              const bool same = ino.ptes[0].folio == f;
              ino.ptl.Unlock();
              Lock(f);
              Remove(f);
            }
            void Remove(Folio* f) {
              if (f->mapcount.load() > 0) Unmap(f);
            }
            """
        t = src(text)
        self.assertEqual(results(text, "del-recheck"), sorted([
            t.replace("write && f->mapping.load() == &ino", "write && true"),
            t.replace("write && f->mapping.load() == &ino", "write && false"),
            t.replace("same = ino.ptes[0].folio == f", "same = true"),
            t.replace("same = ino.ptes[0].folio == f", "same = false"),
            t.replace("(f->mapcount.load() > 0)", "(true)"),
            t.replace("(f->mapcount.load() > 0)", "(false)")]))

    def test_del_recheck_through_a_getter_after_an_unmutated_acquire(self):
        # A getter (reads shared state, writes none) makes a shared read; the
        # TryLock sits in a statement that tests the catalogue mutant, which
        # is not mutated but still acquires.
        text = """
            Inode* MappingOf(Folio* f) {
              sched::At(sched::Point::kState);
              return f->mapping.load();
            }
            Folio* Update(Inode& ino, Folio* f) {
              if (!TryLock(f) && config_.mutant != Mutant::kX) return nullptr;
              if (MappingOf(f) == nullptr) {
                Unlock(f);
              }
              return f;
            }
            """
        t = src(text)
        self.assertEqual(results(text, "del-recheck"), sorted([
            t.replace("(MappingOf(f) == nullptr)", "(true)"), t.replace("(MappingOf(f) == nullptr)", "(false)")]))

    def test_del_flag(self):
        t = src(FILL)
        self.assertEqual(results(FILL, "del-flag"), sorted([
            t.replace("  SetFlag(f, kBusy);\n", ""),
            t.replace("  ClearFlag(f, kBusy);\n", ""),
            t.replace("  done = true;\n", "")]))

    def test_del_flag_unbraced_body(self):
        # The body of an if with a call in its condition becomes {}.
        text = """
            void End(Folio* f, Status st) {
              if (st.ok()) SetFlag(f, kUptodate);
              f->flags.store(0);
              return;
            }
            """
        t = src(text)
        self.assertEqual(results(text, "del-flag"), sorted([
            t.replace("SetFlag(f, kUptodate);", "{}"), t.replace("  f->flags.store(0);\n", "")]))

    def test_move_flag(self):
        # Below the next scheduling point or I/O; a local bool is not shared.
        self.assertEqual(results(FILL, "move-flag"), [src("""
            void Fill(Folio* f) {
              backend_.Read(f);
              SetFlag(f, kBusy);
              ClearFlag(f, kBusy);
              done = true;
            }
            """)])

    def test_move_flag_past_a_call_that_waits(self):
        # Calls to functions that reach a scheduling point are points too,
        # and a flag does not move past a return.
        text = """
            void Wait2(Folio* f) { sched::WaitWord(f->flags, 0, "x"); }
            void Go(Folio* f) {
              ClearFlag(f, kBusy);
              Count(f);
              Wait2(f);
              SetFlag(f, kDone);
              return;
              Wait2(f);
            }
            """
        self.assertEqual(results(text, "move-flag"), [src("""
            void Wait2(Folio* f) { sched::WaitWord(f->flags, 0, "x"); }
            void Go(Folio* f) {
              Count(f);
              Wait2(f);
              ClearFlag(f, kBusy);
              SetFlag(f, kDone);
              return;
              Wait2(f);
            }
            """)])

    def test_off_by_one(self):
        text = """
            uint32_t Last(uint32_t a, uint32_t n) {
              std::vector<Folio*> batch;
              uint64_t m = uint64_t{1} << a;
              for (uint32_t i = a; i < a + n; ++i) Touch(i);
              if (n >= 10) return 0;
              while (a <= n) a += 2;
              if (a > n + 1) return 1;
              return (a + n - 1) / kPage;
            }
            """
        t = src(text)
        self.assertEqual(results(text, "off-by-one"), sorted([
            t.replace("i < a + n", "i <= a + n"), t.replace("n >= 10", "n > 10"), t.replace("a <= n", "a < n"),
            t.replace("a > n + 1", "a >= n + 1"), t.replace("a > n + 1", "a > n"),
            t.replace("(a + n - 1)", "(a + n)")]))

    def test_swap(self):
        # Adjacent state changes; not a declaration and its use; a swap that
        # gives the same text as a move-flag mutant is dropped.
        text = """
            void Publish(Inode& ino, Folio* f) {
              f->index = 3;
              Status st = backend_.Map(f);
              Use(st);
              ino.pages[3].store(f);
            }
            """
        t = src(text)
        self.assertEqual(results(text, "swap"), [t.replace(
            "  f->index = 3;\n  Status st = backend_.Map(f);\n",
            "  Status st = backend_.Map(f);\n  f->index = 3;\n")])
        self.assertEqual(len(mutants(FILL, "swap")), 3)
        both = [m.op for m in ops.generate([ops.parse("x.cc", src(FILL))], ["move-flag", "swap"])]
        self.assertEqual(sorted(both), ["move-flag", "swap", "swap"])

    def test_skip_wait(self):
        text = """
            void Lock2(Folio* f) {
              while (!TryLock(f)) WaitClear(f, kLocked);
            }
            void Drain(Folio* f) {
              while (Has(f, kWriteback)) {
                WaitClear(f, kWriteback);
              }
              WaitClear(f, kDirty);
            }
            """
        t = src(text)
        self.assertEqual(results(text, "skip-wait"), sorted([
            t.replace("WaitClear(f, kLocked);", "{}"), t.replace("while (Has(f, kWriteback))", "while (false)"),
            t.replace("  WaitClear(f, kDirty);\n", "")]))


class Exclusions(unittest.TestCase):
    TRACED = """
        void Checked(Folio* f, int i) {
          TracePage(kind, "x", 1, 2, nullptr);
          sched::Note(kind, [&] { return std::string("a") + "b"; });
          PR_CHECK_MSG(i < 4, "bound");
          if (config_.mutant == Mutant::kFoo) Unlock(f);
          const bool skip = config_.mutant == Mutant::kBar;
          if (skip) SetFlag(f, kDirty);
          if (config_.mutant != Mutant::kBaz) ClearFlag(f, kDirty);
        }
        void TraceAll(int n) {
          for (int i = 0; i < n; ++i) SetFlag(nullptr, i + 1);
        }
        """

    def test_trace_check_and_catalogue_lines_are_never_mutated(self):
        t = src(self.TRACED)
        found = ops.generate([ops.parse("x.cc", t)])
        # Only the live body of the last guard: `!= kBaz` holds with no catalogue mutant.
        self.assertEqual([(m.op, m.apply(t)) for m in found],
                         [("del-flag", t.replace("ClearFlag(f, kDirty);", "{}"))])

    def test_no_edit_touches_an_excluded_statement_of_the_model(self):
        for s in ops.load(ROOT):
            for m in ops.generate([s]):
                for a, b, r in m.edits:
                    self.assertIsNone(ops.EXCLUDED.search(s.m[a:b]), m.id)
                    self.assertIsNone(ops.EXCLUDED.search(ops.mask(r)), m.id)


class Ids(unittest.TestCase):
    def test_stable_under_lines_above_and_other_functions(self):
        base = src(GET) + src(FILL)
        edited = "// a comment\nint g = 0;\nvoid Other() { Lock(x); Unlock(x); }\n" + src(GET) + src(FILL).replace(
            "done = true;", "done = true;\n  more = false;")
        ids = lambda text: {m.id: m.line for m in ops.generate([ops.parse("x.cc", text)])}  # noqa: E731
        a, b = ids(base), ids(edited)
        get_ids = {i for i in a if ".Get." in i}
        self.assertTrue(get_ids)
        self.assertTrue(get_ids <= set(b))
        for i in get_ids:
            self.assertEqual(b[i], a[i] + 3)
        self.assertTrue({i for i in a if ".Fill." in i and "done" not in i} & set(b))

    def test_id_form_and_repeats(self):
        text = """
            void Twice(Folio* f) {
              for (int i = 0; i < 2; ++i) Touch(i);
              for (int i = 0; i < 2; ++i) Touch(i);
            }
            """
        self.assertEqual(sorted(m.id for m in mutants(text, "off-by-one")),
                         ["off-by-one.Twice.072914", "off-by-one.Twice.072914.2"])


class Parsing(unittest.TestCase):
    def test_mask(self):
        t = 'int a = 1\'000\'000; char c = \'{\'; const char* s = "}{"; // {\n/* } */ int b;\n#define X {\n'
        m = ops.mask(t)
        self.assertEqual(len(m), len(t))
        self.assertNotIn("{", m)
        self.assertNotIn("}", m)
        self.assertIn("1'000'000", m)

    def test_functions_lambdas_and_types(self):
        s = ops.parse("x.cc", src("""
            namespace a {
            struct S { void Inline() { Lock(x); } int v = 0; };
            namespace {
            int Free(int x) { switch (x) { case 1: return 2; default: break; } return 0; }
            }  // namespace
            S::S(int v) : v_(v) {}
            void S::Run() {
              auto f = [&] { if (x) Lock(y); };
              do { Step(); } while (More());
            }
            }  // namespace a
            """))
        self.assertEqual([f.name for f in s.functions], ["Free", "S::S", "S::Run"])
        run = s.functions[2]
        kinds = [st.kind for st in s.walk(run.body)]
        self.assertEqual(kinds, ["simple", "if", "simple", "do", "simple"])


class RealModel(unittest.TestCase):
    def test_every_operator_reaches_the_model(self):
        sources = ops.load(ROOT)
        self.assertTrue(sources)
        self.assertTrue(all(not p.path.endswith(("_test.cc", "mutant.cc")) for p in sources))
        found = ops.generate(sources)
        by_op = {op: sum(1 for m in found if m.op == op) for op in ops.OPERATORS}
        self.assertTrue(all(by_op.values()), by_op)
        self.assertEqual(len({m.id for m in found}), len(found))
        text = {s.path: s.text for s in sources}
        for m in found:
            self.assertNotEqual(m.apply(text[m.path]), text[m.path], m.id)
            self.assertRegex(m.id, r"^[a-z-]+\.[\w~]+\.[0-9a-f]{6}(\.\d+)?$")

    def test_triage_file_parses(self):
        path = os.path.join(ROOT, "bench", "mutate-equivalent.txt")
        triage = ops.read_triage(path)
        for i in triage:
            self.assertRegex(i, r"^(" + "|".join(ops.OPERATORS) + r")\.[\w~]+\.[0-9a-f]{6}(\.\d+)?$")
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
            f.write("swap.X.abcdef\n")
            f.flush()
            with self.assertRaises(ValueError):
                ops.read_triage(f.name)


if __name__ == "__main__":
    unittest.main()
