"""The structure rules of ARCHITECTURE.md, read from the imports and code under src/ (no app is run):
- `core/` (the ground floor) imports no domain;
- no module imports another domain's controllers (only the assembly point collects them);
- businesses (below inquiries and reviews) imports neither;
- controllers never run SQL or touch the cache: that is what services are for;
- every owner route takes the typed `owned_business`, never a bare `business_id`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "servicerw"
ASSEMBLY = {"app.py", "assembly.py"}  # the one place that collects every domain's routes
DOMAINS = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name != "core")
SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|REFRESH\s+MATERIALIZED)\b", re.I | re.S
)
STORAGE_CALLS = {"fetch", "fetchrow", "fetchval", "execute", "executemany", "raw", "invalidate_business", "bump"}
FORBIDDEN_IN_CONTROLLERS = ("servicerw.core.db", "servicerw.core.cache", "asyncpg", "piccolo")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def is_controller(path: Path) -> bool:
    return path.name.endswith("controllers.py")


def imported(path: Path) -> list[str]:
    """Every module name an import in `path` refers to (`from a.b import c` gives a.b and a.b.c)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def domain_of(path: Path) -> str | None:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else None


def controller_module(name: str) -> str | None:
    """The domain whose controllers `name` is, if it is one."""
    parts = name.split(".")
    if len(parts) >= 3 and parts[0] == "servicerw" and parts[1] in DOMAINS and parts[2].endswith("controllers"):
        return parts[1]
    return None


def test_the_rules_see_the_whole_package():
    assert {"accounts", "businesses", "inquiries", "reviews", "media", "admin", "search"} <= set(DOMAINS)
    assert sum(is_controller(p) for p in modules()) >= 9


def test_core_imports_no_domain():
    offences = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in modules()
        if domain_of(path) == "core"
        for name in imported(path)
        if name.split(".")[:2][-1] in DOMAINS and name.startswith("servicerw.")
    ]
    assert offences == []


def test_no_module_imports_another_domains_controllers():
    offences = []
    for path in modules():
        if path.name in ASSEMBLY and domain_of(path) is None:
            continue
        for name in imported(path):
            owner = controller_module(name)
            if owner is not None and owner != domain_of(path):
                offences.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offences == []


def test_businesses_import_neither_inquiries_nor_reviews():
    """Inquiries and reviews are about businesses: the profile gets their parts through protocols
    (`ReviewSource`, `ResponseTimeSource`) that the assembly fills, never by importing them."""
    offences = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in modules()
        if domain_of(path) == "businesses"
        for name in imported(path)
        if name.split(".")[:2] in (["servicerw", "inquiries"], ["servicerw", "reviews"])
    ]
    assert offences == []


def test_controllers_run_no_sql_and_leave_the_cache_to_services():
    offences = []
    for path in filter(is_controller, modules()):
        where = path.relative_to(PACKAGE)
        offences += [f"{where} imports {n}" for n in imported(path) if n.startswith(FORBIDDEN_IN_CONTROLLERS)]
        offences += [f"{where} imports {n}" for n in imported(path) if n.endswith(".tables")]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in STORAGE_CALLS:
                    offences.append(f"{where}:{node.lineno} calls .{node.func.attr}()")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                offences.append(f"{where}:{node.lineno} holds SQL")
            if isinstance(node, ast.arg) and node.arg == "cache":
                offences.append(f"{where}:{node.lineno} asks for the cache")
    assert offences == []


def test_owner_routes_take_the_checked_business_not_a_bare_id():
    """A handler under /dashboard/{business_id}/… gets `owned_business` (core/auth.py); one that took the id
    itself would have to repeat the log-in and ownership checks."""
    offences = []
    for path in filter(is_controller, modules()):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.AsyncFunctionDef):
                arguments = {a.arg for a in node.args.args}
                if "business_id" in arguments:
                    offences.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} takes business_id")
    assert offences == []
