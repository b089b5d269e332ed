-- 0009_credentials_denied.sql: a credential check that stops what follows it.
--
-- Applied once by `blogposter migrate`, inside a transaction the migrator
-- opens and commits (so no BEGIN/COMMIT here).
--
-- The check of a request's credential (is the user still there, active,
-- the token not revoked) is sent in one round trip with the request's
-- statements, its COMMIT included. It must then fail, not just find no
-- row, when the credential is no longer good: the failure aborts the
-- statements after it and the COMMIT, so nothing is written for a
-- credential that was revoked. The application reads SQLSTATE 28000 from
-- the check as "the credentials are no longer valid" (401).

CREATE FUNCTION bp_credentials_denied() RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION 'the credentials are no longer valid'
        USING ERRCODE = 'invalid_authorization_specification';
END
$$;

COMMENT ON FUNCTION bp_credentials_denied() IS
    'Raises SQLSTATE 28000: what a credential check returns when it finds no user.';
