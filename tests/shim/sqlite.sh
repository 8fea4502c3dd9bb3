#!/usr/bin/env bash
# sqlite.sh: the sqlite3 CLI and Python's sqlite3 module querying
# /s3/shim-test/db.sqlite (read-only, immutable URI; also plain -readonly,
# which takes POSIX locks on the fd), compared with the same queries on the
# local copy.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
shim_init

uri="file:$B/db.sqlite?immutable=1"
queries=(
  "SELECT count(*), sum(qty), round(sum(price), 2) FROM items;"
  "SELECT id, name, qty, price, hex(note) FROM items WHERE name = 'item-kilo-01234' OR id IN (1, 1500, 3000);"
  "SELECT name FROM items WHERE name BETWEEN 'item-golf' AND 'item-hotel' ORDER BY name LIMIT 20;"
  "EXPLAIN QUERY PLAN SELECT * FROM items WHERE name = 'x';"
  "SELECT * FROM items ORDER BY id LIMIT 5 OFFSET 2000;"
  "SELECT k, length(v) FROM kv WHERE k > 'key0490';"
  "SELECT count(*) FROM items a JOIN items b ON a.qty = b.qty WHERE a.id < 200;"
  "PRAGMA integrity_check;"
  "PRAGMA page_count;"
)
for q in "${queries[@]}"; do
  same "sqlite3 immutable: ${q:0:60}" -- sqlite3 -readonly "$uri" "$q"
done
same "sqlite3 .schema" -- sqlite3 -readonly "$uri" .schema
same "sqlite3 .tables" -- sqlite3 -readonly "$uri" .tables
same "sqlite3 .dump" -- sqlite3 -readonly "$uri" .dump
same "sqlite3 -json query" -- sqlite3 -readonly -json "$uri" "SELECT id, name FROM items WHERE id % 500 = 0;"
same "sqlite3 < script on stdin" -- sh -c 'printf "%s\n" "SELECT count(*) FROM kv;" "SELECT max(id) FROM items;" | sqlite3 -readonly "$1"' _ "$uri"
same "sqlite3 -readonly plain path (POSIX locks)" -- sqlite3 -readonly "$B/db.sqlite" "SELECT count(*), max(name) FROM items;"
same "sqlite3 file:...?mode=ro" -- sqlite3 "file:$B/db.sqlite?mode=ro" "SELECT count(*) FROM items;"
same "sqlite3 missing database" -- sqlite3 -readonly "file:$B/no-such.sqlite?mode=ro" "SELECT 1;"

pyq='
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], uri=True)
print(con.execute("SELECT count(*), sum(qty) FROM items").fetchone())
print(con.execute("SELECT id, name FROM items WHERE name LIKE ? ORDER BY name LIMIT 5", ("item-zulu%",)).fetchall())
print(con.execute("SELECT hex(note) FROM items WHERE id = 2222").fetchone())
rows = con.execute("SELECT * FROM items ORDER BY price DESC").fetchall()
print(len(rows), rows[:2], rows[-1])
print(con.execute("PRAGMA integrity_check").fetchone())
print([r[0] for r in con.execute("SELECT name FROM sqlite_master ORDER BY name")])
try:
    con.execute("INSERT INTO kv VALUES (?, ?)", ("new", "row"))
    con.commit()
    print("insert committed")
except sqlite3.Error as exc:
    print("insert refused:", type(exc).__name__)
'
same "python sqlite3 immutable uri" -- "$PY" -c "$pyq" "$uri"
same "python sqlite3 mode=ro uri" -- "$PY" -c "$pyq" "file:$B/db.sqlite?mode=ro"
finish
