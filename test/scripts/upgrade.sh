#!/usr/bin/env bash
# ALTER EXTENSION pg_fraud UPDATE from every released version (every sql/pg_fraud--X.sql but
# the default): with the new library, the old version still trains and scores; the update
# keeps models, rules and attached tables, scores stay identical, and the updated database
# has exactly the objects of a fresh install (member objects with their definitions,
# comments and privileges, the tables' constraints, indexes and triggers).
set -uo pipefail
cd "$(dirname "$0")/../.."
passed=0 failed=0
check() { if eval "$2"; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi; }
q() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

current=$(sed -nE "s/^default_version = '(.*)'/\1/p" pg_fraud.control)

# Every member object of pg_fraud, one line each, in a form that does not depend on OIDs.
read -r -d '' OBJECTS <<'SQL'
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'pg_fraud'),
members AS (
  SELECT d.classid, d.objid FROM pg_depend d, ext
   WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e')
SELECT pg_describe_object(m.classid, m.objid, 0) || ' | ' ||
       coalesce(obj_description(m.objid, c.relname), '-') || ' | ' ||
       coalesce(CASE c.relname
         WHEN 'pg_proc' THEN (SELECT concat_ws(' ', p.prokind, p.provolatile, p.proparallel, p.prosecdef, p.proisstrict,
                                               pg_get_function_result(p.oid), p.proconfig::text, p.proacl::text,
                                               md5(p.prosrc), p.probin,
                                               (SELECT concat_ws(' ', a.aggtransfn, a.aggcombinefn, a.aggserialfn,
                                                                 a.aggdeserialfn, a.aggfinalfn, a.aggfinalmodify,
                                                                 format_type(a.aggtranstype, NULL))
                                                  FROM pg_aggregate a WHERE a.aggfnoid = p.oid))
                                FROM pg_proc p WHERE p.oid = m.objid)
         WHEN 'pg_class' THEN (SELECT concat_ws(' ', r.relkind, r.relacl::text, r.relrowsecurity,
                 (SELECT string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod) || ':' || a.attnotnull
                                    || ':' || a.attidentity::text || ':' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''),
                                    ', ' ORDER BY a.attnum)
                    FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                   WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped),
                 (SELECT string_agg(col_description(r.oid, a.attnum), ', ' ORDER BY a.attnum)
                    FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0),
                 (SELECT string_agg(pg_get_constraintdef(k.oid), ', ' ORDER BY k.conname)
                    FROM pg_constraint k WHERE k.conrelid = r.oid),
                 (SELECT string_agg(pg_get_indexdef(i.indexrelid), ', ' ORDER BY 1)
                    FROM pg_index i WHERE i.indrelid = r.oid),
                 (SELECT string_agg(pg_get_triggerdef(t.oid), ', ' ORDER BY t.tgname)
                    FROM pg_trigger t WHERE t.tgrelid = r.oid AND NOT t.tgisinternal),
                 CASE WHEN r.relkind = 'v' THEN pg_get_viewdef(r.oid) END)
               FROM pg_class r WHERE r.oid = m.objid)
         WHEN 'pg_type' THEN (SELECT format_type(t.oid, NULL) || ' ' || t.typtype::text FROM pg_type t WHERE t.oid = m.objid)
       END, '')
  FROM members m JOIN pg_class c ON c.oid = m.classid
UNION ALL
SELECT 'config: ' || (SELECT string_agg(x::regclass::text, ', ' ORDER BY x::regclass::text) FROM unnest(e.extconfig) x)
       || ' ' || coalesce(e.extcondition::text, '')
  FROM pg_extension e WHERE e.extname = 'pg_fraud'
ORDER BY 1;
SQL

read -r -d '' SETUP <<'SQL'
CREATE TABLE tx AS
SELECT i AS id, (i * 37 % 1000)::float8 AS amount, (ARRAY['US', 'GB', 'NG'])[1 + i % 3] AS country,
       (i * 7919 % 100) < 8 + (i * 37 % 1000) / 100 AS is_fraud
  FROM generate_series(1, 3000) i;
