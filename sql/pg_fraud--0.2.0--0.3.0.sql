-- pg_fraud 0.2.0 -> 0.3.0: per-entity history features (training through a window function,
-- lookups at insert and scoring time), evaluation over history rows as of their own time,
-- fraud_attach creates the history index, and the generator returns what an application has.
\echo Use "ALTER EXTENSION pg_fraud UPDATE TO '0.3.0'" to load this file. \quit

-----------------------------------------------------------------------------
-- History features
-----------------------------------------------------------------------------

CREATE FUNCTION @extschema@.fraud_history_window(spec text, entity_null boolean, "time" anyelement,
                                                 amounts float8[], distinct_values text[], new_values text[])
    RETURNS float8[]
    LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'fraud_history_window';
COMMENT ON FUNCTION @extschema@.fraud_history_window(text, boolean, anyelement, float8[], text[], text[]) IS
    'pg_fraud internal: history features of each row from its entity''s earlier rows (OVER PARTITION BY entity ORDER BY time), used by training and evaluation';

CREATE FUNCTION @extschema@.fraud_history_source(source regclass, model text DEFAULT 'default')
    RETURNS text
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'fraud_history_source';
-- JSON text, so that a quoted literal stays unambiguous beside the row form (as fraud_score).
CREATE FUNCTION @extschema@.fraud_explain(tx text, model text DEFAULT 'default')
    RETURNS TABLE(feature text, value text, contribution float8)
    LANGUAGE C STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'fraud_explain_text';
COMMENT ON FUNCTION @extschema@.fraud_explain(text, text) IS
    'Each feature''s contribution to the logit of a transaction given as JSON text, largest first';
CREATE FUNCTION @extschema@.fraud_explain(tx anyelement) RETURNS TABLE(feature text, value text, contribution float8)
    LANGUAGE C STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'fraud_explain_row';
COMMENT ON FUNCTION @extschema@.fraud_explain(anyelement) IS
    'Each feature''s contribution to the logit of a table row under model ''default'' (history as of the row''s time, from its table)';
CREATE FUNCTION @extschema@.fraud_explain(tx anyelement, model text) RETURNS TABLE(feature text, value text, contribution float8)
    LANGUAGE C STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'fraud_explain_row';
COMMENT ON FUNCTION @extschema@.fraud_explain(anyelement, text) IS
    'Each feature''s contribution to the logit of a table row under the active version of a model (history as of the row''s time, from its table)';

COMMENT ON FUNCTION @extschema@.fraud_history_source(regclass, text) IS
    'The FROM item evaluation reads a source through: the table itself, or for a model with history features a query giving each row its history as of its own time';

CREATE FUNCTION @extschema@.fraud_prepare_history(tab regclass, model text, create_index boolean)
    RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    history jsonb;
    col text;
    entity text;
    covered text;
BEGIN
    SELECT m.document -> 'history' INTO history FROM @extschema@.fraud_models AS m
     WHERE m.name OPERATOR(pg_catalog.=) model AND m.active;
    IF history IS NULL THEN
        RETURN;
    END IF;
    FOR col IN SELECT jsonb_array_elements_text(history -> 'by') UNION ALL SELECT history ->> 'time'
               UNION ALL SELECT jsonb_array_elements_text(history -> 'amounts')
               UNION ALL SELECT jsonb_array_elements_text(history -> 'distinct')
               UNION ALL SELECT jsonb_array_elements_text(history -> 'new') LOOP
        IF NOT EXISTS (SELECT FROM pg_attribute AS a WHERE a.attrelid = tab AND a.attnum > 0 AND NOT a.attisdropped
                                                       AND a.attname OPERATOR(pg_catalog.=) col) THEN
            RAISE EXCEPTION 'table % has no column "%" for the model''s history features', tab, col
                USING ERRCODE = 'undefined_column';
        END IF;
    END LOOP;
    FOR entity IN SELECT jsonb_array_elements_text(history -> 'by') WHERE create_index LOOP
        -- A valid B-tree whose first two keys are (entity, time), the entity in its column's
        -- collation and the time ascending in its type's default order, serves (the lookups
        -- read an entity's rows in time order); otherwise create one.
        IF NOT EXISTS (SELECT FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
                                            JOIN pg_opclass AS o ON o.oid = i.indclass[1]
                        WHERE i.indrelid = tab AND i.indnkeyatts >= 2 AND i.indpred IS NULL AND i.indexprs IS NULL
                          AND i.indisvalid AND c.relam = (SELECT am.oid FROM pg_am AS am WHERE am.amname = 'btree')
                          AND o.opcdefault AND i.indoption[1] & 1 = 0
                          AND NOT EXISTS (SELECT FROM pg_attribute AS a, generate_series(0, 1) AS k
                                           WHERE a.attrelid = tab AND a.attnum = i.indkey[k]
                                             AND a.attcollation <> i.indcollation[k])
                          AND i.indkey[0] = (SELECT a.attnum FROM pg_attribute AS a WHERE a.attrelid = tab
                                                AND a.attname OPERATOR(pg_catalog.=) entity)
                          AND i.indkey[1] = (SELECT a.attnum FROM pg_attribute AS a WHERE a.attrelid = tab
                                                AND a.attname OPERATOR(pg_catalog.=) (history ->> 'time'))) THEN
            -- The amount, distinct and new columns ride along (INCLUDE): lookups read the index
            -- alone where the visibility map allows, and a value met in the window needs no
            -- look-up over the whole history.
            SELECT string_agg(DISTINCT format('%I', c), ', ') INTO covered
              FROM (SELECT jsonb_array_elements_text(history -> 'amounts') UNION ALL
                    SELECT jsonb_array_elements_text(history -> 'distinct') UNION ALL
                    SELECT jsonb_array_elements_text(history -> 'new')) AS x(c);
            EXECUTE format('CREATE INDEX ON %s (%I, %I)%s', tab, entity, history ->> 'time',
                           CASE WHEN covered IS NULL THEN '' ELSE ' INCLUDE (' || covered || ')' END);
            RAISE NOTICE 'fraud_attach: created an index on %(%, %) for history lookups', tab, entity, history ->> 'time';
        END IF;
        -- "new" columns are looked up over the entity's whole history: (entity, column, time),
        -- a B-tree in the columns' collations.
        FOR col IN SELECT jsonb_array_elements_text(history -> 'new') LOOP
            IF NOT EXISTS (SELECT FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
                            WHERE i.indrelid = tab AND i.indnkeyatts >= 2 AND i.indpred IS NULL AND i.indexprs IS NULL
                              AND i.indisvalid AND c.relam = (SELECT am.oid FROM pg_am AS am WHERE am.amname = 'btree')
                              AND i.indkey[0] = (SELECT a.attnum FROM pg_attribute AS a WHERE a.attrelid = tab
                                                    AND a.attname OPERATOR(pg_catalog.=) entity)
                              AND i.indkey[1] = (SELECT a.attnum FROM pg_attribute AS a WHERE a.attrelid = tab
                                                    AND a.attname OPERATOR(pg_catalog.=) col)
                              AND NOT EXISTS (SELECT FROM pg_attribute AS a, generate_series(0, 1) AS k
                                               WHERE a.attrelid = tab AND a.attnum = i.indkey[k]
                                                 AND a.attcollation <> i.indcollation[k])) THEN
                EXECUTE format('CREATE INDEX ON %s (%I, %I, %I)', tab, entity, col, history ->> 'time');
                RAISE NOTICE 'fraud_attach: created an index on %(%, %, %) for history lookups', tab, entity, col,
                    history ->> 'time';
            END IF;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_prepare_history(regclass, text, boolean) IS
    'pg_fraud internal: checks an attached table has the history columns of the model, and indexes on (entity, time) and (entity, new column, time), creating them when missing';
-- Callable by whoever may call fraud_attach: it creates indexes as its caller, who must own the table.

-----------------------------------------------------------------------------
-- 0.3.0: the live path. Alerts come from an AFTER trigger (rows really stored), an UPDATE of
-- a column the model reads is scored again (or clears the verdict), attach checks column
-- types, and the triggers are made from fraud_attachments by one function.
-----------------------------------------------------------------------------
ALTER TABLE @extschema@.fraud_attachments ADD COLUMN options jsonb NOT NULL DEFAULT '{}';
COMMENT ON COLUMN @extschema@.fraud_attachments.options IS
    'pg_fraud: the attach options the triggers are made from (history_column, history_relation, on_update)';

CREATE FUNCTION @extschema@.fraud_alert_trigger() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'fraud_alert_trigger';
COMMENT ON FUNCTION @extschema@.fraud_alert_trigger() IS
    'pg_fraud internal: AFTER row trigger sending the NOTIFY of a stored flagged row';

CREATE FUNCTION @extschema@.fraud_check_columns(tab regclass, model text, columns jsonb DEFAULT '{}') RETURNS void
    LANGUAGE C STRICT AS 'MODULE_PATHNAME', 'fraud_check_columns';
COMMENT ON FUNCTION @extschema@.fraud_check_columns(regclass, text, jsonb) IS
    'pg_fraud internal: raises the error an insert would raise when a column of the table cannot be read as its feature of the model';

-- (Re)creates the triggers of an attached table from its fraud_attachments row: fraud_flag
-- (BEFORE INSERT OR UPDATE: scores), and with a notify channel fraud_alert (AFTER INSERT of a
-- flagged row) and fraud_alert_update (AFTER UPDATE that flags a row not flagged before).
-- An attached Citus distributed table. Its triggers go to every shard (Citus needs
-- citus.enable_unsafe_triggers for that); a model with history features needs the table
-- distributed by its entity column (each entity's history is then on one shard); alerts
-- cannot be NOTIFYs on the workers, so with a notify channel they queue in an outbox, a
-- distributed table colocated with the attached one (<table>_fraud_alerts in its schema),
-- which fraud_relay_alerts() empties on the coordinator into NOTIFYs.
CREATE FUNCTION @extschema@.fraud_install_triggers(tab regclass) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a @extschema@.fraud_attachments;
    args text;
    method "char";
    distribution text := '';
    outbox text := '';
    entities jsonb;
BEGIN
    SELECT * INTO a FROM @extschema@.fraud_attachments AS x WHERE x.tab OPERATOR(pg_catalog.=) fraud_install_triggers.tab;
    IF a.tab IS NULL THEN
        RAISE EXCEPTION 'table % is not attached', tab USING ERRCODE = 'undefined_object';
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') THEN
        EXECUTE 'SELECT p.partmethod, CASE WHEN p.partmethod OPERATOR(pg_catalog.=) ''h'' '
                'THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END '
                'FROM pg_catalog.pg_dist_partition AS p WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1'
            INTO method, distribution USING tab;
    END IF;
    IF method IS NOT NULL AND method OPERATOR(pg_catalog.<>) 'h' THEN
        RAISE EXCEPTION 'fraud_attach supports Citus distributed tables, not reference or Citus-local tables: %', tab
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'A reference table''s trigger would score each row once per node.';
    END IF;
    IF method IS NOT NULL THEN
        SELECT m.document -> 'history' -> 'by' INTO entities FROM @extschema@.fraud_models AS m
         WHERE m.name OPERATOR(pg_catalog.=) a.model AND m.active;
        IF entities IS NOT NULL AND entities OPERATOR(pg_catalog.<>) pg_catalog.jsonb_build_array(distribution) THEN
            RAISE EXCEPTION 'model "%" reads the history of % by %, but % is distributed by %', a.model, tab, entities, tab, distribution
                USING ERRCODE = 'feature_not_supported',
                      HINT = 'Distribute the table by the history''s one entity column: each entity''s rows are then on one shard, where the trigger reads them.';
        END IF;
        IF COALESCE(a.options ->> 'history_relation', '') OPERATOR(pg_catalog.<>) '' THEN
            RAISE EXCEPTION 'history_relation is not supported on the Citus distributed table %', tab
                USING ERRCODE = 'feature_not_supported';
        END IF;
        PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
        IF a.notify OPERATOR(pg_catalog.<>) '' THEN
            SELECT format('%I.%I', n.nspname, pg_catalog.left(c.relname, 50) || '_fraud_alerts') INTO outbox
              FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
             WHERE c.oid OPERATOR(pg_catalog.=) tab;
            IF pg_catalog.to_regclass(outbox) IS NULL THEN
                EXECUTE format('CREATE TABLE %s (distribution_value %s, channel text NOT NULL, payload text NOT NULL, '
                               'queued_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp())', outbox,
                               (SELECT pg_catalog.format_type(t.atttypid, t.atttypmod) FROM pg_catalog.pg_attribute AS t
                                 WHERE t.attrelid OPERATOR(pg_catalog.=) tab AND t.attname OPERATOR(pg_catalog.=) distribution));
                EXECUTE format('COMMENT ON TABLE %s IS %L', outbox,
                               format('pg_fraud: alerts of %s queued on its shards until fraud_relay_alerts() sends them', tab));
                EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''distribution_value'', colocate_with => $2)'
                    USING outbox::regclass, tab::text;
            END IF;
        END IF;
        UPDATE @extschema@.fraud_attachments AS x SET options = x.options OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('outbox', outbox)
         WHERE x.tab OPERATOR(pg_catalog.=) fraud_install_triggers.tab;
    END IF;
    args := format('%L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L', a.model, a.flag_column, a.score_column, a.version_column,
                   a.rules_column, a.notify, COALESCE(a.options ->> 'history_column', ''),
                   COALESCE(a.options ->> 'history_relation', ''), COALESCE(a.options ->> 'on_update', 'rescore'),
                   COALESCE(a.options -> 'columns', '{}')::text, COALESCE(a.options ->> 'on_error', 'fail'),
                   COALESCE(a.options ->> 'rule_errors_column', ''), outbox, COALESCE(distribution, ''));
    IF EXISTS (SELECT FROM pg_catalog.pg_trigger AS g WHERE g.tgrelid = tab AND g.tgname = 'fraud_flag') THEN  -- no NOTICE
        EXECUTE format('DROP TRIGGER fraud_flag ON %s', tab);
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_trigger AS g WHERE g.tgrelid = tab AND g.tgname = 'fraud_alert') THEN  -- no NOTICE
        EXECUTE format('DROP TRIGGER fraud_alert ON %s', tab);
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_trigger AS g WHERE g.tgrelid = tab AND g.tgname = 'fraud_alert_update') THEN  -- no NOTICE
        EXECUTE format('DROP TRIGGER fraud_alert_update ON %s', tab);
    END IF;
    EXECUTE format('CREATE TRIGGER fraud_flag BEFORE INSERT OR UPDATE ON %s FOR EACH ROW '
                   'EXECUTE FUNCTION @extschema@.fraud_flag_trigger(%s)', tab, args);
    IF a.notify <> '' THEN
        EXECUTE format('CREATE TRIGGER fraud_alert AFTER INSERT ON %s FOR EACH ROW WHEN (NEW.%I IS TRUE) '
                       'EXECUTE FUNCTION @extschema@.fraud_alert_trigger(%s)', tab, a.flag_column, args);
        EXECUTE format('CREATE TRIGGER fraud_alert_update AFTER UPDATE ON %s FOR EACH ROW '
                       'WHEN (NEW.%I IS TRUE AND OLD.%I IS NOT TRUE) '
                       'EXECUTE FUNCTION @extschema@.fraud_alert_trigger(%s)', tab, a.flag_column, a.flag_column, args);
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_install_triggers(regclass) IS
    'pg_fraud internal: (re)creates the fraud_flag and fraud_alert triggers of an attached table from fraud_attachments';
