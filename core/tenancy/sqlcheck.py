"""Does every tenant table in a SQL statement carry a tenant condition? (issue 22 item 3)

A database distributed by tenant (Citus) sends a statement to one node only when every distributed
table in it is pinned to one tenant: `alias.tenant_id = <value>` (or `IN (…)`, `= ANY (…)`) on that
table's alias, or `alias.tenant_id = other.tenant_id` joining it to a table that is pinned. A table
that is not pinned makes the statement a multi-node one (or, for a join on `id` alone, one Citus
refuses).

`tenant_condition_violations(sql, tenant_tables)` reads the statement as tokens (quoted identifiers,
strings and placeholders kept whole, so nothing inside a string is taken for SQL), finds each
reference to a tenant table with its alias (`FROM t`, `JOIN t U0`, `JOIN t AS x`, `UPDATE t`,
`DELETE FROM t`, `INSERT INTO t (…)`), finds each condition on a `tenant_id` column, and joins the
aliases compared on `tenant_id` into groups: a group is pinned when one of its members is compared
with a value. An INSERT is pinned by naming `tenant_id` among its columns (the row carries the
district). An unqualified `tenant_id` belongs to the nearest table named before it.

Limits, on purpose (the SQL here is Django's and the project's own): aliases are per statement, not
per subquery scope (Django gives every subquery's tables their own aliases, U0, V0…; a raw statement
naming one table twice without aliases could hide one reference behind the other's condition), and a
comparison is taken as a condition wherever it stands (an `OR` beside it is not looked at).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

TENANT_COLUMN = "tenant_id"

_TOKEN = re.compile(
    r"""
      (?P<qident>"(?:[^"]|"")*")
    | (?P<string>'(?:[^']|'')*')
    | (?P<param>%\([^)]*\)s|%s|\$\d+)
    | (?P<number>\d+(?:\.\d+)?)
    | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<op>::|<>|!=|<=|>=|[(),.=;<>*+\-/|&\[\]])
    | (?P<space>\s+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

#: Words that end a table reference (so they are not taken for its alias).
_NOT_ALIAS = {
    "on", "where", "inner", "left", "right", "full", "outer", "cross", "join", "group", "order", "limit",
    "offset", "set", "using", "union", "except", "intersect", "having", "returning", "for", "window",
    "natural", "lateral", "values", "select", "default", "as", "when", "then", "else", "end", "and", "or",
    "fetch", "tablesample", "only",
}  # fmt: skip
_TABLE_BEFORE = {"from", "join", "update", "into", "only"}


#: Statements that name a tenant table without a tenant condition, on purpose: the one place for such
#: exceptions, each with its reason. A statement matching a pattern (re.search) is not checked.
EXEMPT: dict[str, str] = {
    # A staging table shaped like a tenant table: reads the columns' types, never a row (WHERE 1 = 0).
    # Citus plans a constant-false filter without touching a shard (to verify on a cluster, docs/scale.md).
    r"^CREATE TEMP TABLE (IF NOT EXISTS )?\S+ AS SELECT [^;]* WHERE 1 = 0$": "staging table shaped like a "
    "tenant table: reads no row",
    # The old printed public notices' address, /p/<token>/, names no district: the notice is found by
    # its token alone (an index on token on every shard; Citus sends the read to every shard), once,
    # and the reader is redirected to /p/<district>/<token>/, whose read names the district. Only
    # notices printed before the address carried the district come this way.
    r'FROM "students_publicnotice" INNER JOIN "schools_tenant" ON \("students_publicnotice"\."tenant_id" = '
    r'"schools_tenant"\."id"\) WHERE \((?:"students_publicnotice"\."(?:token|starts_on|ends_on)" (?:=|<=|>=) %s'
    r"(?: AND )?){3}\) "
    r"ORDER BY [^;]* LIMIT 1$": "the old /p/<token>/ link: a notice found by its token alone, then redirected",
}


def exempt_reason(sql: str) -> str | None:
    """Why this statement is not checked, or None when it is."""
    for pattern, reason in EXEMPT.items():
        if re.search(pattern, sql.strip()):
            return reason
    return None


@dataclass(frozen=True)
class Token:
    kind: str  # ident (quoted or bare word), string, param, number, op
    text: str  # identifiers unquoted and lower-cased unless quoted

    @property
    def word(self) -> str:
        return self.text.lower() if self.kind == "ident" else ""


def tokens(sql: str) -> list[Token]:
    found = []
    for m in _TOKEN.finditer(sql):
        kind = m.lastgroup
        text = m.group()
        if kind == "space":
            continue
        if kind == "qident":
            found.append(Token("ident", text[1:-1].replace('""', '"')))
        elif kind == "word":
            found.append(Token("ident", text.lower()))
        else:
            found.append(Token(kind or "other", text))
    return found


@dataclass
class _Ref:
    table: str
    alias: str
    position: int
    insert: bool = False


def _references(toks: list[Token], tables: set[str]) -> list[_Ref]:
    refs = []
    in_from = False
    depth_of_from: list[bool] = []
    for i, tok in enumerate(toks):
        word = tok.word
        if tok.text == "(":
            depth_of_from.append(in_from)
            in_from = False
            continue
        if tok.text == ")":
            in_from = depth_of_from.pop() if depth_of_from else False
            continue
        if word in ("from", "join", "update"):
            in_from = True
        elif word in ("where", "on", "set", "group", "order", "limit", "having", "returning", "select", "using"):
            in_from = False
        if tok.kind != "ident" or tok.text not in tables:
            continue
        before = toks[i - 1] if i else None
        after = toks[i + 1] if i + 1 < len(toks) else None
        if before is None:
            continue
        if after is not None and (after.text == "." or (after.text == "(" and before.word != "into")):
            continue  # a column "table"."col", or a function
        follows_table_word = before.word in _TABLE_BEFORE
        follows_comma_in_from = before.text == "," and in_from
        if not (follows_table_word or follows_comma_in_from):
            continue
        alias = tok.text
        j = i + 1
        if j < len(toks) and toks[j].word == "as":
            j += 1
        if j < len(toks) and toks[j].kind == "ident" and toks[j].word not in _NOT_ALIAS:
            alias = toks[j].text
        refs.append(_Ref(tok.text, alias, i, insert=before.word == "into"))
    return refs


def _column_at(toks: list[Token], i: int) -> tuple[str | None, int, int] | None:
    """If a `tenant_id` column reference ends at token i: (its alias or None, first index, last index)."""
    tok = toks[i]
    if tok.kind != "ident" or tok.text.lower() != TENANT_COLUMN:
        return None
    if i >= 2 and toks[i - 1].text == "." and toks[i - 2].kind == "ident":
        return toks[i - 2].text, i - 2, i
    return None, i, i


def _operand(toks: list[Token], start: int, step: int) -> tuple[str, str | None]:
    """What stands on one side of a comparison: ("column", alias) for a tenant_id column, ("value", None)
    for anything else (a parameter, a literal, a list, a subquery), ("none", None) if nothing does."""
    i = start
    while 0 <= i < len(toks) and toks[i].text == "(":
        i += step if step > 0 else 0
        if step < 0:
            break
    if not 0 <= i < len(toks):
        return "none", None
    if step > 0:
        # tenant_id column forwards: [alias .] tenant_id
        if toks[i].kind == "ident" and i + 2 < len(toks) and toks[i + 1].text == "." and toks[i + 2].kind == "ident":
            if toks[i + 2].text.lower() == TENANT_COLUMN:
                return "column", toks[i].text
            return "other-column", None
        if toks[i].kind == "ident" and toks[i].text.lower() == TENANT_COLUMN:
            return "column", None
        if toks[i].kind == "ident" and toks[i].word not in ("any", "select", "current_setting", "nullif"):
            return "other-column", None
        return "value", None
    # backwards
    while i >= 0 and toks[i].text == ")":
        i -= 1
    column = _column_at(toks, i)
    if column:
        return "column", column[0]
    if toks[i].kind in ("param", "string", "number"):
        return "value", None
    return "other-column", None


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, a: str) -> str:
        self.parent.setdefault(a, a)
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def _owner(alias: str | None, position: int, refs: list[_Ref]) -> str | None:
    if alias is not None:
        return alias
    tenant_refs = {r.alias for r in refs}
    if len(tenant_refs) == 1:
        return next(iter(tenant_refs))
    before = [r for r in refs if r.position < position]
    return before[-1].alias if before else None