SELECT version FROM train_fraud_model('tx', options => '{"exclude": ["id"], "holdout": 0}');
INSERT INTO fraud_rules (model, name, predicate, action) VALUES ('default', 'big', '$.amount >= 900', 'flag');
CREATE TABLE live (id int, amount float8, country text, is_flagged boolean, fraud_score float8, model_version int);
SELECT fraud_attach('live', 'default', '{"version_column": "model_version"}');
INSERT INTO live (id, amount, country) VALUES (1, 950, 'US'), (2, 10, 'GB');
CREATE TABLE scores_before AS SELECT id, fraud_score(to_jsonb(t) - 'is_fraud') AS s FROM tx t;
CREATE TABLE documents_before AS SELECT name, version, document FROM fraud_models;
SQL

for file in sql/pg_fraud--*.sql; do
  version=$(basename "$file" .sql | sed -E 's/^pg_fraud--//')
  case "$version" in *--*) continue ;; esac           # an update script, not a release
  [ "$version" = "$current" ] && continue
  old="upgrade_from_${version//./_}" fresh="upgrade_fresh"
  dropdb --if-exists "$old" >/dev/null 2>&1; dropdb --if-exists "$fresh" >/dev/null 2>&1
  createdb "$old" && createdb "$fresh"
  q "$old" "CREATE EXTENSION pg_fraud VERSION '$version'" >/dev/null
  check "$version: the new library trains, scores and flags with $version's objects" \
    "q $old \"\$SETUP\" >/dev/null 2>build/upgrade-setup.err"
  [ -s build/upgrade-setup.err ] && cat build/upgrade-setup.err
  check "$version: ALTER EXTENSION pg_fraud UPDATE reaches $current" \
    "q $old 'ALTER EXTENSION pg_fraud UPDATE' && [ \"\$(q $old \"SELECT extversion FROM pg_extension WHERE extname = 'pg_fraud'\")\" = '$current' ]"
  check "$version: model documents are kept unchanged" \
    "[ \"\$(q $old 'SELECT count(*) FROM fraud_models m JOIN documents_before b USING (name, version) WHERE m.document = b.document')\" = \"\$(q $old 'SELECT count(*) FROM documents_before')\" ]"
  check "$version: scores are identical after the update" \
    "[ \"\$(q $old \"SELECT count(*) FROM tx t JOIN scores_before b USING (id) WHERE fraud_score(to_jsonb(t) - 'is_fraud') = b.s\")\" = 3000 ]"
  check "$version: the attached table still flags (rule and model)" \
    "q $old \"INSERT INTO live (id, amount, country) VALUES (3, 990, 'NG')\" && [ \"\$(q $old 'SELECT is_flagged FROM live WHERE id = 3')\" = t ] && [ \"\$(q $old 'SELECT count(*) FROM live WHERE fraud_score IS NOT NULL')\" = 3 ]"
  check "$version: training after the update gives the same model as before it" \
    "[ \"\$(q $old \"SELECT round(abs(m.intercept - b.intercept)::numeric, 6) FROM train_fraud_model('tx', 'is_fraud', 'default', '{\\\"exclude\\\": [\\\"id\\\"], \\\"holdout\\\": 0}') m, fraud_models b WHERE b.name = 'default' AND b.version = 1\")\" = 0.000000 ]"
  q "$fresh" "CREATE EXTENSION pg_fraud" >/dev/null
  q "$old" "$OBJECTS" >"build/upgrade-$version.objects" && q "$fresh" "$OBJECTS" >"build/upgrade-fresh.objects"
  objects=$(wc -l <build/upgrade-fresh.objects)
  check "$version: the updated extension has the objects of a fresh $current install ($objects objects)" \
    "[ $objects -ge 40 ] && diff build/upgrade-$version.objects build/upgrade-fresh.objects"
  dropdb "$old"; dropdb "$fresh"
done
[ $((passed + failed)) -gt 0 ] || { echo "FAIL no released version to update from"; failed=1; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
