-- Accounts that belong to a service, not a person: the room bot. Such an
-- account has no usable password (its hash is not a PHC string, so no login
-- can ever match it) and is created by the bot itself on start-up. The bot
-- refuses to act as an account whose name a person registered first.
ALTER TABLE users ADD COLUMN is_bot boolean NOT NULL DEFAULT false;