-- Not revoked: it runs as its caller (fraud_attach's), who must own the table.

CREATE OR REPLACE FUNCTION @extschema@.fraud_detach(tab regclass) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    name text;
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') THEN
        -- A Citus distributed table's triggers are dropped on its shards too.
        PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    END IF;
    FOR name IN SELECT t.tgname FROM pg_trigger AS t
                 WHERE t.tgrelid = tab AND t.tgname IN ('fraud_flag', 'fraud_alert', 'fraud_alert_update') AND NOT t.tgisinternal LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', name, tab);
    END LOOP;
    -- Kept for the BI views (fraud_detached_tables, made below): the rows scored while attached are still the table's history.
    INSERT INTO @extschema@.fraud_detached_tables AS d
    SELECT a.*, pg_catalog.now() FROM @extschema@.fraud_attachments AS a WHERE a.tab OPERATOR(pg_catalog.=) fraud_detach.tab
    ON CONFLICT ON CONSTRAINT fraud_detached_tables_pkey DO UPDATE
       SET model = EXCLUDED.model, flag_column = EXCLUDED.flag_column, score_column = EXCLUDED.score_column,
           version_column = EXCLUDED.version_column, rules_column = EXCLUDED.rules_column,
           time_column = EXCLUDED.time_column, notify = EXCLUDED.notify, attached_at = EXCLUDED.attached_at,
           options = EXCLUDED.options, detached_at = EXCLUDED.detached_at;
    DELETE FROM @extschema@.fraud_attachments AS a WHERE a.tab OPERATOR(pg_catalog.=) fraud_detach.tab;
END
$$;

-- 0.3.0: a model attached to a table keeps an active version; a model's rules go when its
-- last version goes; rules that can never fire are refused (or warned about).
CREATE FUNCTION @extschema@.fraud_models_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    attached text;
BEGIN
    IF EXISTS (SELECT FROM @extschema@.fraud_models AS m WHERE m.name OPERATOR(pg_catalog.=) OLD.name AND m.active) THEN
        RETURN NULL;
    END IF;
    SELECT string_agg(a.tab::text, ', ' ORDER BY a.tab::text) INTO attached FROM @extschema@.fraud_attachments AS a
     WHERE a.model OPERATOR(pg_catalog.=) OLD.name AND EXISTS (SELECT FROM pg_class AS c WHERE c.oid = a.tab);
    IF attached IS NOT NULL THEN
        RAISE EXCEPTION 'model "%" is attached to %: it must keep an active version', OLD.name, attached
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'Detach the table with fraud_detach(table) first, or activate another version with fraud_activate_model(model, version); fraud_retire_model(model) retires a detached model.';
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.fraud_models AS m WHERE m.name OPERATOR(pg_catalog.=) OLD.name) THEN
        DELETE FROM @extschema@.fraud_rules AS r WHERE r.model OPERATOR(pg_catalog.=) OLD.name;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_models_guard() IS
    'pg_fraud internal: at commit, refuses to leave an attached model without an active version, and deletes the rules of a model with no version left';
-- Deferred to the end of the transaction: fraud_activate_model deactivates, then activates.
CREATE CONSTRAINT TRIGGER fraud_models_guard AFTER DELETE OR UPDATE ON @extschema@.fraud_models
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION @extschema@.fraud_models_guard();

CREATE FUNCTION @extschema@.fraud_models_truncate_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT FROM @extschema@.fraud_attachments AS a WHERE EXISTS (SELECT FROM pg_class AS c WHERE c.oid = a.tab)) THEN
        RAISE EXCEPTION 'fraud_models cannot be truncated while tables are attached' USING ERRCODE = 'dependent_objects_still_exist',
            HINT = 'Detach them with fraud_detach(table) first.';
    END IF;
    DELETE FROM @extschema@.fraud_rules;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_models_truncate_guard() IS
    'pg_fraud internal: refuses TRUNCATE of fraud_models while tables are attached, and empties fraud_rules with it';
CREATE TRIGGER fraud_models_truncate_guard BEFORE TRUNCATE ON @extschema@.fraud_models
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.fraud_models_truncate_guard();

