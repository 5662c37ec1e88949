"""The cnnlib source a chapter prints whole fits the page and reads whole.

Fits: lines of at most 76 characters. Reads whole: it calls no private cnnlib helper the reader
cannot see (a name with a leading underscore, or anything defined in a private module such as
``cnnlib._x``); a private name defined inside the printed source itself (a method of a printed
class) is visible and allowed.

Chapters show library code with ``inspect.getsource(X)``. The site shows 76 characters of code
per line (phones), while cnnlib's ruff allows 110, so the printed objects are kept narrower.
Every ``getsource`` call in the chapters' code cells is found and its argument resolved as the
chapter resolves it: through the chapter's own ``cnnlib`` imports, a ``for`` loop over a tuple
of objects, or ``type(name)`` after ``name = f(...)`` (the class ``f`` is annotated to return).
An argument this cannot resolve fails the test rather than being skipped.
"""

from __future__ import annotations

import ast
import html
import importlib
import inspect
import json
import re
import sys
import textwrap
import typing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from chapters import CHAPTERS

PAGE_WIDTH = 76  # characters of code the page shows (DESIGN.md, page rules)


@dataclass
class Printed:
    """One ``getsource(arg)`` call: where it is and what its names meant there."""

    where: str
    arg: ast.expr
    names: dict[str, object]  # cnnlib names bound by the imports above the call
    loops: dict[str, list[ast.expr]]  # for-loop variables over a literal tuple/list
    made_by: dict[str, object] = field(default_factory=dict)  # name -> the f of name = f(...)


class _Finder(ast.NodeVisitor):
    """Walks the code cells in order, following imports, assignments and for loops."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.names: dict[str, object] = {}
        self.made_by: dict[str, object] = {}
        self.loops: dict[str, list[ast.expr]] = {}
        self.found: list[Printed] = []

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            # "import a.b" binds a; "import a.b as c" binds a.b
            bound = alias.asname or alias.name.split(".")[0]
            if alias.name != "cnnlib" and not alias.name.startswith("cnnlib."):
                self.names[bound] = None  # something else now answers to this name
                continue
            module = importlib.import_module(alias.name)
            self.names[bound] = module if alias.asname else importlib.import_module("cnnlib")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        ours = node.level == 0 and node.module is not None and (
            node.module == "cnnlib" or node.module.startswith("cnnlib."))
        for alias in node.names:
            bound = alias.asname or alias.name
            if not ours:
                self.names[bound] = None  # something else now answers to this name
                continue
            module = importlib.import_module(node.module)
            try:  # as Python does: the attribute first, then the submodule
                self.names[bound] = getattr(module, alias.name)
            except AttributeError:
                self.names[bound] = importlib.import_module(f"{node.module}.{alias.name}")

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.names.pop(target.id, None)
                self.made_by.pop(target.id, None)
                if isinstance(node.value, ast.Call):
                    try:
                        self.made_by[target.id] = _resolve(node.value.func, self.names, {})
                    except LookupError:
                        pass

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        outer = dict(self.loops)
        for target in ast.walk(node.target):
            if isinstance(target, ast.Name):
                self.names.pop(target.id, None)
                self.loops.pop(target.id, None)
        if isinstance(node.target, ast.Name) and isinstance(node.iter, (ast.Tuple, ast.List)):
            self.loops[node.target.id] = list(node.iter.elts)
        for stmt in node.body + node.orelse:
            self.visit(stmt)
        self.loops = outer

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name == "getsource":
            if len(node.args) != 1:
                raise LookupError(f"{self.where}: getsource takes one object: {ast.unparse(node)}")
            self.found.append(Printed(self.where, node.args[0], dict(self.names), dict(self.loops),
                                      dict(self.made_by)))
        self.generic_visit(node)


def _python(source: str) -> str:
    """A cell's source with IPython lines (``%pip``, ``!ls``) made ``pass``, indentation kept."""
    return re.sub(r"^(\s*)[%!].*$", r"\1pass", source, flags=re.M)


def find_printed(cells: list[str], where: str) -> list[Printed]:
    """Every ``getsource`` call in ``cells`` (code cell sources, in order)."""
    finder = _Finder(where)
    for i, source in enumerate(cells):
        finder.where = f"{where}, code cell {i}"
        finder.visit(ast.parse(_python(source)))
    return finder.found


