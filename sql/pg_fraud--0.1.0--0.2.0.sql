-- pg_fraud 0.1.0 -> 0.2.0: training passes take the columns as arguments; fraud_attach checks
-- the JSON types of its options and its time_column; evaluation, threshold choice and drift check
-- their source, label and model first.
\echo Use "ALTER EXTENSION pg_fraud UPDATE TO '0.2.0'" to load this file. \quit

-- The same pass with the columns as arguments (0.2.0): no whole-row datum is built and taken
-- apart per row. train_fraud_model uses it when the source's columns fit in a call.
CREATE FUNCTION @extschema@.fraud_train_columns_step(internal, text, VARIADIC "any") RETURNS internal
    LANGUAGE C PARALLEL SAFE AS 'MODULE_PATHNAME', 'fraud_train_columns_step';
COMMENT ON FUNCTION @extschema@.fraud_train_columns_step(internal, text, VARIADIC "any") IS
    'pg_fraud internal: transition function of fraud_train_columns';
CREATE AGGREGATE @extschema@.fraud_train_columns(text, VARIADIC "any") (
    SFUNC = @extschema@.fraud_train_columns_step,
    STYPE = internal,
    COMBINEFUNC = @extschema@.fraud_train_pass_combine,
    SERIALFUNC = @extschema@.fraud_train_pass_serialize,
    DESERIALFUNC = @extschema@.fraud_train_pass_deserialize,
    FINALFUNC = @extschema@.fraud_train_pass_final,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.fraud_train_columns(text, VARIADIC "any") IS
    'pg_fraud internal: one training pass over rows given as columns (spec, feature columns..., label), used by train_fraud_model';

-- fraud_attach: option values must be strings (add_columns a boolean); time_column must be a
-- timestamp or date column of the table.
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
     WHERE k NOT IN ('flag_column', 'score_column', 'version_column', 'rules_column', 'notify', 'add_columns', 'time_column');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown fraud_attach option: %', unknown USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Options: flag_column, score_column, version_column, rules_column, notify, add_columns, time_column.';
    END IF;
    -- 0.2.0: option values are checked for their JSON type, and time_column for its column.
    SELECT string_agg(k, ', ') INTO unknown FROM jsonb_each(options) AS e(k, v)
     WHERE k <> 'add_columns' AND jsonb_typeof(v) NOT IN ('string', 'null');
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'fraud_attach options must be strings (column and channel names): %', unknown
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(options -> 'add_columns') NOT IN ('boolean', 'null') THEN
        RAISE EXCEPTION 'fraud_attach option add_columns must be true or false' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    add_columns := COALESCE((options ->> 'add_columns')::boolean, false);
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
       AND NOT EXISTS (SELECT FROM pg_attribute AS a
                        WHERE a.attrelid = tab AND a.attnum > 0 AND NOT a.attisdropped
                          AND lower(a.attname) OPERATOR(pg_catalog.=) lower(f ->> 'name'));
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'table % has no column for the features: %', tab, missing
            USING ERRCODE = 'undefined_column';
    END IF;

    FOR wanted IN SELECT * FROM (VALUES (flag_column, 'boolean', ARRAY['boolean']),
                                        (score_column, 'double precision', ARRAY['double precision', 'real', 'numeric']),
                                        (version_column, 'integer', ARRAY['integer', 'bigint']),
                                        (rules_column, 'text[]', ARRAY['text[]'])) AS w(name, create_as, accepted)
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

    IF EXISTS (SELECT FROM pg_trigger AS t WHERE t.tgrelid = tab AND t.tgname = 'fraud_flag' AND NOT t.tgisinternal) THEN
        EXECUTE format('DROP TRIGGER fraud_flag ON %s', tab);
    END IF;
    EXECUTE format('CREATE TRIGGER fraud_flag BEFORE INSERT ON %s FOR EACH ROW '
                   'EXECUTE FUNCTION @extschema@.fraud_flag_trigger(%L, %L, %L, %L, %L, %L)',
                   tab, model, flag_column, score_column, version_column, rules_column, channel);

    -- The time column of the BI views: as given, else the first timestamp column, else none.
    INSERT INTO @extschema@.fraud_attachments AS a
        (tab, model, flag_column, score_column, version_column, rules_column, time_column, notify)
    VALUES (tab, model, flag_column, score_column, version_column, rules_column,
            COALESCE(options ->> 'time_column',
                     (SELECT a.attname::text FROM pg_attribute AS a
                       WHERE a.attrelid = tab AND a.attnum > 0 AND NOT a.attisdropped
                         AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
                       ORDER BY a.attnum LIMIT 1), ''),
            channel)
    ON CONFLICT ON CONSTRAINT fraud_attachments_pkey DO UPDATE SET model = EXCLUDED.model, flag_column = EXCLUDED.flag_column,
        score_column = EXCLUDED.score_column, version_column = EXCLUDED.version_column,
        rules_column = EXCLUDED.rules_column, time_column = EXCLUDED.time_column,
        notify = EXCLUDED.notify, attached_at = pg_catalog.now();
END
$$;

-- 0.2.0: the sources of evaluation, threshold choice and drift are checked before any SQL
-- is built from them (a NULL or dangling regclass made a syntax error, a missing label went
-- unnoticed on an empty table).
CREATE FUNCTION @extschema@.fraud_check_source(source regclass, label name, model text)
    RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF label IS NULL THEN
        RAISE EXCEPTION 'the label column must not be NULL' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF model IS NULL THEN
        RAISE EXCEPTION 'the model name must not be NULL' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.fraud_models AS m WHERE m.name OPERATOR(pg_catalog.=) model AND m.active) THEN
        RAISE EXCEPTION 'model "%" does not exist or has no active version', model USING ERRCODE = 'undefined_object';
    END IF;
    IF source IS NULL OR NOT EXISTS (SELECT FROM pg_class AS c WHERE c.oid = source) THEN
        RAISE EXCEPTION 'the source must be an existing table or view' USING ERRCODE = 'undefined_table';
    END IF;
    IF label <> '' AND NOT EXISTS (SELECT FROM pg_attribute AS a
                                          WHERE a.attrelid = source AND a.attnum > 0 AND NOT a.attisdropped
                                            AND a.attname OPERATOR(pg_catalog.=) label) THEN
        RAISE EXCEPTION 'label column "%" does not exist in %', label, source USING ERRCODE = 'undefined_column';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.fraud_check_source(regclass, name, text) IS
    'pg_fraud internal: checks the source, label ('''' for none) and model name of fraud_evaluate, fraud_choose_threshold and fraud_drift';

CREATE OR REPLACE FUNCTION @extschema@.fraud_evaluate(source regclass, label name DEFAULT 'is_fraud', model text DEFAULT 'default')
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result jsonb;
BEGIN
    PERFORM @extschema@.fraud_check_source(source, label, model);
    EXECUTE format('SELECT @extschema@.fraud_monitor(t, %L, %L, %L) FROM %s AS t',
                   model, label, '{"mode": "evaluate"}', source) INTO result;
    IF result IS NULL THEN
        RAISE NOTICE 'fraud_evaluate: % has no rows', source;
        RETURN jsonb_build_object('rows', 0, 'positives', 0);
    END IF;
    IF result -> 'roc_auc' = 'null'::jsonb THEN
        RAISE NOTICE 'fraud_evaluate: % has no % rows: ROC and PR AUC are undefined (NULL)', source,
            CASE WHEN (result ->> 'positives')::int = 0 THEN 'fraudulent' ELSE 'legitimate' END;
    END IF;
    RETURN result;
END
$$;
CREATE OR REPLACE FUNCTION @extschema@.fraud_choose_threshold(source regclass, strategy jsonb, label name DEFAULT 'is_fraud',
                                                   model text DEFAULT 'default')
    RETURNS float8
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result jsonb;
BEGIN
    PERFORM @extschema@.fraud_check_source(source, label, model);
    EXECUTE format('SELECT @extschema@.fraud_monitor(t, %L, %L, %L) FROM %s AS t', model, label,
                   jsonb_build_object('mode', 'threshold', 'strategy', strategy), source) INTO result;
    RETURN (result #>> '{}')::float8;
END
$$;
CREATE OR REPLACE FUNCTION @extschema@.fraud_drift(source regclass, model text DEFAULT 'default')
    RETURNS TABLE(feature text, psi float8, band text)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result jsonb;
BEGIN
    PERFORM @extschema@.fraud_check_source(source, '', model);  -- drift reads no label
    EXECUTE format('SELECT @extschema@.fraud_monitor(t, %L, %L, %L) FROM %s AS t', model, '', '{"mode": "drift"}', source)
       INTO result;
    RETURN QUERY SELECT r.feature, r.psi, r.band
                   FROM jsonb_to_recordset(COALESCE(result, '[]')) AS r(feature text, psi float8, band text);
END
$$;
