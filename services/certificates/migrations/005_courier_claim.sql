-- The courier's claim on a certificate whose mail it is handing over: held for a lease, never
-- across a transaction (see sql.hpp).
ALTER TABLE certificates ADD COLUMN courier_claimed_until timestamptz;
