"""Turn a join plan into a Python function (the last step of compilation).

Each plan becomes nested ``for`` loops over relations and index buckets, with the
filters in between; the generated source is plain Python that CPython runs about as
fast as hand-written joins. ``tests/golden/codegen-*.py.txt`` keeps examples.

The functions work on packed facts (:mod:`~lifecyclegraph.rules.relation`: an ``int``
for a unary or binary fact, a tuple otherwise): a loop unpacks the columns it needs
with shifts and masks, an index bucket is a lone fact, a tuple or a set, and a derived
fact is packed as it is emitted. The function's signature depends on the variant:

* ``full``: ``run(out, cap)`` adds every derived head fact (packed) to the set ``out``;
* ``delta i`` and ``negdelta i``: ``run(delta, out, cap)``, the same, with body
  position ``i`` read from the packed facts ``delta``;
* ``check``: ``run(head)`` is ``True`` when some derivation gives the packed fact
  ``head``;
* ``explain``: ``run(head)`` (``head`` a tuple) yields, for each derivation of
  ``head``, a tuple with one entry per body item: the fact used (positive atom), the
  fact that must be absent (negated atom, ``None`` for ``_``), or ``None`` (comparison,
  built-in); facts there are tuples.

Loops stop early once ``out`` holds more than ``cap`` facts, so that a rule that
explodes is caught before it fills the memory.

>>> from lifecyclegraph.rules.analysis import analyse
>>> from lifecyclegraph.rules.compiler import compile_program
>>> from lifecyclegraph.rules.axioms import Vocabulary
>>> from lifecyclegraph.rules.parser import parse_rules
>>> LG = "https://w3id.org/lifecyclegraph/ontology#"
>>> names = {LG + "owner", LG + "memberOf", LG + "owningTeam"}
>>> vocabulary = Vocabulary(frozenset(), frozenset(names))
>>> program = parse_rules("lg:owningTeam(?a, ?t) :- lg:owner(?a, ?u), lg:memberOf(?u, ?t).")
>>> plan = compile_program(analyse(program, vocabulary)).plan(0, ("delta", 0))
>>> print(generate(plan).source)
def run(delta, out, cap):
    emit = out.add
    I0_0 = R0.lookup((0,))
    for r0 in delta:
        v_a = r0 >> 32
        v_u = r0 & 0xffffffff ^ v_a
        if len(out) > cap: return
        b1 = I0_0.get(v_u, EMPTY)
        for r1 in (b1,) if b1.__class__ is int else b1:
            v_t = r1 & 0xffffffff ^ v_u
            emit(v_a << 32 | v_t ^ v_a)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from types import CodeType
from typing import Any

from lifecyclegraph.rules.builtins import BUILTINS, compare
from lifecyclegraph.rules.plan import Plan, Step
from lifecyclegraph.rules.program import Atom, Builtin, Comparison, Const, Negation, Term, Var
from lifecyclegraph.rules.relation import Relation, TermTable, column_source, pack_source

__all__ = ["Generated", "generate"]

_LOOPS = ("scan", "lookup")


@dataclass(frozen=True)
class Generated:
    """The source of a plan's function and the names it needs (relations by body
    position, constants by term)."""

    source: str
    relations: dict[str, str]  # name in the source -> predicate
    constants: dict[str, Any]  # name in the source -> pyoxigraph term
    negation: bool

    @cached_property
    def code(self) -> CodeType:
        """The compiled source (compiled once, bound to relations many times)."""
        return compile(self.source, "<rule plan>", "exec")

    def bind(self, relations: Callable[[str], Relation], table: TermTable) -> Callable[..., Any]:
        """Compile the source with its names bound to these relations and term ids."""
        namespace: dict[str, Any] = {
            "EMPTY": (),
            "T": table.terms,
            "_cmp": compare,
            **{f"B_{name}": builtin.test for name, builtin in BUILTINS.items()},
        }
        for name, predicate in self.relations.items():
            namespace[name] = relations(predicate)
        for name, term in self.constants.items():
            namespace[name] = table.id(term)
        exec(compile(self.source, "<rule plan>", "exec"), namespace)
        return namespace["run"]


def generate(plan: Plan, negation: bool = True) -> Generated:
    """Generate the Python source of a plan.

    Args:
        plan: the plan of one variant of one rule.
        negation: when ``False``, negated atoms are not checked (incremental
            maintenance uses this to over-estimate what a deletion may invalidate).
    """
    return _Writer(plan, negation).write()


class _Writer:
    def __init__(self, plan: Plan, negation: bool) -> None:
        self.plan = plan
        self.rule = plan.rule.rule
        self.negation = negation
        self.kind = plan.variant[0]
        self.lines: list[str] = []
        self.prologue: list[str] = []
        self.indent = 1
        self.loops = 0
        self.relations: dict[str, str] = {}
        self.constants: dict[str, Any] = {}
        self.bound: set[str] = set()
        self.rows: dict[int, str] = {}  # body position -> expression of the fact used

    # -- names ------------------------------------------------------------------------------

    def relation(self, predicate: str) -> str:
        for name, known in self.relations.items():
            if known == predicate:
                return name
        name = f"R{len(self.relations)}"
        self.relations[name] = predicate
        return name

    def index(self, predicate: str, columns: tuple[int, ...]) -> str:
        relation = self.relation(predicate)
        name = f"I{relation[1:]}_{''.join(str(c) for c in columns)}"
        line = f"{name} = {relation}.lookup({columns!r})"
        if line not in self.prologue:
            self.prologue.append(line)
        return name

    def rows_of(self, predicate: str) -> str:
        relation = self.relation(predicate)
        name = f"S{relation[1:]}"
        line = f"{name} = {relation}.packed"
        if line not in self.prologue:
            self.prologue.append(line)
        return name

    def const(self, term: Any) -> str:
        for name, known in self.constants.items():
            if known == term:
                return name
        name = f"C{len(self.constants)}"
        self.constants[name] = term
        return name

    def value(self, term: Term) -> str:
        if isinstance(term, Const):
            return self.const(term.term)
        assert isinstance(term, Var)
        return f"v_{term.name}"

    # -- output -----------------------------------------------------------------------------

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def guard(self, condition: str) -> None:
        """Skip the current binding unless ``condition`` holds."""
        if self.loops:
            self.emit(f"if not ({condition}): continue")
        else:
            self.emit(f"if {condition}:")
            self.indent += 1

    def skip_if(self, condition: str) -> None:
        """Skip the current binding when ``condition`` holds."""
        if self.loops:
            self.emit(f"if {condition}: continue")
        else:
            self.emit(f"if not ({condition}):")
            self.indent += 1

    def fail(self) -> str:
        return {"check": "return False", "explain": "return"}.get(self.kind, "return")

    def write(self) -> Generated:
        steps = self.plan.steps
        last_loop = max((i for i, s in enumerate(steps) if s.kind in _LOOPS), default=-1)
        for number, step in enumerate(steps):
            getattr(self, f"step_{step.kind}")(step)
            if (
                step.kind in _LOOPS
                and number < last_loop
                and self.kind in ("full", "delta", "negdelta")
            ):
                self.emit("if len(out) > cap: return")
        if self.kind == "check":
            self.lines.append("    return False")
        signature = {
            "full": "run(out, cap)",
            "delta": "run(delta, out, cap)",
            "negdelta": "run(delta, out, cap)",
            "check": "run(head)",
            "explain": "run(head)",
        }[self.kind]
        head = ["    emit = out.add"] if self.kind in ("full", "delta", "negdelta") else []
        body = head + ["    " + line for line in self.prologue] + self.lines
        if not self.lines or (self.kind == "explain" and not any("yield" in x for x in body)):
            body.append("    return")
        source = "\n".join([f"def {signature}:", *body])
        return Generated(source, dict(self.relations), dict(self.constants), self.negation)

    # -- steps ------------------------------------------------------------------------------

    def atom(self, position: int) -> Atom:
        item = self.rule.head if position < 0 else self.rule.body[position]
        atom = item.atom if isinstance(item, Negation) else item
        assert isinstance(atom, Atom)
        return atom

    def unpack(self, atom: Atom, skip: tuple[int, ...], row: str) -> tuple[list[str], list[str]]:
        """Names for the columns of a fact of ``atom`` (``_`` for those not needed) and
        the checks they need."""
        targets, checks = [], []
        for column, arg in enumerate(atom.args):
            if column in skip:
                targets.append("_")
            elif isinstance(arg, Var) and arg.name not in self.bound:
                self.bound.add(arg.name)
                targets.append(f"v_{arg.name}")
            elif isinstance(arg, Var | Const):
                temp = f"{row}_{column}"
                targets.append(temp)
                checks.append(f"{temp} == {self.value(arg)}")
            else:
                targets.append("_")
        return targets, checks

    def loop(self, position: int, source: str, skip: tuple[int, ...] = ()) -> None:
        """Loop over packed facts of the atom at ``position`` from ``source``, binding
        its columns (the ``skip`` columns are the lookup's key, already bound)."""
        atom = self.atom(position)
        row = f"r{position}"
        targets, checks = self.unpack(atom, skip, row)
        if atom.arity == 1:
            self.emit(f"for {targets[0] if self.kind != 'explain' else row} in {source}:")
            self.indent += 1
            if self.kind == "explain" and targets[0] != "_":
                self.emit(f"{targets[0]} = {row}")
        elif atom.arity == 2:
            self.emit(f"for {row} in {source}:")
            self.indent += 1
            first = targets[0] if targets[0] != "_" else None
            if first is not None:
                self.emit(f"{first} = {column_source(2, row, 0)}")
            elif 0 in skip:
                first = self.value(atom.args[0])
            if targets[1] != "_":
                self.emit(f"{targets[1]} = {column_source(2, row, 1, first)}")
        elif self.kind == "explain":
            self.emit(f"for {row} in {source}:")
            self.indent += 1
            self.emit(f"{_targets(targets)} = {row}")
        else:
            self.emit(f"for {_targets(targets)} in {source}:")
            self.indent += 1
        if self.kind == "explain":
            self.rows[position] = f"{self.relation(atom.predicate)}.unpack({row})"
        self.loops += 1
        for check in checks:
            self.guard(check)

    def step_scan(self, step: Step) -> None:
        atom = self.atom(step.position)
        source = "delta" if step.source == "delta" else self.rows_of(atom.predicate)
        self.loop(step.position, source)

    def step_lookup(self, step: Step) -> None:
        atom = self.atom(step.position)
        values = [self.value(atom.args[c]) for c in step.columns]
        key = values[0] if len(values) == 1 else f"({', '.join(values)})"
        index = self.index(atom.predicate, step.columns)
        if atom.arity in (1, 2):  # a bucket is a lone packed fact, a tuple or a set
            bucket = f"b{step.position}"
            self.emit(f"{bucket} = {index}.get({key}, EMPTY)")
            source = f"({bucket},) if {bucket}.__class__ is int else {bucket}"
        else:
            source = f"{index}.get({key}, EMPTY)"
        self.loop(step.position, source, step.columns)

    def fact(self, atom: Atom) -> str:
        """The source of an atom's fact as a tuple (``None`` for ``_``)."""
        values = [self.value(a) if isinstance(a, Var | Const) else "None" for a in atom.args]
        return f"({', '.join(values)}{',' if len(values) == 1 else ''})"

    def packed(self, atom: Atom) -> str:
        """The source of an atom's packed fact (every argument is bound)."""
        return pack_source(atom.arity, [self.value(a) for a in atom.args])

    def step_member(self, step: Step) -> None:
        atom = self.atom(step.position)
        self.guard(f"{self.packed(atom)} in {self.rows_of(atom.predicate)}")
        self.rows[step.position] = self.fact(atom)

    def step_absent(self, step: Step) -> None:
        atom = self.atom(step.position)
        self.rows[step.position] = self.fact(atom)
        if not self.negation:
            return
        if len(step.columns) == atom.arity:
            self.skip_if(f"{self.packed(atom)} in {self.rows_of(atom.predicate)}")
        elif step.columns:
            values = [self.value(atom.args[c]) for c in step.columns]
            key = values[0] if len(values) == 1 else f"({', '.join(values)})"
            self.skip_if(f"{key} in {self.index(atom.predicate, step.columns)}")
        else:
            self.skip_if(self.rows_of(atom.predicate))

    def step_compare(self, step: Step) -> None:
        item = self.rule.body[step.position]
        assert isinstance(item, Comparison)
        left, right = self.value(item.left), self.value(item.right)
        self.guard(f"_cmp({item.op!r}, T[{left}], T[{right}])")

    def step_builtin(self, step: Step) -> None:
        item = self.rule.body[step.position]
        assert isinstance(item, Builtin)
        args = ", ".join(f"T[{self.value(a)}]" for a in item.args)
        test = f"B_{item.name}({args})"
        if item.negated:
            self.skip_if(test)
        else:
            self.guard(test)

    def step_head(self, step: Step) -> None:
        head = self.rule.head
        first = None
        for column, arg in enumerate(head.args):
            if self.kind == "explain" or head.arity not in (1, 2):
                value = f"head[{column}]"  # explain is given a tuple, check a packed fact
            else:
                value = column_source(head.arity, "head", column, first)
            if isinstance(arg, Var) and arg.name not in self.bound:
                self.bound.add(arg.name)
                self.emit(f"v_{arg.name} = {value}")
                first = f"v_{arg.name}" if column == 0 else first
            else:
                self.emit(f"if {value} != {self.value(arg)}: {self.fail()}")
                first = self.value(arg) if column == 0 else first

    def step_emit(self, step: Step) -> None:
        if self.kind == "check":
            self.emit("return True")
        elif self.kind == "explain":
            entries = [self.rows.get(i, "None") for i in range(len(self.rule.body))]
            self.emit(f"yield ({', '.join(entries)}{',' if len(entries) == 1 else ''})")
        else:
            self.emit(f"emit({self.packed(self.rule.head)})")


def _targets(names: list[str]) -> str:
    return ", ".join(names) + ("," if len(names) == 1 else "")