def _insert_names_tenant(toks: list[Token], ref: _Ref) -> bool:
    i = ref.position + 1
    if i < len(toks) and toks[i].word == "as":
        i += 2
    if i >= len(toks) or toks[i].text != "(":
        return False
    depth = 0
    for tok in toks[i:]:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
            if depth == 0:
                return False
        elif depth == 1 and tok.kind == "ident" and tok.text.lower() == TENANT_COLUMN:
            return True
    return False


def tenant_condition_violations(sql: str, tenant_tables: Iterable[str]) -> list[str]:
    """Each reference to a tenant table in `sql` that no tenant condition pins, as
    "table (alias alias) has no tenant condition"; [] when every one is pinned."""
    tables = set(tenant_tables)
    toks = tokens(sql)
    refs = _references(toks, tables)
    if not refs:
        return []
    groups = _Groups()
    pinned: set[str] = set()
    for i in range(len(toks)):
        column = _column_at(toks, i)
        if column is None:
            continue
        alias, first, last = column
        owner = _owner(alias, first, refs)
        if owner is None:
            continue
        nxt = toks[last + 1] if last + 1 < len(toks) else None
        prev = toks[first - 1] if first >= 1 else None
        if nxt is not None and nxt.text == "=":
            kind, other = _operand(toks, last + 2, +1)
        elif nxt is not None and nxt.word == "in" and last + 2 < len(toks) and toks[last + 2].text == "(":
            kind, other = "value", None
        elif prev is not None and prev.text == "=" and first >= 2:
            kind, other = _operand(toks, first - 2, -1)
        else:
            continue
        if kind == "value":
            pinned.add(groups.find(owner))
        elif kind == "column":
            other_owner = _owner(other, first, refs)
            if other_owner is not None:
                groups.join(owner, other_owner)
    pinned = {groups.find(a) for a in pinned}
    found = []
    for ref in refs:
        if ref.insert and _insert_names_tenant(toks, ref):
            continue
        if groups.find(ref.alias) in pinned:
            continue
        name = ref.table if ref.alias == ref.table else f"{ref.table} (alias {ref.alias})"
        found.append(f"{name} has no tenant condition")
    return sorted(set(found))
