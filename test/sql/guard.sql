-- The C++/PostgreSQL boundary: a C++ exception becomes an error with the mapped SQLSTATE,
-- the C++ objects are freed, and the session goes on.
CREATE FUNCTION fraud_debug_throw(kind text) RETURNS text
    LANGUAGE C STRICT AS 'pg_fraud', 'fraud_debug_throw';
\i test/helpers.psql

SELECT kind, pg_temp.outcome(format('SELECT fraud_debug_throw(%L)', kind))
  FROM unnest(ARRAY['bad_alloc', 'runtime_error', 'invalid_argument', 'int', 'pg_error', 'none']) AS kind;

-- Errors raised directly (not through a savepoint) leave the session usable.
SELECT fraud_debug_throw('bad_alloc');
SELECT fraud_debug_throw('pg_error');
SELECT fraud_debug_throw('none');

-- Inside a transaction: the error aborts it, a savepoint recovers it.
BEGIN;
SAVEPOINT s;
SELECT fraud_debug_throw('runtime_error');
ROLLBACK TO SAVEPOINT s;
SELECT fraud_debug_throw('none');
COMMIT;

-- Many errors in a loop do not leak or corrupt state.
SELECT count(*) FILTER (WHERE r LIKE '53200%') AS out_of_memory_errors
  FROM (SELECT pg_temp.outcome('SELECT fraud_debug_throw(''bad_alloc'')') AS r FROM generate_series(1, 1000)) s;
DROP FUNCTION fraud_debug_throw(text);
