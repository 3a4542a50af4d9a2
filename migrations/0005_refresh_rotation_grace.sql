-- Refresh tokens: "rotated" (exchanged for a successor) is no longer the same
-- as "revoked" (the login ended: logout, or a token reused after the grace
-- window). A token rotated moments ago may be presented again (two racing
-- refreshes, a retry after a lost answer) and gets another successor; presented
-- later, its whole family is revoked.
ALTER TABLE refresh_tokens ADD COLUMN rotated_at timestamptz;

-- Tokens that were revoked by a rotation while their family lives on were rotated.
UPDATE refresh_tokens t
SET rotated_at = t.revoked_at, revoked_at = NULL
WHERE t.revoked_at IS NOT NULL
  AND EXISTS (SELECT 1 FROM refresh_tokens live
              WHERE live.family_id = t.family_id AND live.revoked_at IS NULL);