CREATE FUNCTION @extschema@.fraud_retire_model(model text) RETURNS integer
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    attached text;
    versions integer;
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('pg_fraud.model:' || model));
    SELECT count(*) INTO versions FROM @extschema@.fraud_models AS m WHERE m.name OPERATOR(pg_catalog.=) fraud_retire_model.model;
    IF versions = 0 THEN
        RAISE EXCEPTION 'model "%" does not exist', model USING ERRCODE = 'undefined_object';
    END IF;
    SELECT string_agg(a.tab::text, ', ' ORDER BY a.tab::text) INTO attached FROM @extschema@.fraud_attachments AS a
     WHERE a.model OPERATOR(pg_catalog.=) fraud_retire_model.model AND EXISTS (SELECT FROM pg_class AS c WHERE c.oid = a.tab);
    IF attached IS NOT NULL THEN
        RAISE EXCEPTION 'model "%" is attached to %', model, attached USING ERRCODE = 'dependent_objects_still_exist',
            HINT = 'Detach the table with fraud_detach(table) first, or attach it to another model.';
    END IF;
    DELETE FROM @extschema@.fraud_rules AS r WHERE r.model OPERATOR(pg_catalog.=) fraud_retire_model.model;
    UPDATE @extschema@.fraud_models AS m SET active = false WHERE m.name OPERATOR(pg_catalog.=) fraud_retire_model.model AND m.active;
    RETURN versions;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.fraud_retire_model(text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.fraud_retire_model(text) IS
    'Retires a model that no table is attached to: its rules are deleted and no version stays active (the versions are kept for audit; delete them from fraud_models to remove them)';

CREATE FUNCTION @extschema@.fraud_rules_check() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key text;
BEGIN
    IF NOT EXISTS (SELECT FROM @extschema@.fraud_models AS m WHERE m.name OPERATOR(pg_catalog.=) NEW.model) THEN
        RAISE EXCEPTION 'rule "%" names model "%", which does not exist', NEW.name, NEW.model USING ERRCODE = 'undefined_object',
            HINT = 'Rules belong to a model: train or import it first (a data-only restore loads fraud_models before fraud_rules).';
    END IF;
    BEGIN
        -- A predicate gives true, false or unknown on any document; a plain path gives items.
        PERFORM pg_catalog.jsonb_path_match('{}'::jsonb, NEW.predicate);
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'rule "%" is not a predicate: its path must give true or false', NEW.name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Write a comparison such as $.amount > 500 (a filter such as $.amount ? (@ > 500) selects items and never fires).';
    END;
    FOR key IN SELECT DISTINCT (pg_catalog.regexp_matches(NEW.predicate::text, '\$\."?([^".\[\] ()]+)"?', 'g'))[1] LOOP
        CONTINUE WHEN EXISTS (SELECT FROM @extschema@.fraud_models AS m, pg_catalog.jsonb_array_elements(m.document -> 'features') AS f
                               WHERE m.name OPERATOR(pg_catalog.=) NEW.model AND f ->> 'name' OPERATOR(pg_catalog.=) key)
                   OR EXISTS (SELECT FROM @extschema@.fraud_attachments AS a JOIN pg_attribute AS att ON att.attrelid = a.tab
                               WHERE a.model OPERATOR(pg_catalog.=) NEW.model AND att.attnum > 0 AND NOT att.attisdropped
                                 AND att.attname OPERATOR(pg_catalog.=) key);
        IF COALESCE(pg_catalog.current_setting('pg_fraud.strict_rules', true), '') IN ('on', 'true') THEN
            RAISE EXCEPTION 'rule "%" reads key "%", which no feature of model "%" and no column of its attached tables has',
                NEW.name, key, NEW.model USING ERRCODE = 'undefined_column';
        END IF;
        RAISE WARNING 'rule "%" reads key "%", which no feature of model "%" and no column of its attached tables has: it cannot fire on them',
            NEW.name, key, NEW.model USING HINT = 'Keys are case-sensitive. SET pg_fraud.strict_rules = on refuses such rules.';
    END LOOP;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_rules_check() IS
    'pg_fraud internal: refuses a rule of an unknown model or whose path is not a predicate, and warns about keys nothing has';
CREATE TRIGGER fraud_rules_check BEFORE INSERT OR UPDATE ON @extschema@.fraud_rules
    FOR EACH ROW EXECUTE FUNCTION @extschema@.fraud_rules_check();

-- 0.3.0: DDL that would break an attached table (dropping, renaming or retyping a column its
-- model reads or writes) is refused, naming the attachment.
CREATE FUNCTION @extschema@.fraud_check_attachment(tab regclass) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a @extschema@.fraud_attachments;
    wanted RECORD;
    column_type text;
BEGIN
    SELECT * INTO a FROM @extschema@.fraud_attachments AS x WHERE x.tab OPERATOR(pg_catalog.=) fraud_check_attachment.tab;
    IF a.tab IS NULL THEN
        RETURN;
    END IF;
    FOR wanted IN SELECT * FROM (VALUES (a.flag_column, ARRAY['boolean']),
                                        (a.score_column, ARRAY['double precision', 'real', 'numeric']),
                                        (a.version_column, ARRAY['integer', 'bigint']),
                                        (a.rules_column, ARRAY['text[]']),
                                        (COALESCE(a.options ->> 'history_column', ''), ARRAY['jsonb']),
                                        (COALESCE(a.options ->> 'rule_errors_column', ''), ARRAY['text[]'])) AS w(name, accepted)
                   WHERE w.name <> ''
    LOOP
        SELECT format_type(att.atttypid, NULL) INTO column_type FROM pg_attribute AS att
         WHERE att.attrelid = tab AND att.attname OPERATOR(pg_catalog.=) wanted.name AND att.attnum > 0 AND NOT att.attisdropped;
        IF column_type IS NULL THEN
            RAISE EXCEPTION 'table % has no column "%"', tab, wanted.name USING ERRCODE = 'undefined_column';
        ELSIF NOT column_type = ANY (wanted.accepted) THEN
            RAISE EXCEPTION 'column "%" of table % must be %', wanted.name, tab, array_to_string(wanted.accepted, ' or ')
                USING ERRCODE = 'datatype_mismatch';
        END IF;
    END LOOP;
    PERFORM @extschema@.fraud_check_columns(tab, a.model, COALESCE(a.options -> 'columns', '{}'));
    PERFORM @extschema@.fraud_prepare_history(tab, a.model, false);
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_check_attachment(regclass) IS
    'pg_fraud internal: raises the error inserts into an attached table would raise (a missing or mistyped feature, history or output column)';

CREATE FUNCTION @extschema@.fraud_ddl_guard() RETURNS event_trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cmd RECORD;
    a RECORD;
BEGIN
    FOR cmd IN SELECT DISTINCT c.objid FROM pg_event_trigger_ddl_commands() AS c
                WHERE c.classid = 'pg_class'::regclass LOOP
        FOR a IN SELECT x.tab, x.model FROM @extschema@.fraud_attachments AS x
                  WHERE x.tab OPERATOR(pg_catalog.=) cmd.objid
                     OR x.tab IN (SELECT i.inhrelid FROM pg_inherits AS i WHERE i.inhparent = cmd.objid) LOOP
            BEGIN
                PERFORM @extschema@.fraud_check_attachment(a.tab);
            EXCEPTION WHEN OTHERS THEN
                RAISE EXCEPTION 'this change would break the pg_fraud attachment of table % to model "%": %', a.tab, a.model, SQLERRM
                    USING ERRCODE = 'dependent_objects_still_exist',
                          HINT = 'Detach it first (fraud_detach), change the table, and attach it again; a feature can read a differently named column with the attach option {"columns": {"feature": "column"}}.';
            END;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_ddl_guard() IS
    'pg_fraud internal: event trigger refusing ALTER TABLE that breaks an attached table';
CREATE EVENT TRIGGER fraud_ddl_guard ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
    EXECUTE FUNCTION @extschema@.fraud_ddl_guard();

-- 0.3.0: fail-open attachments (on_error = 'null'): a row that cannot be scored is stored
-- unscored, with a WARNING, and recorded here.
CREATE TABLE @extschema@.fraud_scoring_failures (
    id        bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    tab       regclass NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    sqlstate  text NOT NULL,
    message   text NOT NULL,
    recorded_by name NOT NULL DEFAULT SESSION_USER
);
COMMENT ON TABLE @extschema@.fraud_scoring_failures IS
    'pg_fraud: rows stored unscored by an attachment with on_error = null (SQLSTATE and pg_fraud''s message, never a value)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.fraud_scoring_failures', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.fraud_scoring_failures_id_seq', '');
REVOKE ALL ON @extschema@.fraud_scoring_failures FROM PUBLIC;

CREATE FUNCTION @extschema@.fraud_record_failure(tab oid, sqlstate text, message text) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO @extschema@.fraud_scoring_failures (tab, sqlstate, message) VALUES (tab::regclass, sqlstate, message);
$$;
COMMENT ON FUNCTION @extschema@.fraud_record_failure(oid, text, text) IS
    'pg_fraud internal: called by the trigger of a fail-open attachment for each row it stored unscored';

CREATE VIEW @extschema@.fraud_scoring_failures_daily AS
SELECT f.tab::text AS table_name, pg_catalog.date_trunc('day', f.failed_at) AS day, f.sqlstate, f.message,
       pg_catalog.count(*) AS rows, pg_catalog.max(f.failed_at) AS last_failed_at
  FROM @extschema@.fraud_scoring_failures AS f
 GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW @extschema@.fraud_scoring_failures_daily IS
    'Rows stored unscored by fail-open attachments, per table, day and cause';

-- fraud_attach: history features have no column of their own; the history index is created.
CREATE OR REPLACE FUNCTION @extschema@.fraud_attach(tab regclass, model text DEFAULT 'default', options jsonb DEFAULT '{}')
    RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    flag_column text := COALESCE(options ->> 'flag_column', 'is_flagged');
    score_column text := COALESCE(options ->> 'score_column', 'fraud_score');
    version_column text := COALESCE(options ->> 'version_column', '');
    rules_column text := COALESCE(options ->> 'rules_column', '');
    channel text := COALESCE(options ->> 'notify', '');
    history_column text := COALESCE(options ->> 'history_column', '');
    rule_errors_column text := COALESCE(options ->> 'rule_errors_column', '');  -- 0.3.0
    history_relation text := '';
    add_columns boolean;
    unknown text;
    missing text;
    column_type text;
    wanted RECORD;
BEGIN
    IF tab IS NULL OR model IS NULL OR options IS NULL OR jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'fraud_attach needs a table, a model name and an options object'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT string_agg(k, ', ') INTO unknown FROM jsonb_object_keys(options) AS k
     WHERE k NOT IN ('flag_column', 'score_column', 'version_column', 'rules_column', 'notify', 'add_columns', 'time_column',
                     'history_column', 'history_relation', 'on_update', 'columns', 'on_error', 'rule_errors_column');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown fraud_attach option: %', unknown USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Options: flag_column, score_column, version_column, rules_column, notify, add_columns, time_column, history_column, history_relation, on_update, columns, on_error, rule_errors_column.';
    END IF;
    -- 0.2.0: option values are checked for their JSON type, and time_column for its column.
    SELECT string_agg(k, ', ') INTO unknown FROM jsonb_each(options) AS e(k, v)
     WHERE k NOT IN ('add_columns', 'columns') AND jsonb_typeof(v) NOT IN ('string', 'null');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'fraud_attach options must be strings (column and channel names): %', unknown
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(options -> 'add_columns') NOT IN ('boolean', 'null') THEN
        RAISE EXCEPTION 'fraud_attach option add_columns must be true or false' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    add_columns := COALESCE((options ->> 'add_columns')::boolean, false);
    -- 0.3.0: columns made by fraud_attach include the model version, so that the BI views can
    -- tell versions apart ({"version_column": ""} for none).
    IF add_columns AND NOT options ? 'version_column' THEN
        version_column := 'model_version';
    END IF;
    -- 0.3.0: features read from differently named columns, {"feature": "column"}.
    IF options ? 'columns' AND (jsonb_typeof(options -> 'columns') <> 'object'
                                OR EXISTS (SELECT FROM jsonb_each(options -> 'columns') AS c(k, v) WHERE jsonb_typeof(v) <> 'string')) THEN
        RAISE EXCEPTION 'fraud_attach option columns must map feature names to column names' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'For example {"columns": {"merchant": "merchant_name"}}.';
    END IF;
    -- 0.3.0: a row that cannot be scored fails its insert ('fail'), or is stored unscored ('null').
    IF COALESCE(options ->> 'on_error', 'fail') NOT IN ('fail', 'null') THEN
        RAISE EXCEPTION 'fraud_attach option on_error must be "fail" or "null"' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- 0.3.0: what an UPDATE of a column the model reads does to the row's verdict.
    IF COALESCE(options ->> 'on_update', 'rescore') NOT IN ('rescore', 'clear') THEN
        RAISE EXCEPTION 'fraud_attach option on_update must be "rescore" or "clear"' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF COALESCE(options ->> 'time_column', '') <> '' THEN
        SELECT format_type(a.atttypid, NULL) INTO column_type FROM pg_attribute AS a
         WHERE a.attrelid = tab AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attname OPERATOR(pg_catalog.=) (options ->> 'time_column');
        IF column_type IS NULL THEN
            RAISE EXCEPTION 'table % has no column "%" for time_column', tab, options ->> 'time_column'
                USING ERRCODE = 'undefined_column';
        ELSIF column_type NOT IN ('timestamp with time zone', 'timestamp without time zone', 'date') THEN
            RAISE EXCEPTION 'time_column "%" of table % must be a timestamp or a date', options ->> 'time_column', tab
                USING ERRCODE = 'datatype_mismatch';
        END IF;
        column_type := NULL;
    END IF;

    -- The model must exist, and every feature must have a column: a clear error now, not a
    -- wrong score later.
    IF NOT EXISTS (SELECT FROM @extschema@.fraud_models AS m
                    WHERE m.name OPERATOR(pg_catalog.=) model AND m.active) THEN
        RAISE EXCEPTION 'model "%" does not exist or has no active version', model
            USING ERRCODE = 'undefined_object';
    END IF;
    SELECT string_agg(DISTINCT f ->> 'name', ', ') INTO missing
      FROM @extschema@.fraud_models AS m, jsonb_array_elements(m.document -> 'features') AS f
     WHERE m.name OPERATOR(pg_catalog.=) model AND m.active
       AND f ->> 'kind' IS DISTINCT FROM 'history'  -- 0.3.0: computed from the table's earlier rows
       AND NOT EXISTS (SELECT FROM pg_attribute AS a
                        WHERE a.attrelid = tab AND a.attnum > 0 AND NOT a.attisdropped
                          AND lower(a.attname) OPERATOR(pg_catalog.=)
                              lower(COALESCE(fraud_attach.options -> 'columns' ->> (f ->> 'name'), f ->> 'name')));
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'table % has no column for the features: %', tab, missing
            USING ERRCODE = 'undefined_column';
    END IF;

    FOR wanted IN SELECT * FROM (VALUES (flag_column, 'boolean', ARRAY['boolean']),
                                        (score_column, 'double precision', ARRAY['double precision', 'real', 'numeric']),
                                        (version_column, 'integer', ARRAY['integer', 'bigint']),
                                        (rules_column, 'text[]', ARRAY['text[]']),
                                        (history_column, 'jsonb', ARRAY['jsonb']),
                                        (rule_errors_column, 'text[]', ARRAY['text[]'])) AS w(name, create_as, accepted)
                   WHERE w.name <> ''
    LOOP
        SELECT format_type(a.atttypid, NULL) INTO column_type FROM pg_attribute AS a
         WHERE a.attrelid = tab AND a.attname OPERATOR(pg_catalog.=) wanted.name AND NOT a.attisdropped;
        IF column_type IS NULL AND add_columns THEN
            EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', tab, wanted.name, wanted.create_as);
        ELSIF column_type IS NULL THEN
            RAISE EXCEPTION 'table % has no column "%"', tab, wanted.name USING ERRCODE = 'undefined_column',
                HINT = 'Create it, or pass {"add_columns": true}.';
        ELSIF NOT column_type = ANY (wanted.accepted) THEN
            RAISE EXCEPTION 'column "%" of table % must be %', wanted.name, tab, array_to_string(wanted.accepted, ' or ')
                USING ERRCODE = 'datatype_mismatch';
        END IF;
    END LOOP;

    -- 0.3.0: a model with history features reads each entity's earlier rows: its columns must
    -- exist, and an index on (entity, time) per entity makes each lookup a short index scan.
    IF COALESCE(options ->> 'history_relation', '') <> '' THEN
        -- A relation of past rows (e.g. a view over an archive and this table) to read history from.
        -- An unqualified name is looked up in the table's schema (this function's search_path is pinned).
        history_relation := CASE WHEN array_length(parse_ident(options ->> 'history_relation'), 1) = 1
                                 THEN format('%I.%s', (SELECT n.nspname FROM pg_class AS c JOIN pg_namespace AS n
                                                         ON n.oid = c.relnamespace WHERE c.oid = tab),
                                             options ->> 'history_relation')
                                 ELSE options ->> 'history_relation' END::regclass::text;
        PERFORM @extschema@.fraud_prepare_history(history_relation::regclass, model, false);
    END IF;
    PERFORM @extschema@.fraud_prepare_history(tab, model, true);
    -- 0.3.0: every feature column must be readable as its feature (a boolean column for a
    -- numeric feature is refused now, not at every insert).
    PERFORM @extschema@.fraud_check_columns(tab, model, COALESCE(options -> 'columns', '{}'));

    -- The time column of the BI views: as given, else the first timestamp column, else none.
    INSERT INTO @extschema@.fraud_attachments AS a
        (tab, model, flag_column, score_column, version_column, rules_column, time_column, notify, options)
    VALUES (tab, model, flag_column, score_column, version_column, rules_column,
            COALESCE(options ->> 'time_column',
                     (SELECT a.attname::text FROM pg_attribute AS a
                       WHERE a.attrelid = tab AND a.attnum > 0 AND NOT a.attisdropped
                         AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
                       ORDER BY a.attnum LIMIT 1), ''),
            channel,
            pg_catalog.jsonb_build_object('history_column', history_column, 'history_relation', history_relation,
                                          'on_update', COALESCE(options ->> 'on_update', 'rescore'),
                                          'columns', COALESCE(options -> 'columns', '{}'),
                                          'on_error', COALESCE(options ->> 'on_error', 'fail'),
                                          'rule_errors_column', rule_errors_column))
    ON CONFLICT ON CONSTRAINT fraud_attachments_pkey DO UPDATE SET model = EXCLUDED.model, flag_column = EXCLUDED.flag_column,
        score_column = EXCLUDED.score_column, version_column = EXCLUDED.version_column,
        rules_column = EXCLUDED.rules_column, time_column = EXCLUDED.time_column,
        notify = EXCLUDED.notify, options = EXCLUDED.options, attached_at = pg_catalog.now();
    PERFORM @extschema@.fraud_install_triggers(tab);
    IF version_column = '' THEN
        RAISE NOTICE 'fraud_attach: % has no version column: the BI views will show its rows'' model_version as NULL', tab
            USING HINT = 'Attach with {"version_column": "an integer column"}, or {"add_columns": true}, which adds model_version.';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_attach(regclass, text, jsonb) IS
    'Creates (or replaces) the fraud_flag trigger on a table after checking its columns';


