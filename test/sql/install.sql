-- The extension's objects: tables kept by pg_dump, a comment on every function, no PUBLIC admin.
SELECT extname, extrelocatable, extversion FROM pg_extension WHERE extname = 'pg_fraud';

-- fraud_models and fraud_rules exist, are empty, and are registered as configuration tables.
SELECT count(*) AS models FROM fraud_models;
SELECT count(*) AS rules FROM fraud_rules;
SELECT c.relname
  FROM pg_extension e, unnest(e.extconfig) AS cfg(oid) JOIN pg_class c ON c.oid = cfg.oid
 WHERE e.extname = 'pg_fraud' ORDER BY 1;

-- Every function of the extension has a comment.
SELECT p.oid::regprocedure AS function_without_comment
  FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid AND d.classid = 'pg_proc'::regclass
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_fraud') AND d.deptype = 'e'
   AND obj_description(p.oid, 'pg_proc') IS NULL;

-- Scoring functions are parallel safe; administrative ones are not executable by PUBLIC.
SELECT p.oid::regprocedure, p.proparallel, p.provolatile, p.proisstrict
  FROM pg_proc p WHERE p.proname = 'fraud_score' ORDER BY 1::text;
SELECT p.oid::regprocedure AS function, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p WHERE p.proname IN ('fraud_import_model', 'fraud_export_model') ORDER BY 1::text;

-- One active version per model name, enforced by the table.
INSERT INTO fraud_models (name, version, document, intercept, threshold, active)
VALUES ('m', 1, '{}', 0, 0.5, true);
INSERT INTO fraud_models (name, version, document, intercept, threshold, active)
VALUES ('m', 2, '{}', 0, 0.5, true);

-- A rule's predicate is a jsonpath: an invalid one is refused when the rule is created (and
-- a key no feature or column has is warned about: model m has no features).
INSERT INTO fraud_rules (model, name, predicate) VALUES ('m', 'big', '$.amount >= 900');
INSERT INTO fraud_rules (model, name, predicate) VALUES ('m', 'broken', '$.amount >>= 900');
INSERT INTO fraud_rules (model, name, predicate, action) VALUES ('m', 'odd', '$.x == 1', 'block');
SELECT model, name, predicate, action, enabled FROM fraud_rules;
-- Deleting the last version of a model deletes its rules.
DELETE FROM fraud_models;
SELECT count(*) AS rules_left FROM fraud_rules;
