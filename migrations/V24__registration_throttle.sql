-- Registrations refused because their email or phone is taken are throttled per client address.
--
-- Such a refusal (`EMAIL_TAKEN`, `PHONE_TAKEN`) tells whether an address belongs to a user, so
-- anyone could test a list of addresses one registration at a time. Core now counts each client
-- address's refusals in `login_throttle`, under a scope of their own (the key is the address, an
-- IPv6 client by its /64), and past a limit within a window refuses every registration from that
-- address, taken or not, until a lock ends (docs/OPERATIONS.md, "Registrations throttled (V24)").
-- Only the check on the scope's name changes: no row is rewritten, and the previous build, which
-- never writes this scope, works on the new schema.

ALTER TABLE login_throttle DROP CONSTRAINT login_throttle_scope_known;
ALTER TABLE login_throttle ADD CONSTRAINT login_throttle_scope_known
    CHECK (scope IN ('account', 'address', 'contact_lookup', 'registration'));