-----------------------------------------------------------------------------
-- Drift reads each row with its history as of its own time (evaluation and threshold choice
-- too: their 0.3.0 definitions are below, with the model's own label as default)
-----------------------------------------------------------------------------


CREATE OR REPLACE FUNCTION @extschema@.fraud_drift(source regclass, model text DEFAULT 'default')
    RETURNS TABLE(feature text, psi float8, band text)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result jsonb;
    r RECORD;
    span interval;
    cycle interval;
BEGIN
    PERFORM @extschema@.fraud_check_source(source, '', model);  -- drift reads no label
    result := @extschema@.fraud_monitor_over(source, @extschema@.fraud_history_source(source, model), model, '',
                                             '{"mode": "drift"}');
    -- Calendar features are compared like with like only over a full cycle: a window shorter
    -- than a week (day_of_week) or a day (hour_of_day) holds only part of the cycle and would
    -- always read as a shift, so its band says so and its PSI is NULL.
    FOR r IN SELECT x.feature, x.psi, x.band
               FROM jsonb_to_recordset(COALESCE(result, '[]')) AS x(feature text, psi float8, band text) LOOP
        IF r.feature LIKE '% (day_of_week)' OR r.feature LIKE '% (hour_of_day)' THEN
            EXECUTE format('SELECT (max(%1$I)::timestamp - min(%1$I)::timestamp) FROM %2$s',
                           regexp_replace(r.feature, ' \((day_of_week|hour_of_day)\)$', ''), source) INTO span;
            cycle := CASE WHEN r.feature LIKE '% (day_of_week)' THEN interval '6 days' ELSE interval '23 hours' END;
            IF span IS NULL OR span < cycle THEN
                r.psi := NULL;
                r.band := CASE WHEN r.feature LIKE '% (day_of_week)' THEN 'not compared: under a week of rows'
                               ELSE 'not compared: under a day of rows' END;
            END IF;
        END IF;
        feature := r.feature;
        psi := r.psi;
        band := r.band;
        RETURN NEXT;
    END LOOP;
END
$$;


-----------------------------------------------------------------------------
-- The generator returns what an application has; fraud shows up in each account's history
-----------------------------------------------------------------------------

DROP FUNCTION @extschema@.fraud_generate_transactions(integer, integer, float8, timestamptz, bigint);
CREATE FUNCTION @extschema@.fraud_generate_transactions(
        n integer, seed integer DEFAULT 1, fraud_rate float8 DEFAULT 0.02,
        start_at timestamptz DEFAULT '2024-01-01 00:00:00+00', first_id bigint DEFAULT 1, accounts integer DEFAULT 2000)
    RETURNS TABLE(id bigint, account_id integer, merchant_category text, country text, channel text, device_id text,
                  amount numeric, created_at timestamptz, is_fraud boolean)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
    -- Every draw is a hash of (row or block, draw number, seed): the same arguments give the
    -- same rows, and the accounts (their home country, usual amount and devices) depend only on
    -- `accounts`, so successive calls (history, then a live stream) share them.
    WITH draws AS (
        SELECT g AS i, g / 8 AS block, g % 8 AS slot,
               (hashint8extended(g * 16 + 0, seed) & 281474976710655)::float8 / 281474976710656 AS u0,
               (hashint8extended(g * 16 + 1, seed) & 281474976710655)::float8 / 281474976710656 AS u1,
               (hashint8extended(g * 16 + 2, seed) & 281474976710655)::float8 / 281474976710656 AS u2,
               (hashint8extended(g * 16 + 3, seed) & 281474976710655)::float8 / 281474976710656 AS u3,
               (hashint8extended(g * 16 + 4, seed) & 281474976710655)::float8 / 281474976710656 AS u4,
               (hashint8extended(g * 16 + 5, seed) & 281474976710655)::float8 / 281474976710656 AS u5,
               (hashint8extended(g * 16 + 6, seed) & 281474976710655)::float8 / 281474976710656 AS u6,
               (hashint8extended(g * 16 + 7, seed) & 281474976710655)::float8 / 281474976710656 AS u7,
               (hashint8extended(g * 16 + 8, seed) & 281474976710655)::float8 / 281474976710656 AS u8,
               (hashint8extended(g * 16 + 9, seed) & 281474976710655)::float8 / 281474976710656 AS u9,
               -- Blocks of 8 consecutive rows (about 5 minutes): a card-testing burst takes 5 of them.
               (hashint8extended(-(g / 8) * 16 - 1, seed) & 281474976710655)::float8 / 281474976710656 AS b0,
               (hashint8extended(-(g / 8) * 16 - 2, seed) & 281474976710655)::float8 / 281474976710656 AS b1
          FROM generate_series(first_id, first_id + n - 1) AS g),
    kinds AS (
        SELECT d.*, d.b0 < 0.64 * fraud_rate AND d.slot < 5 AS testing FROM draws AS d),
    shaped AS (
        SELECT k.*, NOT k.testing AND k.u0 < 0.6 * fraud_rate AS takeover,
               CASE WHEN k.testing THEN 1 + (k.b1 * accounts)::int % accounts ELSE 1 + (k.u1 * accounts)::int % accounts END AS account
          FROM kinds AS k),
    accounts AS (
        SELECT s.*, s.testing OR s.takeover AS fraud,
               (ARRAY['US', 'US', 'US', 'GB', 'DE', 'FR', 'CA'])[1 + (abs(hashint4(s.account)) % 7)] AS home,
               round((exp(2.5 + 2.0 * (abs(hashint4(7 * s.account)) % 1000) / 1000.0))::numeric, 2) AS usual
          FROM shaped AS s)
    SELECT a.i,
           a.account,
           CASE WHEN a.testing THEN (ARRAY['digital_goods', 'digital_goods', 'gaming'])[1 + (a.u2 * 3)::int % 3]
                WHEN a.takeover THEN (ARRAY['electronics', 'jewelry', 'travel', 'electronics', 'retail'])[1 + (a.u2 * 5)::int % 5]
                ELSE (ARRAY['grocery', 'grocery', 'fuel', 'restaurants', 'retail', 'travel', 'electronics', 'digital_goods'])[1 + (a.u2 * 8)::int % 8] END,
           -- Account takeover comes from abroad; people travel now and then.
           CASE WHEN a.takeover THEN (ARRAY['NG', 'RU', 'BR', 'ID', 'RO', 'VN', 'UA'])[1 + (a.u4 * 7)::int % 7]
                WHEN NOT a.testing AND a.u3 < 0.03 THEN (ARRAY['ES', 'IT', 'MX', 'PT', 'GB', 'US'])[1 + (a.u4 * 6)::int % 6]
                ELSE a.home END,
           CASE WHEN a.testing THEN 'web'
                WHEN a.takeover THEN (ARRAY['web', 'app'])[1 + (a.u5 * 2)::int % 2]
                ELSE (ARRAY['pos', 'pos', 'web', 'app'])[1 + (a.u5 * 4)::int % 4] END,
           -- An account uses one or two devices and rarely a new one; a takeover uses a device
           -- never seen on the account, a card-testing burst one device for the whole burst.
           CASE WHEN a.testing THEN 'b' || a.block
                WHEN a.takeover THEN 'x' || a.i
                WHEN a.u6 < 0.8 THEN 'd' || a.account || '-1'
                WHEN a.u6 < 0.985 THEN 'd' || a.account || '-2'
                ELSE 'n' || a.i END,
           CASE WHEN a.testing THEN round((0.5 + 4.5 * a.u8)::numeric, 2)
                WHEN a.takeover THEN round((a.usual * (4 + 10 * a.u8))::numeric, 2)
                ELSE round((a.usual * exp(0.5 * (a.u8 + a.u7 - 1)))::numeric, 2) END,
           start_at + (a.i - first_id) * interval '37 seconds'
             -- Takeovers keep night hours more often than daily life does.
             + CASE WHEN a.takeover AND a.u9 < 0.5 THEN interval '1 hour' * ((24 + 2 - extract(hour FROM start_at + (a.i - first_id) * interval '37 seconds'))::int % 24)
                    ELSE interval '0' END,
           a.fraud
      FROM accounts AS a
$$;
COMMENT ON FUNCTION @extschema@.fraud_generate_transactions(integer, integer, float8, timestamptz, bigint, integer) IS
    'Realistic labelled card transactions as an application stores them (account, merchant category, country, channel, device, amount, time) from a fixed population of accounts, with fraud that shows in each account''s history: card-testing bursts and account takeovers';

-----------------------------------------------------------------------------
-- 0.3.0: who may read what. The BI views aggregate every attached table as the extension's
-- owner: SELECT on a view is the one privilege needed to read it (never on the raw tables,
-- which hold PII); the functions behind them check it. Evaluation, drift and threshold choice
-- read the source as the caller (SELECT on it) and the model without SELECT on fraud_models.
-----------------------------------------------------------------------------
ALTER FUNCTION @extschema@.fraud_check_source(regclass, name, text) SECURITY DEFINER;

-- The role the session acts as (SET ROLE, else the login role): inside a SECURITY DEFINER
-- function, the one whose privileges decide what the caller may read.
CREATE FUNCTION @extschema@.fraud_session_role() RETURNS name
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN current_setting('role') = 'none' THEN SESSION_USER ELSE current_setting('role')::name END
$$;
COMMENT ON FUNCTION @extschema@.fraud_session_role() IS
    'pg_fraud internal: the role the session acts as (SET ROLE, else the login role)';

-- The guard of the functions behind the BI views: the session's role must have SELECT on it.
CREATE FUNCTION @extschema@.fraud_require_view(view_name text) RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pg_catalog.has_table_privilege(@extschema@.fraud_session_role(),
                                          '@extschema@.' || pg_catalog.quote_ident(view_name), 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for view %', view_name USING ERRCODE = 'insufficient_privilege',
            HINT = format('GRANT SELECT ON %s TO the role.', view_name);
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_require_view(text) IS
    'pg_fraud internal: refuses unless the session''s role may SELECT from the named pg_fraud view';



-----------------------------------------------------------------------------
-- 0.3.0: evaluation and threshold choice default to the label the model was trained on; the
-- activity view counts scored rows only, by UTC day; flag reasons count each flagged row once.
-----------------------------------------------------------------------------
CREATE FUNCTION @extschema@.fraud_model_label(model text) RETURNS name
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT COALESCE((SELECT (m.document ->> 'label')::name FROM @extschema@.fraud_models AS m
                      WHERE m.name OPERATOR(pg_catalog.=) model AND m.active), 'is_fraud'::name)
$$;
COMMENT ON FUNCTION @extschema@.fraud_model_label(text) IS
    'pg_fraud internal: the label column the active version of a model was trained on (is_fraud when the document names none)';

DROP FUNCTION @extschema@.fraud_evaluate(regclass, name, text);
CREATE FUNCTION @extschema@.fraud_evaluate(source regclass, label name DEFAULT NULL, model text DEFAULT 'default')
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result jsonb;
BEGIN
    label := COALESCE(label, @extschema@.fraud_model_label(model));
    PERFORM @extschema@.fraud_check_source(source, CASE WHEN label = 'fraud_outcomes' THEN '' ELSE label END, model);
    result := @extschema@.fraud_monitor_over(source, @extschema@.fraud_labelled_source(source, label, model), model, label,
                                             '{"mode": "evaluate"}');
    IF result IS NULL THEN
        RAISE NOTICE 'fraud_evaluate: % has no rows%', source,
            CASE WHEN label = 'fraud_outcomes' THEN ' with a recorded outcome' ELSE '' END;
        RETURN jsonb_build_object('rows', 0, 'positives', 0);
    END IF;
    IF result -> 'roc_auc' = 'null'::jsonb THEN
        RAISE NOTICE 'fraud_evaluate: % has no % rows: ROC and PR AUC are undefined (NULL)', source,
            CASE WHEN (result ->> 'positives')::int = 0 THEN 'fraudulent' ELSE 'legitimate' END;
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_evaluate(regclass, name, text) IS
    'Evaluates the active model on labelled rows (label: the model''s own by default): ROC/PR AUC, log-loss, confusion matrix';

DROP FUNCTION @extschema@.fraud_choose_threshold(regclass, jsonb, name, text);
CREATE FUNCTION @extschema@.fraud_choose_threshold(source regclass, strategy jsonb, label name DEFAULT NULL,
                                                   model text DEFAULT 'default')
    RETURNS float8
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result jsonb := @extschema@.fraud_threshold_choice(source, strategy, label, model);  -- defined below
BEGIN
    IF (result ->> 'threshold_logit')::float8 > 36 THEN
        RAISE NOTICE 'fraud_choose_threshold: the cut is at logit %, where probabilities round to 1', result ->> 'threshold_logit'
            USING HINT = 'Apply it with fraud_set_threshold(model, source, strategy), which keeps the logit.';
    END IF;
    RETURN (result ->> 'threshold')::float8;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_choose_threshold(regclass, jsonb, name, text) IS
    'The threshold meeting a strategy (f1, precision, recall, alert_rate) on a source (label: the model''s own by default; alert_rate needs none)';

CREATE OR REPLACE FUNCTION @extschema@.fraud_activity()
    RETURNS TABLE(table_name regclass, day date, model_version integer, scored bigint, flagged bigint, mean_score float8)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a @extschema@.fraud_attachments;
    day_expr text;
BEGIN
    PERFORM @extschema@.fraud_require_view('fraud_daily_activity');
    -- A table dropped without fraud_detach leaves its row behind: skip it.
    FOR a IN SELECT * FROM @extschema@.fraud_reporting_tables() AS x  -- detached ones too
              WHERE EXISTS (SELECT FROM pg_class AS c WHERE c.oid = x.tab) ORDER BY x.tab::text LOOP
        -- The day of a timestamptz in UTC, whatever the session's TimeZone.
        SELECT CASE WHEN a.time_column = '' THEN 'NULL::date'
                    WHEN att.atttypid = 'timestamptz'::regtype THEN format('(%I AT TIME ZONE ''UTC'')::date', a.time_column)
                    ELSE format('%I::date', a.time_column) END INTO day_expr
          FROM (SELECT NULL) AS one LEFT JOIN pg_attribute AS att
            ON att.attrelid = a.tab AND att.attname OPERATOR(pg_catalog.=) a.time_column AND NOT att.attisdropped;
        -- Only scored rows count (rows stored before attach, after detach or unscored are not).
        -- The table's regclass is added outside the grouped query: Citus would compute it on its
        -- workers and send back their OIDs.
        RETURN QUERY EXECUTE format(
            'SELECT %L::regclass, s.* FROM (SELECT %s, %s, count(%I), count(*) FILTER (WHERE %I), avg(%I)::float8 FROM %s
              WHERE %I IS NOT NULL GROUP BY 1, 2) AS s',
            a.tab, COALESCE(day_expr, 'NULL::date'),
            CASE WHEN a.version_column = '' THEN 'NULL::integer' ELSE format('%I::integer', a.version_column) END,
            a.score_column, a.flag_column, a.score_column, a.tab, a.score_column);
    END LOOP;
END
$$;

-- 0.3.0: the feature that contributed most to a row's score (by the given version, or the
-- active one when NULL): a function, not a correlated subquery, so that Citus computes it on
-- the shards.
CREATE FUNCTION @extschema@.fraud_top_feature(tx anyelement, model text, version integer) RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF version IS NULL THEN
        RETURN (SELECT e.feature FROM @extschema@.fraud_explain(tx, model) AS e
                 WHERE e.contribution > 0 AND e.feature <> '(intercept)' ORDER BY e.contribution DESC LIMIT 1);
    END IF;
    RETURN (SELECT e.feature FROM @extschema@.fraud_explain(tx, model, version) AS e
             WHERE e.contribution > 0 AND e.feature <> '(intercept)' ORDER BY e.contribution DESC LIMIT 1);
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_top_feature(anyelement, text, integer) IS
    'pg_fraud internal: the feature with the largest positive contribution to the score of a row (its history as of its time) or a jsonb transaction (fraud_flag_reasons)';

