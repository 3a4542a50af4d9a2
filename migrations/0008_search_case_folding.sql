-- Search folds case by Unicode's rules whatever the database's LC_CTYPE.
-- The 'simple' configuration lowercases with the database's ctype, so a
-- cluster made with --no-locale (C) folded only ASCII: `CAFÉ` did not find
-- `café`. Lowercasing with the ICU root collation first makes the stored
-- vectors and the queries (gateway/src/db/search.rs lowercases them the same
-- way) independent of how the cluster was made.
ALTER TABLE messages DROP COLUMN search;
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    CASE WHEN op = 'message'
        THEN to_tsvector('simple'::regconfig, lower(body COLLATE "und-x-icu"))
    END
) STORED;
CREATE INDEX messages_search_idx ON messages USING gin (search);
