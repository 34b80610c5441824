#!/usr/bin/env python3
"""Turns the statements PostgreSQL logged for one request into a pgbench script.

    python3 bench/capture.py LOG_FILE DATABASE SINCE_UUID7_MS > script.sql

The raw-SQL ceiling of a request is pgbench running exactly what the server ran for it. The
bench turns on `log_statement = 'all'` for its database, sends the request once, and hands the
part of the server log written meanwhile to this script, which keeps the statements of
DATABASE, puts each prepared statement's parameters back in as literals, and replaces every id
the request generated (a UUIDv7 stamped at or after SINCE_UUID7_MS: a new referral, its event,
audit rows, outbox rows) by a pgbench variable drawn fresh for every transaction, so that the
script's INSERTs can run again and again. The ids of what existed (clients, organisations) stay.
"""

import re
import sys

LINE = re.compile(r"^\S+ \S+ \S+ \[\d+\] (?P<who>\S+@(?P<db>\S+)) (?P<level>[A-Z]+):  (?P<text>.*)$")
STATEMENT = re.compile(r"^(?:statement|execute [^:]+): (?P<sql>.*)$", re.S)
PARAM = re.compile(r"\$(\d+) = ('(?:[^']|'')*'|NULL)")
# What the server runs on its own, whatever the request: the webhook worker looking for work.
BACKGROUND = re.compile(r"FROM webhooks w JOIN organisations o ON o.id = w.organisation_id")
UUID = re.compile(r"'([0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12})'")


def entries(lines, database):
    """(level, text) of every log entry of `database`, continuation lines joined."""
    current = None
    for line in lines:
        match = LINE.match(line.rstrip("\n"))
        if match:
            if current:
                yield current
            current = (match["level"], match["text"]) if match["db"] == database else None
        elif current and line.startswith("\t"):
            current = (current[0], current[1] + "\n" + line.rstrip("\n")[1:])
    if current:
        yield current


def statements(lines, database):
    """The statements run, with their parameters in place."""
    pending = None
    for level, text in entries(lines, database):
        if level == "LOG":
            if pending:
                yield pending
            match = STATEMENT.match(text)
            pending = match["sql"] if match else None
        elif level == "DETAIL" and pending and text.startswith("parameters: "):
            values = dict(PARAM.findall(text))
            pending = re.sub(r"\$(\d+)\b", lambda m: values.get(m[1], m[0]), pending)
            yield pending
            pending = None
    if pending:
        yield pending


def generated(sql, since_ms):
    """The UUIDv7 literals in `sql` stamped at or after `since_ms`."""
    return [u for u in UUID.findall(sql) if int(u.replace("-", "")[:12], 16) >= since_ms]


def main():
    log, database, since_ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(log, encoding="utf-8", errors="replace") as f:
        found = [s.strip().rstrip(";") for s in statements(f, database) if not BACKGROUND.search(s)]
    names = {}
    for sql in found:
        for uuid in generated(sql, since_ms):
            names.setdefault(uuid, f"g{len(names) + 1}")
    out = []
    if names:
        fresh = ", ".join(f"gen_random_uuid() AS {n}" for n in names.values())
        out.append(f"SELECT {fresh} \\gset")
    for sql in found:
        for uuid, name in names.items():
            sql = sql.replace(f"'{uuid}'", f":{name}")
        out.append(" ".join(sql.split()) + ";")
    print("\n".join(out))
    print(f"-- {len(found)} statements captured", file=sys.stderr)


if __name__ == "__main__":
    main()