CREATE OR REPLACE FUNCTION @extschema@.fraud_reasons()
    RETURNS TABLE(table_name regclass, reason text, flagged bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a @extschema@.fraud_attachments;
    explained text;
    top text;
BEGIN
    PERFORM @extschema@.fraud_require_view('fraud_flag_reasons');
    -- One reason per flagged row, so the counts add up to the flagged rows: the first rule that
    -- fired, else the feature with the largest positive contribution under the active model,
    -- else '(no positive contribution)' (flagged by the intercept under a low threshold)
    -- (as the trigger read the row: history as of its time; mapped columns by feature name).
    -- A table dropped without fraud_detach leaves its row behind: skip it.
    FOR a IN SELECT * FROM @extschema@.fraud_reporting_tables() AS x  -- detached ones too
              WHERE EXISTS (SELECT FROM pg_class AS c WHERE c.oid = x.tab) ORDER BY x.tab::text LOOP
        explained := CASE WHEN EXISTS (SELECT FROM @extschema@.fraud_models AS m WHERE m.name OPERATOR(pg_catalog.=) a.model
                                          AND m.active AND m.document ? 'history') THEN 't'
                          WHEN COALESCE(a.options -> 'columns', '{}') <> '{}' THEN
                               (SELECT format('(to_jsonb(t) || jsonb_build_object(%s))',
                                              string_agg(format('%L, to_jsonb(t) -> %L', c.key, c.value), ', '))
                                  FROM jsonb_each_text(a.options -> 'columns') AS c)
                          ELSE 'to_jsonb(t)' END;
        -- A detached table's model may have no active version left to explain with.
        -- The version that flagged the row explains it when the table keeps versions and that
        -- version still exists; else the active one. (The versions are listed here, and the
        -- explanation is a function call: on Citus both then run on the shards.)
        top := '@extschema@.fraud_top_feature(%s, %L, %s)';
        explained := CASE WHEN NOT EXISTS (SELECT FROM @extschema@.fraud_models AS m
                                            WHERE m.name OPERATOR(pg_catalog.=) a.model AND m.active)
                          THEN '''(model has no active version)'''
                          WHEN a.version_column = ''
                          THEN format(top, explained, a.model, 'NULL') || ', ''(no positive contribution)'''
                          ELSE format('CASE WHEN t.%I = ANY (%L::integer[]) THEN %s ELSE %s END', a.version_column,
                                      (SELECT pg_catalog.array_agg(m.version) FROM @extschema@.fraud_models AS m
                                        WHERE m.name OPERATOR(pg_catalog.=) a.model),
                                      format(top, explained, a.model, format('t.%I', a.version_column)),
                                      format(top, explained, a.model, 'NULL'))
                               || ', ''(no positive contribution)''' END;
        RETURN QUERY EXECUTE format(
            'SELECT %L::regclass, s.* FROM (SELECT r, count(*) FROM (
               SELECT COALESCE(%s, %s) AS r FROM %s AS t WHERE %I) AS s
              GROUP BY r) AS s',
            a.tab,
            CASE WHEN a.rules_column = '' THEN 'NULL::text' ELSE format('''rule: '' || (%I)[1]', a.rules_column) END,
            explained, a.tab, a.flag_column);
    END LOOP;
END
$$;

-----------------------------------------------------------------------------
-- 0.3.0: a threshold change never leaves figures of the old threshold beside the new one, and
-- every activation and threshold change is kept: who, when, from what to what.
-----------------------------------------------------------------------------
CREATE TABLE @extschema@.fraud_model_events (
    id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    by_role       name NOT NULL,
    model         text NOT NULL,
    version       integer NOT NULL,
    event         text NOT NULL CHECK (event IN ('activated', 'deactivated', 'threshold', 'deleted')),
    old_threshold float8,
    new_threshold float8
);
COMMENT ON TABLE @extschema@.fraud_model_events IS
    'pg_fraud: every activation, deactivation, deletion and threshold change of a model version (who, when, from what to what)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.fraud_model_events', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.fraud_model_events_id_seq', '');
REVOKE ALL ON @extschema@.fraud_model_events FROM PUBLIC;

CREATE FUNCTION @extschema@.fraud_models_audit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    who name := @extschema@.fraud_session_role();
BEGIN
    IF pg_catalog.current_setting('application_name') = 'pg_restore' THEN
        RETURN NULL;  -- a restore replays the versions and brings their events with them
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.active THEN
            INSERT INTO @extschema@.fraud_model_events (by_role, model, version, event, new_threshold)
            VALUES (who, NEW.name, NEW.version, 'activated', NEW.threshold);
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO @extschema@.fraud_model_events (by_role, model, version, event, old_threshold)
        VALUES (who, OLD.name, OLD.version, 'deleted', OLD.threshold);
    ELSE
        IF OLD.active IS DISTINCT FROM NEW.active THEN
            INSERT INTO @extschema@.fraud_model_events (by_role, model, version, event, old_threshold, new_threshold)
            VALUES (who, NEW.name, NEW.version, CASE WHEN NEW.active THEN 'activated' ELSE 'deactivated' END,
                    OLD.threshold, NEW.threshold);
        ELSIF OLD.threshold IS DISTINCT FROM NEW.threshold THEN
            INSERT INTO @extschema@.fraud_model_events (by_role, model, version, event, old_threshold, new_threshold)
            VALUES (who, NEW.name, NEW.version, 'threshold', OLD.threshold, NEW.threshold);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_models_audit() IS
    'pg_fraud internal: records activations, deactivations, deletions and threshold changes in fraud_model_events';
CREATE TRIGGER fraud_models_audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.fraud_models
    FOR EACH ROW EXECUTE FUNCTION @extschema@.fraud_models_audit();

-- Which version and threshold of each model were live when: one row per interval, from an
-- activation or threshold change to the next event of that model (valid_to NULL: still live).
CREATE VIEW @extschema@.fraud_model_timeline AS
SELECT e.model, e.version, e.new_threshold AS threshold, e.at AS valid_from, e.valid_to, e.by_role AS changed_by
  FROM (SELECT x.*, pg_catalog.lead(x.at) OVER (PARTITION BY x.model ORDER BY x.at, x.id) AS valid_to
          FROM @extschema@.fraud_model_events AS x) AS e
 WHERE e.event IN ('activated', 'threshold');
COMMENT ON VIEW @extschema@.fraud_model_timeline IS
    'Which version and threshold of each model were live from when to when (answers: what was live on day X)';

-- fraud_set_threshold: the precision, recall, F1 and confusion matrix stored at the old
-- threshold are moved under metrics.at_previous_threshold and left NULL (the ROC and PR AUC and
-- the log-loss do not depend on the threshold); fraud_choose_threshold or fraud_evaluate give
-- the figures at the new one.
CREATE OR REPLACE FUNCTION @extschema@.fraud_set_threshold(model text, threshold float8)
    RETURNS @extschema@.fraud_models
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stored @extschema@.fraud_models;
BEGIN
    IF threshold IS NULL OR threshold < 0 OR threshold > 1 OR threshold <> threshold THEN
        RAISE EXCEPTION 'threshold must be between 0 and 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE @extschema@.fraud_models AS m
       SET threshold = fraud_set_threshold.threshold,
           metrics = @extschema@.fraud_metrics_at(m.metrics, m.threshold, fraud_set_threshold.threshold),
           document = pg_catalog.jsonb_set(
               CASE WHEN m.document ? 'metrics'
                    THEN pg_catalog.jsonb_set(m.document, '{metrics}',
                             @extschema@.fraud_metrics_at(m.document -> 'metrics', m.threshold, fraud_set_threshold.threshold))
                    ELSE m.document END,
               '{threshold}', pg_catalog.to_jsonb(fraud_set_threshold.threshold))
     WHERE m.name OPERATOR(pg_catalog.=) fraud_set_threshold.model AND m.active
    RETURNING * INTO stored;
    IF stored.id IS NULL THEN
        RAISE EXCEPTION 'model "%" does not exist or has no active version', model USING ERRCODE = 'undefined_object';
    END IF;
    RETURN stored;
END
$$;

CREATE FUNCTION @extschema@.fraud_metrics_at(metrics jsonb, old_threshold float8, new_threshold float8) RETURNS jsonb
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN old_threshold = new_threshold OR NOT (metrics ? 'precision') THEN metrics
                -- already moved by an earlier change: the figures stay where they are
                WHEN metrics ? 'at_previous_threshold' AND metrics -> 'confusion' = 'null'::jsonb
                THEN metrics || jsonb_build_object('threshold', new_threshold)
                ELSE (metrics - 'precision' - 'recall' - 'f1' - 'confusion' - 'threshold' - 'threshold_logit')
                     || jsonb_build_object('precision', NULL, 'recall', NULL, 'f1', NULL, 'confusion', NULL,
                                           'threshold', new_threshold,
                                           'at_previous_threshold', jsonb_build_object(
                                               'threshold', old_threshold, 'threshold_logit', metrics -> 'threshold_logit',
                                               'precision', metrics -> 'precision',
                                               'recall', metrics -> 'recall', 'f1', metrics -> 'f1',
                                               'confusion', metrics -> 'confusion')) END
$$;
COMMENT ON FUNCTION @extschema@.fraud_metrics_at(jsonb, float8, float8) IS
    'pg_fraud internal: stored metrics after a threshold change (the threshold-dependent figures moved under at_previous_threshold)';

-- 0.3.0: fraud_is_fraud of a table row, as fraud_score(row) exists.
CREATE FUNCTION @extschema@.fraud_is_fraud(tx text) RETURNS boolean
    LANGUAGE C STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'fraud_is_fraud_text';
COMMENT ON FUNCTION @extschema@.fraud_is_fraud(text) IS
    'Whether a transaction given as JSON text is flagged under the default model';
CREATE FUNCTION @extschema@.fraud_is_fraud(tx text, model text) RETURNS boolean
    LANGUAGE C STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'fraud_is_fraud_text';
COMMENT ON FUNCTION @extschema@.fraud_is_fraud(text, text) IS
    'Whether a transaction given as JSON text is flagged under a named model';
CREATE FUNCTION @extschema@.fraud_is_fraud(tx anyelement) RETURNS boolean
    LANGUAGE C STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'fraud_is_fraud_row';
COMMENT ON FUNCTION @extschema@.fraud_is_fraud(anyelement) IS
    'Whether a table row is flagged under the default model: its score reaches the threshold or a flag rule matches, unless an allow rule matches';
CREATE FUNCTION @extschema@.fraud_is_fraud(tx anyelement, model text) RETURNS boolean
    LANGUAGE C STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'fraud_is_fraud_row';
COMMENT ON FUNCTION @extschema@.fraud_is_fraud(anyelement, text) IS
    'Whether a table row is flagged under a named model (rules read it as to_jsonb(row))';

-- 0.3.0: thresholds in logits. A cut whose probability rounds to 1 (logit above ~36.7) is
-- kept as "threshold_logit" in the document, so that scores far in the tail still rank.
CREATE FUNCTION @extschema@.fraud_apply_threshold(model text, threshold float8, threshold_logit float8)
    RETURNS @extschema@.fraud_models
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stored @extschema@.fraud_models;
    doc jsonb;
BEGIN
    SELECT m.* INTO stored FROM @extschema@.fraud_models AS m
     WHERE m.name OPERATOR(pg_catalog.=) fraud_apply_threshold.model AND m.active FOR UPDATE;
    IF stored.id IS NULL THEN
        RAISE EXCEPTION 'model "%" does not exist or has no active version', model USING ERRCODE = 'undefined_object';
    END IF;
    doc := stored.document || jsonb_build_object('threshold', fraud_apply_threshold.threshold);
    IF doc ? 'metrics' THEN
        doc := pg_catalog.jsonb_set(doc, '{metrics}', @extschema@.fraud_metrics_at(doc -> 'metrics', stored.threshold, fraud_apply_threshold.threshold));
    END IF;
    doc := CASE WHEN fraud_apply_threshold.threshold_logit IS NULL THEN doc - 'threshold_logit'
                ELSE doc || jsonb_build_object('threshold_logit', fraud_apply_threshold.threshold_logit) END;
    UPDATE @extschema@.fraud_models AS m
       SET threshold = fraud_apply_threshold.threshold,
           metrics = @extschema@.fraud_metrics_at(m.metrics, m.threshold, fraud_apply_threshold.threshold),
           document = doc
     WHERE m.id = stored.id
    RETURNING m.* INTO stored;
    RETURN stored;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_apply_threshold(text, float8, float8) IS
    'pg_fraud internal: stores a threshold (probability, and its logit when finite) on the active version';
REVOKE ALL ON FUNCTION @extschema@.fraud_apply_threshold(text, float8, float8) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.fraud_set_threshold(model text, threshold float8)
    RETURNS @extschema@.fraud_models
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF threshold IS NULL OR threshold < 0 OR threshold > 1 OR threshold <> threshold THEN
        RAISE EXCEPTION 'threshold must be between 0 and 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- 0 and 1 keep no logit: rows are flagged when their score reaches the probability.
    RETURN @extschema@.fraud_apply_threshold(model, threshold,
        CASE WHEN threshold > 0 AND threshold < 1 THEN pg_catalog.ln(threshold) - pg_catalog.ln(1 - threshold) END);
END
$$;

-- The exact choice of a strategy on a source, as {"threshold", "threshold_logit", "rows"[, "alerts"]}.
CREATE FUNCTION @extschema@.fraud_threshold_choice(source regclass, strategy jsonb, label name, model text)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result jsonb;
BEGIN
    label := COALESCE(label, @extschema@.fraud_model_label(model));
    -- An alert budget is a share of all scored rows: it needs no label column at all.
    IF strategy ->> 'strategy' = 'alert_rate' AND source IS NOT NULL AND label IS DISTINCT FROM 'fraud_outcomes'
       AND NOT EXISTS (SELECT FROM pg_attribute AS a WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped
                                                      AND a.attname OPERATOR(pg_catalog.=) label) THEN
        label := '';
    END IF;
    PERFORM @extschema@.fraud_check_source(source, CASE WHEN label = 'fraud_outcomes' THEN '' ELSE label END, model);
    result := @extschema@.fraud_monitor_over(source, @extschema@.fraud_labelled_source(source, label, model), model, label,
                                             jsonb_build_object('mode', 'threshold', 'strategy', strategy));
    RETURN result;  -- NULL: no rows
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_threshold_choice(regclass, jsonb, name, text) IS
    'pg_fraud internal: the threshold a strategy picks on a source, with its logit and counts';

CREATE FUNCTION @extschema@.fraud_set_threshold(model text, source regclass, strategy jsonb, label name DEFAULT NULL)
    RETURNS @extschema@.fraud_models
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result jsonb := @extschema@.fraud_threshold_choice(source, strategy, label, model);
BEGIN
    IF result IS NULL THEN
        RAISE EXCEPTION 'fraud_set_threshold: % has no rows to choose a threshold on', source USING ERRCODE = 'no_data_found';
    END IF;
    RETURN @extschema@.fraud_apply_threshold(model, (result ->> 'threshold')::float8, (result ->> 'threshold_logit')::float8);
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_set_threshold(text, regclass, jsonb, name) IS
    'Chooses the threshold a strategy picks on a source (an alert_rate on the rows'' exact logits) and applies it to the active version, in logits';
REVOKE ALL ON FUNCTION @extschema@.fraud_set_threshold(text, regclass, jsonb, name) FROM PUBLIC;

-- 0.3.0: the score distribution per day (issue 18), for a dashboard.
CREATE FUNCTION @extschema@.fraud_day_expression(tab regclass, time_column name) RETURNS text
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    -- The day of a timestamptz in UTC, whatever the session's TimeZone; NULL without a time column.
    SELECT CASE WHEN time_column = '' OR att.attname IS NULL THEN 'NULL::date'
                WHEN att.atttypid = 'timestamptz'::regtype THEN format('(%I AT TIME ZONE ''UTC'')::date', time_column)
                ELSE format('%I::date', time_column) END
      FROM (SELECT NULL) AS one LEFT JOIN pg_attribute AS att
        ON att.attrelid = tab AND att.attname OPERATOR(pg_catalog.=) time_column AND NOT att.attisdropped
$$;
COMMENT ON FUNCTION @extschema@.fraud_day_expression(regclass, name) IS
    'pg_fraud internal: the SQL of a row''s day for the BI views (UTC day of a timestamptz)';

CREATE FUNCTION @extschema@.fraud_score_distribution()
    RETURNS TABLE(table_name regclass, day date, model_version integer, bucket integer, lower_score float8,
                  upper_score float8, rows bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a @extschema@.fraud_attachments;
    -- Finer where fraud scores live: near 0 and near 1.
    edges constant float8[] := '{0.001,0.01,0.05,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.95,0.99,0.999}';
BEGIN
    PERFORM @extschema@.fraud_require_view('fraud_daily_score_histogram');
    FOR a IN SELECT * FROM @extschema@.fraud_reporting_tables() AS x  -- detached ones too
              WHERE EXISTS (SELECT FROM pg_class AS c WHERE c.oid = x.tab) ORDER BY x.tab::text LOOP
        RETURN QUERY EXECUTE format(
            'SELECT %L::regclass, s.* FROM (SELECT d, v, b, CASE WHEN b = 0 THEN 0 ELSE ($1)[b] END, COALESCE(($1)[b + 1], 1), n
               FROM (SELECT %s AS d, %s AS v, pg_catalog.width_bucket(%I::float8, $1) AS b, count(*) AS n
                       FROM %s WHERE %I IS NOT NULL GROUP BY 1, 2, 3) AS g) AS s',
            a.tab, @extschema@.fraud_day_expression(a.tab, a.time_column),
            CASE WHEN a.version_column = '' THEN 'NULL::integer' ELSE format('%I::integer', a.version_column) END,
            a.score_column, a.tab, a.score_column) USING edges;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_score_distribution() IS
    'pg_fraud internal: rows of fraud_daily_score_histogram';
CREATE VIEW @extschema@.fraud_daily_score_histogram AS SELECT * FROM @extschema@.fraud_score_distribution();
COMMENT ON VIEW @extschema@.fraud_daily_score_histogram IS
    'Scored rows per attached table, day (UTC for timestamptz), model version and score bucket [lower_score, upper_score)';

-- 0.3.0: a detached table's scored rows stay in the BI views (issue 18): fraud_detach keeps
-- its attachment here, and the views read attached and detached tables alike.
CREATE TABLE @extschema@.fraud_detached_tables (LIKE @extschema@.fraud_attachments);
ALTER TABLE @extschema@.fraud_detached_tables ADD PRIMARY KEY (tab),
    ADD COLUMN detached_at timestamptz NOT NULL DEFAULT pg_catalog.now();
COMMENT ON TABLE @extschema@.fraud_detached_tables IS
    'pg_fraud: tables detached with fraud_detach, as they were attached (their scored rows stay in the BI views)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.fraud_detached_tables', '');

CREATE FUNCTION @extschema@.fraud_reporting_tables() RETURNS SETOF @extschema@.fraud_attachments
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.* FROM @extschema@.fraud_attachments AS a
    UNION ALL
    SELECT d.tab, d.model, d.flag_column, d.score_column, d.version_column, d.rules_column, d.time_column, d.notify,
           d.attached_at, d.options
      FROM @extschema@.fraud_detached_tables AS d
     WHERE NOT EXISTS (SELECT FROM @extschema@.fraud_attachments AS a WHERE a.tab OPERATOR(pg_catalog.=) d.tab)
$$;
COMMENT ON FUNCTION @extschema@.fraud_reporting_tables() IS
    'pg_fraud internal: the tables the BI views report on: attached ones, then detached ones not attached again';


-- 0.3.0: confirmed outcomes of scored rows (issue 18): what review and chargebacks said, who
-- said it and when; the precision of the alerts actually raised, recall where outcomes
-- exist, and time to label.
CREATE TABLE @extschema@.fraud_outcomes (
    tab         regclass NOT NULL,
    row_key     text NOT NULL,
    outcome     boolean NOT NULL,
    source      text NOT NULL DEFAULT 'review',
    labelled_by name NOT NULL DEFAULT CURRENT_USER,
    labelled_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    PRIMARY KEY (tab, row_key)
);
COMMENT ON TABLE @extschema@.fraud_outcomes IS
    'pg_fraud: the confirmed outcome of a scored row (true: fraud), by the row''s primary key as text; the latest one per row';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.fraud_outcomes', '');

-- The single-column primary key of a table, or an error.
CREATE FUNCTION @extschema@.fraud_key_column(tab regclass) RETURNS name
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key name;
BEGIN
    SELECT a.attname INTO key FROM pg_index AS i JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
     WHERE i.indrelid = tab AND i.indisprimary AND i.indnatts = 1;
    IF key IS NULL THEN
        RAISE EXCEPTION 'table % has no single-column primary key to record outcomes by', tab
            USING ERRCODE = 'invalid_table_definition', HINT = 'Outcomes name a row by its primary key.';
    END IF;
    RETURN key;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_key_column(regclass) IS
    'pg_fraud internal: the single-column primary key outcomes are recorded by';

CREATE FUNCTION @extschema@.fraud_record_outcome(tab regclass, row_key anyelement, outcome boolean,
                                                 source text DEFAULT 'review')
    RETURNS @extschema@.fraud_outcomes
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key name := @extschema@.fraud_key_column(tab);
    found boolean;
    stored @extschema@.fraud_outcomes;
BEGIN
    IF outcome IS NULL OR row_key IS NULL THEN
        RAISE EXCEPTION 'an outcome needs a row key and true (fraud) or false' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- Citus runs a function of a distributed table's rows on the workers, where neither the
    -- attachments nor the outcomes are: refused there, with the form that runs here.
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') THEN
        EXECUTE 'SELECT NOT pg_catalog.citus_is_coordinator()' INTO found;
        IF found THEN
            RAISE EXCEPTION 'fraud_record_outcome records outcomes on the Citus coordinator, not on a worker'
                USING ERRCODE = 'feature_not_supported',
                      HINT = 'Over a distributed table, Citus runs a function of its rows on the workers; read the keys first: '
                             'WITH k AS MATERIALIZED (SELECT id FROM t WHERE ...) SELECT fraud_record_outcome(''t'', id, true) FROM k.';
        END IF;
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.fraud_reporting_tables() AS r WHERE r.tab OPERATOR(pg_catalog.=) fraud_record_outcome.tab) THEN
        RAISE EXCEPTION 'table % is not attached to a model', tab USING ERRCODE = 'undefined_object';
    END IF;
    -- SELECT 1: Citus cannot plan an empty target list over a distributed table.
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I::text = $1)', tab, key) INTO found USING row_key::text;
    IF NOT found THEN
        RAISE EXCEPTION 'table % has no row with that key', tab USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO @extschema@.fraud_outcomes AS o (tab, row_key, outcome, source)
    VALUES (fraud_record_outcome.tab, fraud_record_outcome.row_key::text, fraud_record_outcome.outcome,
            COALESCE(fraud_record_outcome.source, 'review'))
    ON CONFLICT ON CONSTRAINT fraud_outcomes_pkey DO UPDATE
       SET outcome = EXCLUDED.outcome, source = EXCLUDED.source, labelled_by = EXCLUDED.labelled_by,
           labelled_at = EXCLUDED.labelled_at
    RETURNING o.* INTO stored;
    RETURN stored;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_record_outcome(regclass, anyelement, boolean, text) IS
    'Records the confirmed outcome of a scored row (true: fraud) by its primary key: who (current_user) and when; a later outcome replaces it';
REVOKE ALL ON FUNCTION @extschema@.fraud_record_outcome(regclass, anyelement, boolean, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.fraud_outcome_figures()
    RETURNS TABLE(table_name regclass, day date, model_version integer, alerts bigint, reviewed bigint,
                  confirmed bigint, "precision" float8, known_frauds bigint, caught bigint, recall float8,
                  mean_hours_to_label float8)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a @extschema@.fraud_attachments;
    key name;
BEGIN
    PERFORM @extschema@.fraud_require_view('fraud_alert_outcomes_daily');
    FOR a IN SELECT * FROM @extschema@.fraud_reporting_tables() AS x
              WHERE EXISTS (SELECT FROM pg_class AS c WHERE c.oid = x.tab) ORDER BY x.tab::text LOOP
        SELECT att.attname INTO key FROM pg_index AS i JOIN pg_attribute AS att
            ON att.attrelid = i.indrelid AND att.attnum = i.indkey[0]
         WHERE i.indrelid = a.tab AND i.indisprimary AND i.indnatts = 1;
        CONTINUE WHEN key IS NULL;  -- no outcomes can name its rows
        -- Alerts are the rows flagged (by the model or a rule) when stored; precision is of the
        -- reviewed alerts; recall is of the rows known to be fraud, flagged or not.
        RETURN QUERY EXECUTE format(
            'SELECT %L::regclass, s.* FROM (SELECT d, v, count(*) FILTER (WHERE f), count(o.outcome) FILTER (WHERE f),
                    count(*) FILTER (WHERE f AND o.outcome),
                    (count(*) FILTER (WHERE f AND o.outcome))::float8 / NULLIF(count(o.outcome) FILTER (WHERE f), 0),
                    count(*) FILTER (WHERE o.outcome), count(*) FILTER (WHERE o.outcome AND f),
                    (count(*) FILTER (WHERE o.outcome AND f))::float8 / NULLIF(count(*) FILTER (WHERE o.outcome), 0),
                    avg(extract(epoch FROM o.labelled_at - ts) / 3600)::float8
               FROM (SELECT %s AS d, %s AS v, %I AS f, %I::text AS k, %s AS ts FROM %s WHERE %I IS NOT NULL) AS t
               LEFT JOIN (SELECT x.row_key, x.outcome, x.labelled_at FROM @extschema@.fraud_outcomes AS x
                           WHERE x.tab = %L::regclass) AS o ON o.row_key = t.k
              GROUP BY d, v) AS s',
            a.tab, @extschema@.fraud_day_expression(a.tab, a.time_column),
            CASE WHEN a.version_column = '' THEN 'NULL::integer' ELSE format('%I::integer', a.version_column) END,
            a.flag_column, key,
            CASE WHEN a.time_column = '' THEN 'NULL::timestamptz' ELSE format('%I::timestamptz', a.time_column) END,
            a.tab, a.score_column, a.tab);
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_outcome_figures() IS 'pg_fraud internal: rows of fraud_alert_outcomes_daily';
CREATE VIEW @extschema@.fraud_alert_outcomes_daily AS SELECT * FROM @extschema@.fraud_outcome_figures();
COMMENT ON VIEW @extschema@.fraud_alert_outcomes_daily IS
    'Per attached table, day and model version: alerts raised, reviewed, confirmed, their precision; rows known to be fraud, caught, recall; mean hours from the row''s time to its outcome';

-- 0.3.0: per-rule statistics (issue 18): hits of flag and allow rules per day, allow rules
-- that overrode a score at the threshold, and rules whose predicate errored, from the rows'
-- rules column and rule-errors column.
CREATE FUNCTION @extschema@.fraud_rule_figures()
    RETURNS TABLE(table_name regclass, day date, rule text, action text, hits bigint, overrides bigint, errors bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a @extschema@.fraud_attachments;
    errors_column text;
    ts text;
BEGIN
    PERFORM @extschema@.fraud_require_view('fraud_daily_rule_hits');
    FOR a IN SELECT * FROM @extschema@.fraud_reporting_tables() AS x
              WHERE EXISTS (SELECT FROM pg_class AS c WHERE c.oid = x.tab) ORDER BY x.tab::text LOOP
        errors_column := COALESCE(a.options ->> 'rule_errors_column', '');
        CONTINUE WHEN a.rules_column = '' AND errors_column = '';
        ts := CASE WHEN a.time_column = '' THEN 'NULL::timestamptz' ELSE format('%I::timestamptz', a.time_column) END;
        -- An override: an allow rule fired on a row whose score reached the threshold live at
        -- the row's time (fraud_model_timeline; without a time column, today's threshold).
        RETURN QUERY EXECUTE format(
            'SELECT %L::regclass, s.* FROM (SELECT h.d, h.rule, COALESCE(r.action, ''(deleted)''),
                    count(*) FILTER (WHERE h.fired), count(*) FILTER (WHERE h.fired AND r.action = ''allow''
                        AND h.score >= COALESCE((SELECT l.threshold FROM @extschema@.fraud_model_timeline AS l
                                                  WHERE l.model = %L AND l.valid_from <= h.ts AND (l.valid_to IS NULL OR h.ts < l.valid_to)
                                                  ORDER BY l.valid_from DESC LIMIT 1),
                                                 (SELECT m.threshold FROM @extschema@.fraud_models AS m WHERE m.name = %L AND m.active))),
                    count(*) FILTER (WHERE NOT h.fired)
               FROM (SELECT %s AS d, %s AS ts, t.%I::float8 AS score, u.rule, u.fired
                       FROM %s AS t, LATERAL ROWS FROM (pg_catalog.unnest(COALESCE(%s, ''{}'') || COALESCE(%s, ''{}'')),
                                                     pg_catalog.unnest(pg_catalog.array_fill(true, ARRAY[COALESCE(pg_catalog.cardinality(%s), 0)])
                                                                       || pg_catalog.array_fill(false, ARRAY[COALESCE(pg_catalog.cardinality(%s), 0)]))) AS u(rule, fired)
                      WHERE t.%I IS NOT NULL AND (pg_catalog.cardinality(%s) > 0 OR pg_catalog.cardinality(%s) > 0)) AS h
               LEFT JOIN @extschema@.fraud_rules AS r ON r.model = %L AND r.name = h.rule
              GROUP BY h.d, h.rule, r.action) AS s',
            a.tab, a.model, a.model, @extschema@.fraud_day_expression(a.tab, a.time_column), ts, a.score_column, a.tab,
            CASE WHEN a.rules_column = '' THEN 'NULL::text[]' ELSE format('t.%I', a.rules_column) END,
            CASE WHEN errors_column = '' THEN 'NULL::text[]' ELSE format('t.%I', errors_column) END,
            CASE WHEN a.rules_column = '' THEN 'NULL::text[]' ELSE format('t.%I', a.rules_column) END,
            CASE WHEN errors_column = '' THEN 'NULL::text[]' ELSE format('t.%I', errors_column) END,
            a.score_column,
            -- Only rows where a rule fired or errored (most rows: none) go through the unnest.
            CASE WHEN a.rules_column = '' THEN 'NULL::text[]' ELSE format('t.%I', a.rules_column) END,
            CASE WHEN errors_column = '' THEN 'NULL::text[]' ELSE format('t.%I', errors_column) END,
            a.model);
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_rule_figures() IS 'pg_fraud internal: rows of fraud_daily_rule_hits';
CREATE VIEW @extschema@.fraud_daily_rule_hits AS SELECT * FROM @extschema@.fraud_rule_figures();
COMMENT ON VIEW @extschema@.fraud_daily_rule_hits IS
    'Per attached table, day and rule: rows it fired on, allow rules that overrode a score at the threshold, rows where its predicate errored';

-- 0.3.0: explanations by a given version (the one that flagged a stored row, say).
CREATE FUNCTION @extschema@.fraud_explain(tx jsonb, model text, version integer)
    RETURNS TABLE(feature text, value text, contribution float8)
    LANGUAGE C STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'fraud_explain_jsonb';
COMMENT ON FUNCTION @extschema@.fraud_explain(jsonb, text, integer) IS
    'Each feature''s contribution to the logit of a transaction under a given version of a model, active or not';
CREATE FUNCTION @extschema@.fraud_explain(tx text, model text, version integer)
    RETURNS TABLE(feature text, value text, contribution float8)
    LANGUAGE C STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'fraud_explain_text';
COMMENT ON FUNCTION @extschema@.fraud_explain(text, text, integer) IS
    'Each feature''s contribution to the logit of a transaction given as JSON text under a given version of a model';
CREATE FUNCTION @extschema@.fraud_explain(tx anyelement, model text, version integer)
    RETURNS TABLE(feature text, value text, contribution float8)
    LANGUAGE C STRICT STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'fraud_explain_row';
COMMENT ON FUNCTION @extschema@.fraud_explain(anyelement, text, integer) IS
    'Each feature''s contribution to the logit of a table row under a given version of a model, active or not';

-- 0.3.0: scheduled retraining with a champion and a challenger (fraud_retrain, for pg_cron).
CREATE FUNCTION @extschema@.fraud_history_source(source regclass, model text, version integer)
    RETURNS text
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'fraud_history_source';
COMMENT ON FUNCTION @extschema@.fraud_history_source(regclass, text, integer) IS
    'The FROM item evaluation of a given version reads a source through (its history as of each row''s time)';

CREATE TABLE @extschema@.fraud_retraining (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    by_role name NOT NULL,
    model text NOT NULL,
    source text NOT NULL,
    active_version integer NOT NULL,
    candidate_version integer NOT NULL,
    metric text NOT NULL,
    active_value float8,
    candidate_value float8,
    margin float8 NOT NULL,
    training_from timestamptz,
    evaluation_from timestamptz NOT NULL,
    evaluation_to timestamptz NOT NULL,
    evaluation_rows bigint NOT NULL,
    evaluation_positives bigint NOT NULL,
    promoted boolean NOT NULL,
    reason text NOT NULL
);
COMMENT ON TABLE @extschema@.fraud_retraining IS
    'One row per fraud_retrain run: the candidate trained, both versions'' figures on the same held-out rows, and whether the candidate was activated';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.fraud_retraining', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.fraud_retraining_id_seq', '');
REVOKE ALL ON @extschema@.fraud_retraining FROM PUBLIC;

CREATE FUNCTION @extschema@.fraud_retrain(model text, source regclass, options jsonb DEFAULT '{}')
    RETURNS @extschema@.fraud_retraining
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    active @extschema@.fraud_models;
    candidate @extschema@.fraud_models;
    decision @extschema@.fraud_retraining;
    as_of timestamptz;
    evaluation_window interval;
    train_window interval;
    metric text := COALESCE(options ->> 'metric', 'pr_auc');
    margin float8;
    label name;
    time_column text;
    training jsonb;
    eval_from timestamptz;
    train_from timestamptz;
    columns text;
    evaluated integer;
    figures jsonb;
    candidate_figures jsonb;
    active_figures jsonb;
    key text;
BEGIN
    IF options IS NULL OR pg_catalog.jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'fraud_retrain: options must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR key IN SELECT pg_catalog.jsonb_object_keys(options) LOOP
        IF key <> ALL (ARRAY['evaluation_window', 'train_window', 'metric', 'margin', 'label', 'time_column', 'training', 'as_of']) THEN
            RAISE EXCEPTION 'fraud_retrain: unknown option "%"', key USING ERRCODE = 'invalid_parameter_value',
                HINT = 'Options: evaluation_window, train_window, metric, margin, label, time_column, training, as_of.';
        END IF;
    END LOOP;
    BEGIN
        as_of := COALESCE((options ->> 'as_of')::timestamptz, pg_catalog.now());
        evaluation_window := COALESCE((options ->> 'evaluation_window')::interval, interval '7 days');
        train_window := (options ->> 'train_window')::interval;
        margin := COALESCE((options ->> 'margin')::float8, 0.005);
    EXCEPTION WHEN data_exception THEN
        RAISE EXCEPTION 'fraud_retrain: as_of must be a timestamp, the windows intervals and margin a number'
            USING ERRCODE = 'invalid_parameter_value';
    END;
    IF evaluation_window <= interval '0' OR train_window <= interval '0' OR margin < 0 OR margin = 'NaN'::float8 THEN
        RAISE EXCEPTION 'fraud_retrain: the windows must be positive and the margin at least 0' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF metric NOT IN ('pr_auc', 'roc_auc') THEN
        RAISE EXCEPTION 'fraud_retrain: metric must be "pr_auc" or "roc_auc"' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('pg_fraud.model:' || model));
    SELECT * INTO active FROM @extschema@.fraud_models AS m WHERE m.name OPERATOR(pg_catalog.=) model AND m.active;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'fraud_retrain: model "%" has no active version to compare a candidate with', model
            USING ERRCODE = 'undefined_object', HINT = 'Train the first version with train_fraud_model.';
    END IF;
    label := COALESCE(options ->> 'label', @extschema@.fraud_model_label(model));
    -- The candidate is trained as the active version was, on other rows.
    training := COALESCE(options -> 'training', active.document -> 'training' -> 'options', '{}'::jsonb)
                - 'holdout' - 'holdout_by' - 'holdout_column' - 'activate';
    time_column := COALESCE(options ->> 'time_column', training -> 'history' ->> 'time');
    IF time_column IS NULL THEN
        RAISE EXCEPTION 'fraud_retrain: which column holds each row''s time?' USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Set "time_column" (a model with history features uses its "time").';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute AS a WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped
                      AND a.attname = time_column
                      AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)) THEN
        RAISE EXCEPTION 'fraud_retrain: % has no timestamptz, timestamp or date column "%"', source, time_column
            USING ERRCODE = 'undefined_column';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute AS a WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped
                      AND a.attname = label) THEN
        RAISE EXCEPTION 'fraud_retrain: % has no label column "%"', source, label USING ERRCODE = 'undefined_column';
    END IF;
    eval_from := as_of - evaluation_window;
    train_from := eval_from - train_window;
    -- The rows as training and evaluation see them: every row stays (history features read the
    -- past), the label kept only on rows of the training window and of the evaluation window,
    -- and pg_fraud_held_out marking the evaluation window.
    SELECT pg_catalog.string_agg(format('t.%I', a.attname), ', ' ORDER BY a.attnum) INTO columns
      FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> label AND a.attname <> 'pg_fraud_held_out';
    IF pg_catalog.to_regclass('pg_temp.fraud_retrain_rows') IS NOT NULL THEN
        DROP VIEW pg_temp.fraud_retrain_rows;
    END IF;
    EXECUTE format('CREATE TEMPORARY VIEW fraud_retrain_rows AS SELECT %s, '
                   'CASE WHEN t.%I >= %L AND t.%I < %L THEN t.%I END AS %I, '
                   'COALESCE(t.%I >= %L AND t.%I < %L, false) AS pg_fraud_held_out FROM %s AS t',
                   columns, time_column, COALESCE(train_from, '-infinity'::timestamptz), time_column, as_of, label, label,
                   time_column, eval_from, time_column, as_of, source);
    candidate := @extschema@.train_fraud_model('pg_temp.fraud_retrain_rows'::regclass, label, model,
        training || '{"holdout_column": "pg_fraud_held_out", "activate": false}'::jsonb);
    -- It reads history from the source, not from the view it was trained through.
    UPDATE @extschema@.fraud_models AS m
       SET document = CASE WHEN m.document ? 'history'
                           THEN pg_catalog.jsonb_set(m.document, '{history,relation}', pg_catalog.to_jsonb(fraud_retrain.source::text))
                           ELSE m.document END
                      || pg_catalog.jsonb_build_object('training', (m.document -> 'training')
                             || pg_catalog.jsonb_build_object('source', fraud_retrain.source::text, 'retrained',
                                    pg_catalog.jsonb_build_object('training_from', train_from, 'evaluation_from', eval_from,
                                                                  'evaluation_to', as_of)))
     WHERE m.name OPERATOR(pg_catalog.=) model AND m.version = candidate.version
    RETURNING * INTO candidate;
    -- Both versions on the same held-out rows, by the same evaluation.
    FOREACH evaluated IN ARRAY ARRAY[candidate.version, active.version] LOOP
        EXECUTE format('SELECT @extschema@.fraud_monitor(t, %L, %L, %L) FROM %s AS t WHERE t.pg_fraud_held_out',
                       model, label, pg_catalog.jsonb_build_object('mode', 'evaluate', 'version', evaluated),
                       @extschema@.fraud_history_source('pg_temp.fraud_retrain_rows'::regclass, model, evaluated))
          INTO figures;
        IF evaluated = candidate.version THEN
            candidate_figures := figures;
        ELSE
            active_figures := figures;
        END IF;
    END LOOP;
    DROP VIEW pg_temp.fraud_retrain_rows;
    decision.by_role := @extschema@.fraud_session_role();
    decision.model := model;
    decision.source := source::text;
    decision.active_version := active.version;
    decision.candidate_version := candidate.version;
    decision.metric := metric;
    decision.candidate_value := (candidate_figures ->> metric)::float8;
    decision.active_value := (active_figures ->> metric)::float8;
    decision.margin := margin;
    decision.training_from := train_from;
    decision.evaluation_from := eval_from;
    decision.evaluation_to := as_of;
    decision.evaluation_rows := COALESCE((candidate_figures ->> 'rows')::bigint, 0);
    decision.evaluation_positives := COALESCE((candidate_figures ->> 'positives')::bigint, 0);
    IF decision.candidate_value IS NULL OR decision.active_value IS NULL THEN
        decision.promoted := false;
        decision.reason := format('not measurable: the %s labelled rows of the evaluation window hold %s fraudulent ones',
                                  decision.evaluation_rows, decision.evaluation_positives);
    ELSIF decision.candidate_value >= decision.active_value + margin THEN
        decision.promoted := true;
        decision.reason := format('%s %s against %s: better by at least %s', metric,
                                  round(decision.candidate_value::numeric, 6), round(decision.active_value::numeric, 6), margin);
        PERFORM @extschema@.fraud_activate_model(model, candidate.version);
    ELSE
        decision.promoted := false;
        decision.reason := format('%s %s against %s: not better by %s', metric,
                                  round(decision.candidate_value::numeric, 6), round(decision.active_value::numeric, 6), margin);
    END IF;
    INSERT INTO @extschema@.fraud_retraining AS r (by_role, model, source, active_version, candidate_version, metric,
                active_value, candidate_value, margin, training_from, evaluation_from, evaluation_to, evaluation_rows,
                evaluation_positives, promoted, reason)
    VALUES (decision.by_role, decision.model, decision.source, decision.active_version, decision.candidate_version,
            decision.metric, decision.active_value, decision.candidate_value, decision.margin, decision.training_from,
            decision.evaluation_from, decision.evaluation_to, decision.evaluation_rows, decision.evaluation_positives,
            decision.promoted, decision.reason)
    RETURNING * INTO decision;
    RETURN decision;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_retrain(text, regclass, jsonb) IS
    'Trains a candidate version on the recent labelled rows, evaluates it and the active version on the same later held-out rows, activates it only when better by a margin, and records the decision in fraud_retraining';
REVOKE ALL ON FUNCTION @extschema@.fraud_retrain(text, regclass, jsonb) FROM PUBLIC;

-- 0.3.0: evaluation and threshold choice with the recorded outcomes as the label
-- (label => 'fraud_outcomes': the rows of the table that have an outcome).
CREATE FUNCTION @extschema@.fraud_labelled_source(source regclass, label name, model text)
    RETURNS text
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    base text := @extschema@.fraud_history_source(source, model);
BEGIN
    IF label IS DISTINCT FROM 'fraud_outcomes' OR EXISTS (SELECT FROM pg_attribute AS a
            WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = 'fraud_outcomes') THEN
        RETURN base;
    END IF;
    -- The outcomes are filtered by table in a subquery of their own: on Citus it runs on the
    -- coordinator (a regclass compared on a worker would be the worker's OID).
    RETURN format('(SELECT h.*, o.outcome AS fraud_outcomes FROM %s AS h JOIN (SELECT x.row_key, x.outcome '
                  'FROM @extschema@.fraud_outcomes AS x WHERE x.tab OPERATOR(pg_catalog.=) %L::regclass) AS o '
                  'ON o.row_key OPERATOR(pg_catalog.=) (h.%I)::text)',
                  base, source, @extschema@.fraud_key_column(source));
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_labelled_source(regclass, name, text) IS
    'pg_fraud internal: the FROM item of an evaluation: the source through its history, joined with its recorded outcomes when the label is ''fraud_outcomes''';


-- 0.3.0: the commands that run a pass over the shards of a Citus table, for Citus's
-- master_run_on_worker: one per node holding shards, each the format() of `command` with the
-- spec (%1$L), the node's shards as one relation (%2$s: the shard's name when it holds one,
-- else a UNION ALL of them, which the node's planner may scan in parallel) and their names as
-- quoted literals (%3$s). Each shard is read at its first active placement, as
-- run_command_on_shards does; but that opens a new connection per shard and per call, so a
-- pass would pay one for each of 32 shards, not one for each of 2 workers.
CREATE FUNCTION @extschema@.fraud_node_commands(source regclass, command text, spec text,
    OUT nodes text[], OUT ports integer[], OUT commands text[])
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Citus's catalogs exist only with Citus: read through EXECUTE.
    EXECUTE 'SELECT pg_catalog.array_agg(g.nodename), pg_catalog.array_agg(g.nodeport),
                    pg_catalog.array_agg(pg_catalog.format($2, $3, g.relation, g.shards))
               FROM (SELECT s.nodename, s.nodeport,
                            CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.=) 1 THEN pg_catalog.min(s.shard)
                                 ELSE ''('' OPERATOR(pg_catalog.||) pg_catalog.string_agg(''SELECT * FROM ''
                                      OPERATOR(pg_catalog.||) s.shard, '' UNION ALL '' ORDER BY s.shardid)
                                      OPERATOR(pg_catalog.||) '')'' END AS relation,
                            pg_catalog.string_agg(pg_catalog.quote_literal(s.shard), '','' ORDER BY s.shardid) AS shards
                       FROM (SELECT DISTINCT ON (ds.shardid) ds.shardid, n.nodename, n.nodeport,
                                    pg_catalog.shard_name(ds.logicalrelid, ds.shardid) AS shard
                               FROM pg_catalog.pg_dist_shard AS ds
                               JOIN pg_catalog.pg_dist_placement AS p ON p.shardid OPERATOR(pg_catalog.=) ds.shardid
                               JOIN pg_catalog.pg_dist_node AS n ON n.groupid OPERATOR(pg_catalog.=) p.groupid
                              WHERE ds.logicalrelid OPERATOR(pg_catalog.=) $1 AND p.shardstate OPERATOR(pg_catalog.=) 1
                                AND n.isactive
                              ORDER BY ds.shardid, p.placementid) AS s
                      GROUP BY s.nodename, s.nodeport) AS g'
       INTO nodes, ports, commands USING source, command, spec;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_node_commands(regclass, text, text) IS
    'pg_fraud internal: one command per Citus node over its shards of a table, for master_run_on_worker';