def _resolve(expr: ast.expr, names: dict[str, object], made_by: dict[str, object]) -> object:
    if isinstance(expr, ast.Name):
        if names.get(expr.id) is None:
            raise LookupError(f"{expr.id} is not a cnnlib name imported above")
        return names[expr.id]
    if isinstance(expr, ast.Attribute):
        value = _resolve(expr.value, names, made_by)
        if not hasattr(value, expr.attr):
            raise LookupError(f"{ast.unparse(expr.value)} has no attribute {expr.attr}")
        return getattr(value, expr.attr)
    is_type = isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "type"
    if is_type and len(expr.args) == 1 and isinstance(expr.args[0], ast.Name):
        maker = made_by.get(expr.args[0].id)
        returns = typing.get_type_hints(maker).get("return") if callable(maker) else None
        if not inspect.isclass(returns):
            raise LookupError(f"{ast.unparse(expr)}: not made by a cnnlib function annotated with a class")
        return returns
    raise LookupError(f"cannot resolve {ast.unparse(expr)}")


def resolve(printed: Printed) -> list[object]:
    """The objects a call prints (several for a loop variable), or LookupError."""
    arg = printed.arg
    if isinstance(arg, ast.Name) and arg.id in printed.loops:
        exprs = printed.loops[arg.id]
    else:
        exprs = [arg]
    objects = [_resolve(e, printed.names, printed.made_by) for e in exprs]
    for obj in objects:
        module = getattr(inspect.getmodule(obj), "__name__", "")
        if module != "cnnlib" and not module.startswith("cnnlib."):
            raise LookupError(f"{ast.unparse(arg)} is {obj!r}, not cnnlib's")
    return objects


def chapter_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def too_wide(obj: object) -> list[str]:
    """The lines of ``obj``'s source wider than the page, with their line numbers."""
    lines, start = inspect.getsourcelines(obj)
    wide = []
    for i, line in enumerate(lines):
        text = line.rstrip("\n")
        if len(text) > PAGE_WIDTH:
            wide.append(f"line {start + i} ({len(text)} chars): {text.strip()[:40]}")
    return wide


def _is_private(dotted: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in dotted.split("."))


def _ours(module_name: str) -> bool:
    return module_name == "cnnlib" or module_name.startswith("cnnlib.")


def _private_cnnlib(value: object) -> str | None:
    """Why ``value`` is a private part of cnnlib, or None if it is not (or not cnnlib's)."""
    if inspect.ismodule(value):
        name = value.__name__
    else:
        name = getattr(inspect.getmodule(value), "__name__", "") or ""
    if _ours(name) and _is_private(name):
        return f"defined in the private module {name}"
    return None


def _class_of(obj: object) -> type | None:
    """``obj`` if it is a class, the class a printed method belongs to, or None."""
    if inspect.isclass(obj):
        return obj
    owner: object = sys.modules[obj.__module__]
    for part in obj.__qualname__.split(".")[:-1]:
        owner = getattr(owner, part, None)
    return owner if inspect.isclass(owner) else None


