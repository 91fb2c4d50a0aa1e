-- pg_fraud 0.1.0 -> 0.2.0: training passes take the columns as arguments.
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