CREATE FUNCTION @extschema@.fraud_history_node_source(source regclass, model text) RETURNS text
    LANGUAGE C STABLE AS 'MODULE_PATHNAME', 'fraud_history_node_source';
COMMENT ON FUNCTION @extschema@.fraud_history_node_source(regclass, text) IS
    'pg_fraud internal: for a history model over a Citus table whose entities are each on one shard, its featurising query as a fraud_node_commands template (else NULL)';

-- 0.3.0: training over the shards of a Citus table merges the states each node's pass
-- returned (master_run_on_worker gives each as the bytea's text).
CREATE FUNCTION @extschema@.fraud_train_merge_step(internal, boolean, text) RETURNS internal
    LANGUAGE C PARALLEL SAFE AS 'MODULE_PATHNAME', 'fraud_train_merge_step';
COMMENT ON FUNCTION @extschema@.fraud_train_merge_step(internal, boolean, text) IS
    'pg_fraud internal: transition of fraud_train_merge (one node''s state merged in)';
CREATE AGGREGATE @extschema@.fraud_train_merge(boolean, text) (
    SFUNC = @extschema@.fraud_train_merge_step,
    STYPE = internal,
    FINALFUNC = @extschema@.fraud_train_pass_final
);
COMMENT ON AGGREGATE @extschema@.fraud_train_merge(boolean, text) IS
    'pg_fraud internal: the training pass of a Citus table, merged from the states of its shards';

-- The active versions of 0.2.0 start the timeline when they were created.
INSERT INTO @extschema@.fraud_model_events (at, by_role, model, version, event, new_threshold)
SELECT m.created_at, m.created_by, m.name, m.version, 'activated', m.threshold FROM @extschema@.fraud_models AS m WHERE m.active;

-- Attachments made by 0.2.0 get the 0.3.0 triggers: alerts from an AFTER trigger, updates scored.
SELECT @extschema@.fraud_install_triggers(a.tab) FROM @extschema@.fraud_attachments AS a
 WHERE EXISTS (SELECT FROM pg_catalog.pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) a.tab);

