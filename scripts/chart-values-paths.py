#!/usr/bin/env python3
"""Which Helm values keys each gitlab-runner chart version reads.

Reads every chart archive in a directory (default: ../shared/charts/gitlab-runner/*.tgz, see
PROVENANCE.md there) and writes, for each chart version, into data/gitlab-runner-chart/:

  <version>-values-paths.txt   every `.Values.*` path the chart's templates read, one a line,
                               followed by flags:
                                 whole  the value is consumed whole (toYaml, range, printed,
                                        `with` + `.`): every key below it takes effect, even
                                        though some of its keys are listed on their own
                                 notes  read only by templates/NOTES.txt: the key changes the
                                        message `helm install` prints, nothing in the cluster
                                 tpl    the string(s) at or below it are rendered with `tpl` and
                                        the root context, so `{{ .Values.x }}` in them reads x
  <version>-values-yaml-keys.txt
                               every key path of that version's own values.yaml (parents
                               before children, list items not split), for the tests that
                               check the chart's defaults.

A parent of a listed path is read too (the template walks through it); a listed path with no
listed path below it is consumed whole. When the analysis cannot tell whether a key is read,
it counts it read: a false "the chart ignores this key" is worse than a missed one. Anything
the analysis does not understand is reported on stderr and makes the script exit 1.

Python 3 standard library only. Usage:
  scripts/chart-values-paths.py [--charts DIR] [--out DIR] [--check]
--check compares with the files already in --out instead of writing them (exit 1 on a
difference).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

# ---------------------------------------------------------------------------------------------
# Values: what an expression evaluates to, as far as values paths are concerned.


@dataclass(frozen=True)
class Val:
    """kind: root (the top-level context: .Values, .Release, ...), path (the value at a values
    path; path () is .Values itself), elem (an element of a ranged value: its bases are consumed
    whole already), opaque (anything else; deps are the values paths that flowed into it),
    lit (a literal; text is a string literal's content)."""

    kind: str
    path: tuple = ()
    deps: frozenset = frozenset()
    text: str | None = None

    def sources(self) -> frozenset:
        """The values paths this value comes from."""
        if self.kind == "path":
            return frozenset([self.path]) | self.deps
        return self.deps


ROOT = Val("root")
OPAQUE = Val("opaque")


class Unhandled(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Lexing templates into text and actions.

ACTION = re.compile(r"\{\{(-\s)?")


def actions(text: str):
    """Yields (line, action body) for every `{{ ... }}` that is not a comment."""
    i = 0
    while True:
        start = text.find("{{", i)
        if start < 0:
            return
        j = start + 2
        if text.startswith("- ", j) or text.startswith("-\t", j) or text.startswith("-\n", j):
            j += 1
        body_start = j
        # Comments: {{/* ... */}}
        stripped = text[body_start:].lstrip()
        if stripped.startswith("/*"):
            end = text.find("*/", body_start)
            close = text.find("}}", end)
            i = close + 2
            continue
        # Scan to the closing }} outside strings.
        k = body_start
        quote = None
        while k < len(text):
            c = text[k]
            if quote:
                if c == "\\" and quote == '"':
                    k += 2
                    continue
                if c == quote:
                    quote = None
            elif c in "\"`":
                quote = c
            elif text.startswith("}}", k):
                break
            k += 1
        body = text[body_start:k]
        if body.endswith(" -") or body.endswith("\t-") or body.endswith("\n-"):
            body = body[:-1]
        line = text.count("\n", 0, start) + 1
        yield line, body.strip()
        i = k + 2


TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<char>'(?:[^'\\]|\\.)')
    | (?P<num>-?\d[\w.+-]*)
    | (?P<decl>:=)
    | (?P<assign>=)
    | (?P<punct>[()|,])
    | (?P<var>\$\w*(?:\.\w+)*)
    | (?P<field>(?:\.\w+)+|\.)
    | (?P<ident>\w+)
    )""",
    re.X,
)


def tokenize(body: str):
    toks = []
    pos = 0
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        m = TOKEN.match(body, pos)
        if not m or m.end() == pos:
            raise Unhandled(f"cannot tokenize `{body[pos:]}`")
        attached = m.start(m.lastgroup) == pos  # no whitespace before it
        kind = m.lastgroup
        text = m.group(kind)
        if kind == "field" and attached and toks and toks[-1] == ("punct", ")"):
            toks.append(("chain", text[1:].split(".")))
        elif kind == "field":
            toks.append(("field", [] if text == "." else text[1:].split(".")))
        elif kind == "var":
            name, *fields = text.split(".")
            toks.append(("var", name, fields))
        elif kind == "str":
            toks.append(("str", bytes(text[1:-1], "utf-8").decode("unicode_escape")))
        elif kind == "raw":
            toks.append(("str", text[1:-1]))
        elif kind in ("char", "num"):
            toks.append(("lit", text))
        elif kind == "punct":
            toks.append(("punct", text))
        else:
            toks.append((kind, text))
        pos = m.end()
    return toks


# ---------------------------------------------------------------------------------------------
# Parsing: pipeline := command ('|' command)*; command := operand+; operand := primary chain?


def parse_pipeline(toks, i):
    cmds = []
    while True:
        cmd, i = parse_command(toks, i)
        if not cmd:
            raise Unhandled("empty command")
        cmds.append(cmd)
        if i < len(toks) and toks[i] == ("punct", "|"):
            i += 1
            continue
        return cmds, i


def parse_command(toks, i):
    ops = []
    while i < len(toks) and toks[i] not in (("punct", "|"), ("punct", ")")):
        t = toks[i]
        if t == ("punct", "("):
            inner, i = parse_pipeline(toks, i + 1)
            if i >= len(toks) or toks[i] != ("punct", ")"):
                raise Unhandled("unbalanced parentheses")
            i += 1
            node = ("group", inner)
        elif t[0] in ("field", "var", "str", "lit", "ident"):
            node = t
            i += 1
        else:
            raise Unhandled(f"unexpected token {t}")
        if i < len(toks) and toks[i][0] == "chain":
            node = ("chained", node, toks[i][1])
            i += 1
        ops.append(node)
    return ops, i


# ---------------------------------------------------------------------------------------------
# Evaluation: marks every values path read, with how it is used.


@dataclass
class Reads:
    """Per values path: roles ('test' or 'value') and whether it goes through tpl."""

    roles: dict = field(default_factory=dict)
    tpl: set = field(default_factory=set)
    everything: bool = False

    def mark(self, path, role):
        self.roles.setdefault(path, set()).add(role)

    def merge(self, other: "Reads"):
        for p, r in other.roles.items():
            self.roles.setdefault(p, set()).update(r)
        self.tpl |= other.tpl
        self.everything |= other.everything


TEST_FUNCS = {"not", "empty", "kindIs", "typeIs", "kindOf", "typeOf", "typeIsLike"}
CONTEXT_FUNCS = {"include", "template"}


class Evaluator:
    def __init__(self, where: str, warn):
        self.where = where
        self.warn = warn
        self.reads = Reads()
        self.includes: set = set()
        self.scopes: list = [{"$": ROOT}]
        self.dot = ROOT

    # -- helpers

    def use(self, val: Val, role: str):
        """The value is consumed: as a truth value (test) or as itself (value)."""
        if val.kind == "path":
            if val.path == () and role == "value":
                self.reads.everything = True
                self.warn(f"{self.where}: `.Values` used whole: every key counts as read")
            if val.path != ():
                self.reads.mark(val.path, role)

    def lookup(self, name):
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        self.warn(f"{self.where}: unknown variable {name}")
        return OPAQUE

    def fields(self, base: Val, names) -> Val:
        if not names:
            return base
        if base.kind == "root":
            if names[0] == "Values":
                return Val("path", tuple(names[1:]))
            return OPAQUE  # .Release, .Chart, .Capabilities, .Template, .Files
        if base.kind == "path":
            return Val("path", base.path + tuple(names))
        if base.kind == "elem":
            return base  # below a value consumed whole
        if base.kind == "opaque" and base.deps:
            # A field of something computed from values: count its sources read whole.
            for p in base.deps:
                self.reads.mark(p, "value")
            return base
        return OPAQUE

    # -- evaluation

    def operand(self, node, role_hint="value") -> Val:
        kind = node[0]
        if kind == "field":
            return self.fields(self.dot, node[1]) if node[1] else self.dot
        if kind == "var":
            return self.fields(self.lookup(node[1]), node[2])
        if kind == "str":
            return Val("lit", text=node[1])
        if kind == "lit":
            return Val("lit")
        if kind == "ident":
            if node[1] in ("true", "false", "nil"):
                return Val("lit")
            return self.call(node[1], [], None, role_hint)
        if kind == "group":
            return self.pipeline(node[1], role_hint)
        if kind == "chained":
            return self.fields(self.operand(node[1], "value"), node[2])
        raise Unhandled(f"operand {node}")

    def pipeline(self, cmds, role="value") -> Val:
        piped = None
        for n, cmd in enumerate(cmds):
            last = n == len(cmds) - 1
            r = role if last else "value"
            head = cmd[0]
            if head[0] == "ident" and head[1] not in ("true", "false", "nil"):
                piped = self.call(head[1], cmd[1:], piped, r)
            else:
                piped = self.operand(head, r)
                if len(cmd) > 1 or (piped is not None and n > 0):
                    # A method call (`.Capabilities.APIVersions.Has "x"`): its arguments are
                    # used as values.
                    if head[0] not in ("field", "var") or piped.kind == "path":
                        raise Unhandled(f"cannot call a non-function {head}")
                    for a in cmd[1:]:
                        self.use(self.operand(a, "value"), "value")
                    piped = Val("lit")
                if last and role == "test":
                    self.use(piped, "test")
        return piped

    def call(self, fn, argnodes, piped, role) -> Val:
        # Arguments: evaluated lazily per function, so `index .Values "a"` walks without reading.
        def args(r="value"):
            vals = [self.operand(a, r) for a in argnodes]
            if piped is not None:
                vals.append(piped)
            return vals

        if fn in ("index", "get"):
            vals = args()
            base, keys = vals[0], vals[1:]
            if base.kind == "root" and keys and keys[0].text == "Values":
                base, keys = Val("path", ()), keys[1:]
            if base.kind == "path" and all(k.kind == "lit" and k.text is not None for k in keys):
                return Val("path", base.path + tuple(k.text for k in keys))
            self.use(base, "value")
            return Val("opaque", deps=base.sources())
        if fn == "dig":
            vals = args()
            base, keys = vals[-1], vals[:-2]
            if base.kind == "path" and all(k.kind == "lit" and k.text is not None for k in keys):
                v = Val("path", base.path + tuple(k.text for k in keys))
                self.use(v, "value")
                return Val("opaque", deps=v.sources())
            self.use(base, "value")
            return Val("opaque", deps=base.sources())
        if fn == "hasKey":
            vals = args()
            base = vals[0]
            self.use(base, "test")
            if base.kind == "path" and len(vals) > 1 and vals[1].text is not None:
                self.use(Val("path", base.path + (vals[1].text,)), "test")
            elif base.kind == "path":
                self.use(base, "value")
            return Val("lit")
        if fn in TEST_FUNCS:
            vals = args("test")
            for v in vals:
                self.use(v, "test")
            return Val("lit")
        if fn in ("and", "or"):
            vals = args("test" if role == "test" else "value")
            for n, v in enumerate(vals):
                tested = role == "test" or (fn == "and" and n < len(vals) - 1)
                self.use(v, "test" if tested else "value")
            deps = frozenset().union(*(v.sources() for v in vals)) if vals else frozenset()
            return Val("opaque", deps=deps)
        if fn == "ternary":
            vals = args()
            for n, v in enumerate(vals):
                self.use(v, "test" if n == 2 else "value")
            return Val("opaque", deps=frozenset().union(*(v.sources() for v in vals[:2])))
        if fn in CONTEXT_FUNCS:
            vals = args()
            if vals and vals[0].text is not None:
                self.includes.add(vals[0].text)
            elif fn == "include":
                # include (print $.Template.BasePath "/x.yaml") .: a whole template file,
                # counted on its own.
                pass
            for ctx in vals[1:]:
                if ctx.kind != "root":
                    self.warn(f"{self.where}: {fn} with a context other than the root")
                    self.use(ctx, "value")
            return OPAQUE
        if fn == "tpl":
            vals = args()
            if vals:
                for p in vals[0].sources():
                    self.reads.tpl.add(p)
                self.use(vals[0], "value")
                for ctx in vals[1:]:
                    if ctx.kind != "root":
                        self.warn(f"{self.where}: tpl with a context other than the root")
            return OPAQUE
        # Any other function: every argument is used as a value.
        vals = args()
        for v in vals:
            self.use(v, "value")
        deps = frozenset().union(*(v.sources() for v in vals)) if vals else frozenset()
        return Val("opaque", deps=deps)


# ---------------------------------------------------------------------------------------------
# Walking a template file: control structures, dot and variables.


def analyse(name: str, text: str, warn):
    """Returns (reads of the file's top level, {define name: (reads, includes)}, includes)."""
    top = Evaluator(name, warn)
    defines: dict = {}
    stack = []  # (kind, evaluator, saved dot, saved scope depth)
    ev = top
    for line, body in actions(text):
        where = f"{name}:{line}"
        ev.where = where
        try:
            toks = tokenize(body)
        except Unhandled as e:
            warn(f"{where}: {e}")
            continue
        if not toks:
            continue
        head = toks[0][1] if toks[0][0] == "ident" else None
        try:
            if head == "define" or head == "block":
                dname = toks[1][1]
                new = Evaluator(f"{name}:{dname}", warn)
                if head == "block":
                    ev.includes.add(dname)
                stack.append(("define", ev, ev.dot, len(ev.scopes), dname))
                ev = new
                ev.where = where
                continue
            if head == "end":
                kind, outer, dot, depth, extra = stack.pop()
                if kind == "define":
                    defines[extra] = ev
                    ev = outer
                else:
                    ev.dot = dot
                    del ev.scopes[depth:]
                continue
            if head in ("if", "with", "range"):
                stack.append((head, ev, ev.dot, len(ev.scopes), None))
                ev.scopes.append({})
                open_block(ev, head, toks[1:])
                continue
            if head == "else":
                kind, outer, dot, depth, extra = stack[-1]
                ev.dot = dot
                del ev.scopes[depth:]
                ev.scopes.append({})
                rest = toks[1:]
                if rest and rest[0][0] == "ident" and rest[0][1] in ("if", "with"):
                    open_block(ev, rest[0][1], rest[1:])
                continue
            if head in ("break", "continue"):
                continue
            if head == "template":
                cmds, _ = parse_pipeline(toks, 0)
                ev.call("template", cmds[0][1:], None, "value")
                continue
            # A plain action, possibly a declaration.
            if len(toks) > 2 and toks[0][0] == "var" and toks[1][0] in ("decl", "assign"):
                cmds, _ = parse_pipeline(toks, 2)
                val = ev.pipeline(cmds, "value")
                if toks[1][0] == "decl":
                    ev.scopes[-1][toks[0][1]] = val
                else:
                    for scope in reversed(ev.scopes):
                        if toks[0][1] in scope:
                            scope[toks[0][1]] = val
                            break
                continue
            cmds, i = parse_pipeline(toks, 0)
            if i != len(toks):
                raise Unhandled(f"trailing tokens {toks[i:]}")
            val = ev.pipeline(cmds, "value")
            ev.use(val, "value")
        except (Unhandled, IndexError) as e:
            warn(f"{where}: {e}: `{body}`")
    if stack:
        warn(f"{name}: unclosed blocks {[s[0] for s in stack]}")
    return top, defines


def open_block(ev: Evaluator, head, toks):
    decl_vars = []
    i = 0
    # range $k, $v := X / range $v := X / with $x := X / if $x := X
    j = 0
    while j < len(toks) and toks[j][0] == "var":
        decl_vars.append(toks[j][1])
        j += 1
        if j < len(toks) and toks[j] == ("punct", ","):
            j += 1
    if decl_vars and j < len(toks) and toks[j][0] == "decl":
        i = j + 1
    else:
        decl_vars = []
    cmds, k = parse_pipeline(toks, i)
    if k != len(toks):
        raise Unhandled(f"trailing tokens {toks[k:]}")
    if head == "if":
        val = ev.pipeline(cmds, "test")
        for v in decl_vars:
            ev.scopes[-1][v] = val
        return
    val = ev.pipeline(cmds, "value" if head == "range" else "test")
    if head == "with":
        ev.use(val, "test")
        # A `with` body's `.` is the value; using `.` itself later marks it whole.
        ev.dot = val if val.kind != "lit" else OPAQUE
        for v in decl_vars:
            ev.scopes[-1][v] = val
        return
    # range: the ranged value is consumed whole; `.` and the value variable are elements.
    ev.use(val, "value")
    elem = Val("elem", deps=val.sources())
    ev.dot = elem
    if len(decl_vars) == 2:
        ev.scopes[-1][decl_vars[0]] = OPAQUE
        ev.scopes[-1][decl_vars[1]] = elem
    elif len(decl_vars) == 1:
        ev.scopes[-1][decl_vars[0]] = elem


# ---------------------------------------------------------------------------------------------
# A chart version: templates -> paths with flags.


def chart_reads(files: dict, warn):
    """files: template file name -> text. Returns {path: set(flags)}."""
    units = {}  # unit name -> (Evaluator, is_notes)
    defines = {}
    for name, text in sorted(files.items()):
        top, defs = analyse(name, text, warn)
        units[name] = top
        for dname, ev in defs.items():
            if dname in defines:
                warn(f"{name}: define {dname} twice")
            defines[dname] = ev

    def closure(ev, seen):
        reads = Reads()
        reads.merge(ev.reads)
        for inc in ev.includes:
            if inc in seen:
                continue
            seen.add(inc)
            if inc not in defines:
                warn(f"include of unknown template {inc}")
                continue
            reads.merge(closure(defines[inc], seen))
        return reads

    cluster = Reads()
    notes = Reads()
    for name, ev in units.items():
        r = closure(ev, set())
        (notes if name == "NOTES.txt" else cluster).merge(r)
    # Defines nobody includes: counted read (when unsure, read).
    included = set()
    for ev in list(units.values()) + list(defines.values()):
        included |= ev.includes
    for dname, ev in defines.items():
        if dname not in included:
            print(f"note: define {dname} is never included: its reads count anyway", file=sys.stderr)
            cluster.merge(closure(ev, set()))

    if cluster.everything or notes.everything:
        raise SystemExit("`.Values` is used whole: every key is read; nothing to write")

    def walked(reads):
        out = set()
        for p in reads.roles:
            for n in range(1, len(p) + 1):
                out.add(p[:n])
        return out

    cluster_walked = walked(cluster)
    cluster_whole = {p for p, r in cluster.roles.items() if "value" in r}
    result = {}
    for reads, is_notes in ((cluster, False), (notes, True)):
        for p, roles in reads.roles.items():
            flags = result.setdefault(p, set())
            if "value" in roles:
                flags.add("whole")
            if p in reads.tpl:
                flags.add("tpl")
            if is_notes and p not in cluster_walked and not any(
                p[:n] in cluster_whole for n in range(1, len(p))
            ):
                flags.add("notes")
        for p in reads.tpl:
            result.setdefault(p, set()).add("tpl")
    # `whole` only says something for a path with listed paths below it.
    paths = set(result)
    for p, flags in result.items():
        if "whole" in flags and not any(q[: len(p)] == p and q != p for q in paths):
            flags.discard("whole")
    return result


# ---------------------------------------------------------------------------------------------
# values.yaml key paths: a block-mapping reader, enough for the chart's own values.yaml (the
# tests check it against runnerguard's YAML loader).

KEY = re.compile(r"""^(?P<indent> *)(?P<key>"[^"]*"|'[^']*'|[^\s#'"\-][^:#]*?|-[^\s:#][^:#]*?)\s*:(?:\s+(?P<rest>.*))?$""")


def values_keys(text: str):
    keys = []
    stack = []  # (indent, path)
    skip_deeper_than = None  # skip lines indented more than this (block scalar, list)
    list_parent = None  # indent of a key whose value is a list at the same indent
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if skip_deeper_than is not None:
            if indent > skip_deeper_than:
                continue
            if list_parent is not None and indent == list_parent and stripped.startswith("-"):
                continue
            skip_deeper_than = None
            list_parent = None
        if stripped.startswith("-"):
            # A list value of the last key (list items are not separate entries).
            skip_deeper_than = indent
            list_parent = indent
            continue
        m = KEY.match(line)
        if not m:
            raise SystemExit(f"values.yaml: cannot read `{line}`")
        key = m.group("key").strip()
        if key[0] in "\"'":
            key = key[1:-1]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = (stack[-1][1] + "." if stack else "") + key
        keys.append(path)
        rest = (m.group("rest") or "").split(" #")[0].strip()
        if rest.startswith("|") or rest.startswith(">"):
            skip_deeper_than = indent
        elif rest == "":
            stack.append((indent, path))
            # A list at the same indent as its key belongs to it.
            skip_deeper_than = None
        elif rest.startswith("[") or rest.startswith("{") or rest.startswith("&"):
            if rest.startswith("{") and rest not in ("{}",):
                raise SystemExit(f"values.yaml: flow mapping not handled: `{line}`")
    return keys


# ---------------------------------------------------------------------------------------------


def read_chart(tgz: Path):
    files = {}
    values = None
    version = None
    with tarfile.open(tgz) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if not member.isfile():
                continue
            if len(parts) == 2 and parts[1] == "Chart.yaml":
                text = tar.extractfile(member).read().decode()
                version = re.search(r"^version:\s*(\S+)", text, re.M).group(1).strip("\"'")
            elif len(parts) == 2 and parts[1] == "values.yaml":
                values = tar.extractfile(member).read().decode()
            elif len(parts) == 3 and parts[1] == "templates":
                files[parts[2]] = tar.extractfile(member).read().decode()
            elif len(parts) > 3 and parts[1] == "templates":
                raise SystemExit(f"{tgz}: nested template directory {member.name}")
            elif len(parts) > 2 and parts[1] == "charts":
                raise SystemExit(f"{tgz}: subcharts are not handled: {member.name}")
    return version, files, values


HEADER = """\
# Values paths that the templates of the official gitlab-runner chart {version} read, one a
# line, with flags (see data/gitlab-runner-chart/PROVENANCE.md):
#   whole  consumed whole (toYaml, range, printed): every key below it takes effect
#   notes  read only by templates/NOTES.txt: it changes the install message, nothing else
#   tpl    rendered with `tpl` and the root context: `{{{{ .Values.x }}}}` in it reads x
# A parent of a listed path is read too; a listed path with nothing listed below it is
# consumed whole. Generated by scripts/chart-values-paths.py from {archive}
# (sha256 {sha}); do not edit.
"""

KEYS_HEADER = """\
# Key paths of the official gitlab-runner chart {version}'s own values.yaml (parents before
# children; list items are not split). Generated by scripts/chart-values-paths.py from
# {archive} (sha256 {sha}); do not edit.
"""


def main():
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--charts", type=Path, default=here.parent / "shared/charts/gitlab-runner")
    ap.add_argument("--out", type=Path, default=here / "data/gitlab-runner-chart")
    ap.add_argument("--check", action="store_true")
    opts = ap.parse_args()

    import hashlib

    problems = []

    def warn(msg):
        problems.append(msg)
        print(f"warning: {msg}", file=sys.stderr)

    outputs = {}
    archives = sorted(opts.charts.glob("*.tgz"))
    if not archives:
        raise SystemExit(f"no chart archives in {opts.charts}")
    for tgz in archives:
        sha = hashlib.sha256(tgz.read_bytes()).hexdigest()
        version, files, values = read_chart(tgz)
        reads = chart_reads(files, lambda m, v=version: warn(f"{v}: {m}"))
        lines = [HEADER.format(version=version, archive=tgz.name, sha=sha)]
        for p in sorted(reads, key=lambda p: ".".join(p)):
            flags = " ".join(sorted(reads[p]))
            lines.append(".".join(p) + (f" {flags}" if flags else "") + "\n")
        outputs[f"{version}-values-paths.txt"] = "".join(lines)
        keys = values_keys(values)
        outputs[f"{version}-values-yaml-keys.txt"] = (
            KEYS_HEADER.format(version=version, archive=tgz.name, sha=sha)
            + "".join(k + "\n" for k in keys)
        )
    differ = False
    for name, text in sorted(outputs.items()):
        target = opts.out / name
        if opts.check:
            if not target.exists() or target.read_text() != text:
                print(f"differs: {target}", file=sys.stderr)
                differ = True
        else:
            target.write_text(text)
    if problems or differ:
        sys.exit(1)


if __name__ == "__main__":
    main()
