"""Every SQL example of the README and docs/ runs, so the docs cannot drift from the code.

Each ```sql block of README.md and docs/*.md runs on its own, in a new database copied from a
template that holds what the examples assume (PRELUDE: labelled `history`, an attached
`transactions` table with rows 1..2000, `last_week` and `last_month`, two versions of model
'default', the roles analyst, app and bi); a block's own `CREATE EXTENSION pg_fraud` line is
dropped there. A comment line just above a block changes that:
  <!-- doc-test: fresh -->          the block runs in an empty database (it sets everything up)
  <!-- doc-test: skip: reason -->   the block is not run (the reason is printed)
A block passes when psql runs all of it with ON_ERROR_STOP. Prints "N passed, N failed".
Besides running, the prelude's views hold rows (an example over an empty view would pass by
saying nothing).
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PRELUDE = """
CREATE EXTENSION pg_fraud;
SET client_min_messages = warning;
CREATE TABLE history AS SELECT * FROM fraud_generate_transactions(20000, 1, 0.02, now() - interval '12 days');  -- ~9 days
SELECT version FROM train_fraud_model('history', 'is_fraud', 'default', '{"exclude": ["id", "account_id", "device_id"]}');
SELECT version FROM train_fraud_model('history', 'is_fraud', 'default', '{"exclude": ["id", "account_id", "device_id"], "l2": 2}');
CREATE TABLE transactions (id bigserial PRIMARY KEY, account_id integer, merchant_category text, country text,
                           channel text, device_id text, amount numeric, created_at timestamptz, is_fraud boolean);
SELECT fraud_attach('transactions', 'default', '{"add_columns": true}');
INSERT INTO transactions (account_id, merchant_category, country, channel, device_id, amount, created_at, is_fraud)
SELECT account_id, merchant_category, country, channel, device_id, amount, created_at, is_fraud
  FROM fraud_generate_transactions(2000, 2, 0.05, now() - interval '3 days', 1);  -- ~1.5 days
CREATE VIEW last_week AS SELECT * FROM transactions WHERE created_at >= now() - interval '7 days';
CREATE VIEW last_month AS SELECT * FROM history WHERE created_at >= now() - interval '30 days';
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analyst') THEN CREATE ROLE analyst; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app') THEN CREATE ROLE app; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bi') THEN CREATE ROLE bi; END IF;
END $$;
"""


def blocks(path):
    """(line, marker, sql) of each ```sql block of a Markdown file."""
    lines = open(path).read().split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```sql":
            marker = lines[i - 1].strip() if i > 0 else ""
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            out.append((start, marker, "\n".join(body)))
        i += 1
    return out


def psql(db, sql):
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("SET client_min_messages = warning;\n" + sql + "\n")
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    return r.returncode, r.stderr.strip()


def main():
    passed = failed = 0
    subprocess.run(["dropdb", "--if-exists", "doc_prelude"], capture_output=True)
    subprocess.run(["createdb", "doc_prelude"], check=True)
    code, err = psql("doc_prelude", PRELUDE + """
DO $$ BEGIN
  IF (SELECT count(*) FROM last_week) < 1000 OR (SELECT count(*) FROM last_month) < 1000 THEN
    RAISE EXCEPTION 'the prelude''s last_week and last_month must hold rows';
  END IF;
END $$;""")
    if code != 0:
        print("FAIL the examples' prelude does not run: " + err[:300])
        print("0 passed, 1 failed")
        sys.exit(1)
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    n = 0
    for path in files:
        name = os.path.relpath(path, ROOT)
        for line, marker, sql in blocks(path):
            where = f"{name}:{line}"
            skip = re.match(r"<!-- doc-test: skip: (.*) -->", marker)
            if skip:
                print(f"skip {where}: {skip.group(1)}")
                continue
            n += 1
            db = f"doc_example_{n}"
            fresh = marker == "<!-- doc-test: fresh -->"
            subprocess.run(["dropdb", "--if-exists", db], capture_output=True)
            subprocess.run(["createdb", "-T", "template1" if fresh else "doc_prelude", db], check=True)
            if not fresh:
                sql = re.sub(r"(?im)^CREATE EXTENSION pg_fraud;\s*$", "", sql)
            code, err = psql(db, sql)
            subprocess.run(["dropdb", db], capture_output=True)
            first = sql.strip().split("\n")[0][:70]
            if code == 0:
                print(f"ok   {where} runs ({first})")
                passed += 1
            else:
                print(f"FAIL {where} ({first}): {err[:400]}")
                failed += 1
    subprocess.run(["dropdb", "doc_prelude"], capture_output=True)
    # Every relative link names a file of the repository (and an anchor of it, when given).
    broken = []
    for path in files + [os.path.join(ROOT, p) for p in ("CONTRIBUTING.md", "CHANGELOG.md", "test/README.md")]:
        text = open(path).read()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"https?://", target):
                continue
            file, _, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
            if not os.path.exists(full):
                broken.append(f"{os.path.relpath(path, ROOT)} -> {target}")
            elif anchor and full.endswith(".md"):
                slugs = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
                         for h in re.findall(r"(?m)^#+ (.*)$", open(full).read())}
                if anchor not in slugs:
                    broken.append(f"{os.path.relpath(path, ROOT)} -> {target}")
    if broken:
        print("FAIL links that name no file or heading: " + "; ".join(broken[:10]))
        failed += 1
    else:
        print("ok   every relative link of the README, docs/, CONTRIBUTING, CHANGELOG and test/README names a file (and heading) that exists")
        passed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