-- 0.3.0: on a Citus cluster, fraud_models and fraud_rules become reference tables, so that
-- every node holds the current models and rules, changed in the coordinator's transaction.
CREATE FUNCTION @extschema@.fraud_distribute_models() RETURNS text[]
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text;
    made text[] := '{}';
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') THEN
        RAISE EXCEPTION 'fraud_distribute_models needs Citus' USING ERRCODE = 'feature_not_supported',
            HINT = 'Without Citus, scoring reads the models where they are; nothing needs distributing.';
    END IF;
    -- The tables' triggers (cache invalidation, the guards, the audit) go to every placement.
    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    FOREACH t IN ARRAY ARRAY['fraud_models', 'fraud_rules'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_dist_partition AS p
                        WHERE p.logicalrelid OPERATOR(pg_catalog.=) format('@extschema@.%I', t)::regclass) THEN
            EXECUTE 'SELECT pg_catalog.create_reference_table($1)' USING format('@extschema@.%I', t)::regclass;
            -- The coordinator's table keeps no stale copy (its TRUNCATE guard would empty the
            -- distributed fraud_rules: the local truncation runs without triggers).
            PERFORM pg_catalog.set_config('session_replication_role', 'replica', true);
            EXECUTE 'SELECT pg_catalog.truncate_local_data_after_distributing_table($1)'
                USING format('@extschema@.%I', t)::regclass;
            PERFORM pg_catalog.set_config('session_replication_role', 'origin', true);
            made := made || t;
        END IF;
    END LOOP;
    -- Nodes added since the tables were distributed get their placements now.
    EXECUTE 'SELECT pg_catalog.replicate_reference_tables(''block_writes'')';
    RETURN made;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_distribute_models() IS
    'pg_fraud on Citus: makes fraud_models and fraud_rules reference tables (every node scores with the current models and rules); run it on the coordinator, again after adding nodes';