def private_helpers(obj: object) -> list[str]:
    """The private cnnlib names ``obj``'s printed source uses without defining them."""
    source = textwrap.dedent(inspect.getsource(obj))
    tree = ast.parse(source)
    module = sys.modules[obj.__module__]
    defined = {node.name for node in ast.walk(tree)
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    bound = set(defined)
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in bound:
            if node.id not in vars(module):
                continue  # a builtin
            value = vars(module)[node.id]
            why = _private_cnnlib(value)
            if _is_private(node.id):
                why = "a private name of " + module.__name__
            if why:
                found.append(f"{node.id} ({why})")
        elif isinstance(node, ast.Attribute) and _is_private(node.attr):
            base = node.value
            if isinstance(base, ast.Name) and base.id not in bound:
                value = vars(module).get(base.id)
                owner = getattr(value, "__name__", "") if inspect.ismodule(value) else ""
                if _ours(owner):
                    found.append(f"{ast.unparse(node)} (a private name of {owner})")
            elif isinstance(base, ast.Name) and base.id in ("self", "cls") and node.attr not in defined:
                owner = next((k for k in getattr(_class_of(obj), "__mro__", ())
                              if node.attr in vars(k) and _ours(k.__module__)), None)
                if owner is not None:
                    found.append(f"{ast.unparse(node)} (defined in {owner.__qualname__}, not printed)")
    return sorted(set(found))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_source_a_chapter_prints_calls_no_private_cnnlib_helper(path):
    problems = []
    for printed in find_printed(chapter_cells(path), path.stem):
        for obj in resolve(printed):
            name = f"{obj.__module__}.{obj.__qualname__}"
            problems += [f"{printed.where}: {name} uses {why}" for why in private_helpers(obj)]
    assert not problems, "\n".join(problems)


PROBE = """
from cnnlib import check


def _helper():
    return 1


class Base:
    def _hidden(self):
        return 2


class Shown(Base):
    def _own(self):
        return 3

    def method(self):
        return self._own() + self._hidden()


def printed(x):
    _local = x
    return _helper() + check._secret + _local
"""


def test_the_private_helper_check_catches_unprinted_private_names_only(tmp_path, monkeypatch):
    (tmp_path / "cnnlib_probe.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    probe = importlib.import_module("cnnlib_probe")
    try:
        assert private_helpers(probe.printed) == [
            "_helper (a private name of cnnlib_probe)",
            "check._secret (a private name of cnnlib.check)",
        ]
        assert private_helpers(probe.Shown) == []  # Base is not cnnlib's module here
        monkeypatch.setattr(probe.Base, "__module__", "cnnlib.probe")
        assert private_helpers(probe.Shown) == ["self._hidden (defined in Base, not printed)"]
        monkeypatch.setattr(probe.Shown, "__module__", "cnnlib.probe")
        assert private_helpers(probe.Shown.method) == [
            "self._hidden (defined in Base, not printed)",
            "self._own (defined in Shown, not printed)",
        ]
    finally:
        sys.modules.pop("cnnlib_probe", None)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_source_a_chapter_prints_fits_76_characters(path):
    problems = []
    for printed in find_printed(chapter_cells(path), path.stem):
        try:
            objects = resolve(printed)
        except LookupError as e:
            problems.append(f"{printed.where}: getsource({ast.unparse(printed.arg)}): {e}")
            continue
        for obj in objects:
            name = f"{obj.__module__}.{obj.__qualname__}"
            problems += [f"{name} {line}" for line in too_wide(obj)]
    assert not problems, "\n".join(problems)


def test_the_book_prints_cnnlib_source_and_every_call_is_found():
    """Guards the finder: the chapters do print source, and each call resolves to an object."""
    printed = [p for path in CHAPTERS for p in find_printed(chapter_cells(path), path.stem)]
    assert len(printed) >= 10
    assert all(resolve(p) for p in printed)


def test_finder_follows_imports_loops_and_type_of_a_made_object():
    cells = [
        "import inspect\nfrom cnnlib.models import inception\nfrom cnnlib import hooks",
        "if False:\n    %pip install nothing\nfrom cnnlib.models.alexnet import alexnet\n"
        "model = alexnet()\nprint(inspect.getsource(type(model)))",
        "for part in (inception.MiniA, hooks.Hook):\n    print(inspect.getsource(part))",
        "from inspect import getsource\ngetsource(hooks.count_hooks)",
    ]
    found = [resolve(p) for p in find_printed(cells, "test")]
    from cnnlib.hooks import Hook, count_hooks
    from cnnlib.models.alexnet import AlexNet
    from cnnlib.models.inception import MiniA
    assert found == [[AlexNet], [MiniA, Hook], [count_hooks]]


@pytest.mark.parametrize("cells, why", [
    (["import inspect\nprint(inspect.getsource(normalize))"], "not a cnnlib name"),
    (["from torchvision import models\nimport inspect\ninspect.getsource(models.resnet50)"],
     "not a cnnlib name"),
    (["import torch\nfrom cnnlib import images\ninspect.getsource(images.torch.nn.ReLU)"], "not cnnlib's"),
    (["from cnnlib import models\nmodels = 3\ninspect.getsource(models.resnet50)"], "not a cnnlib name"),
    (["import inspect\nfrom cnnlib import ops\ninspect.getsource(ops.nowhere)"], "has no attribute"),
    (["import inspect\nfrom cnnlib import ops\ninspect.getsource(getattr(ops, 'windows'))"],
     "cannot resolve"),
])
def test_finder_refuses_what_it_cannot_resolve_to_cnnlib(cells, why):
    (printed,) = find_printed(cells, "test")
    with pytest.raises(LookupError, match=why):
        resolve(printed)


def stored_text(cell: dict) -> str:
    """What a code cell's stored outputs show as text: streams, and the plain-text or
    HTML (tags removed, entities decoded) form of displayed objects."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        data = out.get("data", {})
        if "text/html" in data:
            parts.append(html.unescape(re.sub(r"<[^>]+>", "", "".join(data["text/html"]))))
        elif "text/plain" in data:
            parts.append("".join(data["text/plain"]))
    return "\n".join(parts)


def stale_printouts(path: Path) -> list[str]:
    """Printed objects whose current source is not what the chapter's stored output shows."""
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    stale = []
    for printed in find_printed(["".join(c["source"]) for c in cells], path.name):
        index = int(printed.where.rsplit(" ", 1)[1])
        shown = stored_text(cells[index])
        for obj in resolve(printed):
            if inspect.getsource(obj).strip() not in shown:
                stale.append(f"{printed.where}: {getattr(obj, '__qualname__', obj)}")
    return stale


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_printed_function_in_the_stored_outputs_is_its_current_source(path):
    stale = stale_printouts(path)
    assert not stale, (
        "the stored output shows an older version of these (re-execute the chapter: "
        f"make execute NB={path.relative_to(path.parents[1])}): {stale}")