REVOKE ALL ON FUNCTION @extschema@.fraud_distribute_models() FROM PUBLIC;


-- 0.3.0: the alerts of attached Citus tables, queued on their shards, sent as NOTIFYs from the
-- coordinator: each outbox is emptied (DELETE ... RETURNING, in Citus's distributed
-- transaction) and its alerts notified in queue order, at this transaction's commit. An alert
-- is sent once: a failed or rolled-back relay leaves it queued for the next.
CREATE FUNCTION @extschema@.fraud_relay_alerts() RETURNS bigint
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    outbox text;
    alert record;
    sent bigint := 0;
BEGIN
    FOR outbox IN SELECT DISTINCT x.options ->> 'outbox' FROM @extschema@.fraud_attachments AS x
                   WHERE COALESCE(x.options ->> 'outbox', '') OPERATOR(pg_catalog.<>) ''
                  UNION
                  SELECT d.options ->> 'outbox' FROM @extschema@.fraud_detached_tables AS d
                   WHERE COALESCE(d.options ->> 'outbox', '') OPERATOR(pg_catalog.<>) '' LOOP
        CONTINUE WHEN pg_catalog.to_regclass(outbox) IS NULL;
        FOR alert IN EXECUTE format('WITH d AS (DELETE FROM %s RETURNING channel, payload, queued_at) '
                                    'SELECT d.channel, d.payload FROM d ORDER BY d.queued_at', outbox) LOOP
            PERFORM pg_catalog.pg_notify(alert.channel, alert.payload);
            sent := sent OPERATOR(pg_catalog.+) 1;
        END LOOP;
    END LOOP;
    RETURN sent;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_relay_alerts() IS
    'pg_fraud on Citus: sends the alerts queued on the shards of attached distributed tables as NOTIFYs on the coordinator; returns how many';
REVOKE ALL ON FUNCTION @extschema@.fraud_relay_alerts() FROM PUBLIC;

-- 0.3.0: monitoring over the shards of a Citus table. Each shard's pass returns its
-- serialised counts (fraud_monitor_partial), which the coordinator merges
-- (fraud_monitor_merge), as training's passes do: counts cross the network, not rows.
CREATE FUNCTION @extschema@.fraud_monitor_merge_step(internal, boolean, text) RETURNS internal
    LANGUAGE C PARALLEL SAFE AS 'MODULE_PATHNAME', 'fraud_monitor_merge_step';
COMMENT ON FUNCTION @extschema@.fraud_monitor_merge_step(internal, boolean, text) IS
    'pg_fraud internal: transition of fraud_monitor_merge (one shard''s counts merged in)';
CREATE AGGREGATE @extschema@.fraud_monitor_partial(anyelement, text, text, jsonb) (
    SFUNC = @extschema@.fraud_monitor_step,
    STYPE = internal,
    FINALFUNC = @extschema@.fraud_monitor_serialize
);
COMMENT ON AGGREGATE @extschema@.fraud_monitor_partial(anyelement, text, text, jsonb) IS
    'pg_fraud internal: fraud_monitor''s counts over one shard, serialised';
CREATE AGGREGATE @extschema@.fraud_monitor_merge(boolean, text) (
    SFUNC = @extschema@.fraud_monitor_merge_step,
    STYPE = internal,
    FINALFUNC = @extschema@.fraud_monitor_final
);
COMMENT ON AGGREGATE @extschema@.fraud_monitor_merge(boolean, text) IS
    'pg_fraud internal: fraud_monitor over a Citus table, merged from the counts of its shards';

-- Whether a Citus table's recorded outcomes can be sent each to the node of its row's shard:
-- the table is hash-distributed by its key column (a distributed table's single-column primary
-- key must be its distribution column) or has one shard (a reference table).
CREATE FUNCTION @extschema@.fraud_outcomes_by_shard(source regclass) RETURNS boolean
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    by_shard boolean;
BEGIN
    EXECUTE 'SELECT p.partmethod OPERATOR(pg_catalog.=) ''n''
                    OR pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) OPERATOR(pg_catalog.=) $2
               FROM pg_catalog.pg_dist_partition AS p WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1'
       INTO by_shard USING source, @extschema@.fraud_key_column(source)::text;
    RETURN COALESCE(by_shard, false);
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_outcomes_by_shard(regclass) IS
    'pg_fraud internal: whether the recorded outcomes of a Citus table can go each to its row''s shard';

-- The recorded outcomes of a Citus table's rows, per node: the node holding the first active
-- placement of the row's shard (as fraud_node_commands reads it), the keys and the outcomes.
CREATE FUNCTION @extschema@.fraud_node_outcomes(source regclass, OUT node text, OUT port integer,
                                                OUT keys text[], OUT outcomes boolean[])
    RETURNS SETOF record
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE
        'SELECT n.nodename::text, n.nodeport, pg_catalog.array_agg(o.row_key ORDER BY o.row_key),
                pg_catalog.array_agg(o.outcome ORDER BY o.row_key)
           FROM @extschema@.fraud_outcomes AS o
           JOIN (SELECT DISTINCT ON (ds.shardid) ds.shardid, n.nodename, n.nodeport
                   FROM pg_catalog.pg_dist_shard AS ds
                   JOIN pg_catalog.pg_dist_placement AS p ON p.shardid OPERATOR(pg_catalog.=) ds.shardid
                   JOIN pg_catalog.pg_dist_node AS n ON n.groupid OPERATOR(pg_catalog.=) p.groupid
                  WHERE ds.logicalrelid OPERATOR(pg_catalog.=) $1 AND p.shardstate OPERATOR(pg_catalog.=) 1 AND n.isactive
                  ORDER BY ds.shardid, p.placementid) AS n
             ON n.shardid OPERATOR(pg_catalog.=) pg_catalog.get_shard_id_for_distribution_column($1, o.row_key)
          WHERE o.tab OPERATOR(pg_catalog.=) $1
          GROUP BY n.nodename, n.nodeport'
    USING source;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_node_outcomes(regclass) IS
    'pg_fraud internal: the recorded outcomes of a Citus table''s rows, grouped by the node of their shard';

-- The monitoring pass of a request over a FROM item: over the shards when every node holds the
-- models (fraud_distribute_models) and the item is a Citus table itself, or its history query
-- when each entity's rows are on one shard (fraud_history_node_source), either joined with the
-- table's recorded outcomes (label => 'fraud_outcomes': each node is sent the outcomes of its
-- own shards' rows, fraud_node_outcomes); another query over a Citus table (history by another
-- column) is first copied into a temporary table, as Citus cannot gather the whole rows of a
-- query (an anonymous record type); else fraud_monitor over the rows. (VOLATILE: it may create
-- that table.)
CREATE FUNCTION @extschema@.fraud_monitor_over(source regclass, from_item text, model text, label text, request jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result jsonb;
    on_shards boolean := false;
    citus_table boolean := false;
    base text := @extschema@.fraud_history_source(source, model);
    with_outcomes boolean := from_item OPERATOR(pg_catalog.<>) base;  -- fraud_labelled_source joined them
    node_item text := '%2$s';  -- what each node reads its shards through (fraud_node_commands)
    history_item text;
    partial text;
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') THEN
        EXECUTE 'SELECT pg_catalog.count(*) OPERATOR(pg_catalog.=) 2 FROM pg_catalog.pg_dist_partition AS p
                  WHERE p.logicalrelid OPERATOR(pg_catalog.=) ANY ($1) AND p.partmethod OPERATOR(pg_catalog.=) ANY (''{h,n}'')'
           INTO on_shards USING ARRAY[source, '@extschema@.fraud_models'::regclass];
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition AS p WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1)'
           INTO citus_table USING source;
        IF on_shards AND base OPERATOR(pg_catalog.<>) source::text THEN
            -- A history model's rows with their history: on the nodes when each entity's rows
            -- are on one shard, else (below) gathered.
            history_item := @extschema@.fraud_history_node_source(source, model);
            on_shards := history_item IS NOT NULL;
            node_item := COALESCE(history_item, node_item);
        END IF;
        IF on_shards AND with_outcomes THEN
            on_shards := label OPERATOR(pg_catalog.=) 'fraud_outcomes' AND @extschema@.fraud_outcomes_by_shard(source);
        END IF;
    END IF;
    IF citus_table AND NOT on_shards AND from_item OPERATOR(pg_catalog.<>) source::text THEN
        EXECUTE format('CREATE TEMPORARY TABLE pg_fraud_monitor_rows ON COMMIT DROP AS SELECT * FROM %s AS t', from_item);
        EXECUTE format('SELECT @extschema@.fraud_monitor(t, %L, %L, %L) FROM pg_temp.pg_fraud_monitor_rows AS t',
                       model, label, request) INTO result;
        DROP TABLE pg_temp.pg_fraud_monitor_rows;
    ELSIF on_shards THEN
        -- One command per node over its shards (fraud_node_commands): every % but the
        -- relation's is doubled. With outcomes, each node's command ends with its own.
        partial := pg_catalog.replace(format('SELECT @extschema@.fraud_monitor_partial(t, %L, %L, %L) FROM ',
                                             model, label, request), '%', '%%');
        IF with_outcomes THEN
            partial := partial OPERATOR(pg_catalog.||) '(SELECT h.*, o.outcome AS fraud_outcomes FROM '
                       OPERATOR(pg_catalog.||) node_item OPERATOR(pg_catalog.||) ' AS h JOIN ROWS FROM (pg_catalog.unnest(';
        ELSE
            partial := partial OPERATOR(pg_catalog.||) node_item OPERATOR(pg_catalog.||) ' AS t';
        END IF;
        EXECUTE 'SELECT @extschema@.fraud_monitor_merge(r.success, r.result)
                   FROM (SELECT pg_catalog.array_agg(c.node ORDER BY c.i) AS nodes, pg_catalog.array_agg(c.port ORDER BY c.i) AS ports,
                                pg_catalog.array_agg(CASE WHEN $3 THEN c.command OPERATOR(pg_catalog.||)
                                    pg_catalog.format(''%L::text[]), pg_catalog.unnest(%L::boolean[])) AS o(row_key, outcome) ON o.row_key OPERATOR(pg_catalog.=) (h.%I)::text) AS t'',
                                                      COALESCE(o.keys, ''{}''), COALESCE(o.outcomes, ''{}''), $4)
                                    ELSE c.command END ORDER BY c.i) AS commands
                           FROM @extschema@.fraud_node_commands($1, $2, NULL) AS a,
                                ROWS FROM (pg_catalog.unnest(a.nodes), pg_catalog.unnest(a.ports), pg_catalog.unnest(a.commands))
                                    WITH ORDINALITY AS c(node, port, command, i)
                           LEFT JOIN (SELECT * FROM @extschema@.fraud_node_outcomes($1) AS n WHERE $3) AS o
                                  ON o.node OPERATOR(pg_catalog.=) c.node AND o.port OPERATOR(pg_catalog.=) c.port) AS x,
                        pg_catalog.master_run_on_worker(x.nodes, x.ports, x.commands, true) AS r'
           INTO result USING source, partial, with_outcomes, CASE WHEN with_outcomes THEN @extschema@.fraud_key_column(source) END;
    ELSE
        EXECUTE format('SELECT @extschema@.fraud_monitor(t, %L, %L, %L) FROM %s AS t', model, label, request, from_item)
           INTO result;
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_monitor_over(regclass, text, text, text, jsonb) IS
    'pg_fraud internal: a monitoring request over a source: over the shards of a Citus table, else over its rows';
